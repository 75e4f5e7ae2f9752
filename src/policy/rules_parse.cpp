// parse_rules: the rule language's text to Rules (rules.h; docs/policy.md is the reference).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/raw.h"
#include "policy/rules.h"

namespace ninep::policy {

namespace {

struct ClassName {
  std::string_view name;
  std::vector<std::string_view> messages;
};

// What each operation class covers (docs/policy.md, "Operation classes").
const std::vector<ClassName>& classes() {
  static const std::vector<ClassName> table = {
      {"read", {"Tread", "Treadlink"}},
      {"write", {"Twrite"}},
      {"open", {"Tlopen"}},
      {"create", {"Tlcreate", "Tmkdir", "Tmknod", "Tsymlink", "Tlink"}},
      {"remove", {"Tunlinkat", "Tremove"}},
      {"rename", {"Trename", "Trenameat"}},
      {"setattr", {"Tsetattr"}},
      {"getattr", {"Tgetattr", "Tstatfs"}},
      {"xattr", {"Txattrwalk", "Txattrcreate"}},
      {"lock", {"Tlock", "Tgetlock"}},
      {"walk", {"Twalk"}},
      {"readdir", {"Treaddir"}},
      {"attach", {"Tattach"}},
  };
  return table;
}

struct FileTypeName {
  std::string_view name;
  std::uint32_t value;
};
constexpr FileTypeName kFileTypes[] = {
    {"reg", 0100000}, {"file", 0100000}, {"dir", 0040000},  {"lnk", 0120000},  {"symlink", 0120000},
    {"chr", 0020000}, {"blk", 0060000},  {"fifo", 0010000}, {"sock", 0140000},
};

struct FlagName {
  std::string_view name;
  std::uint32_t bits;
};
// 9P2000.L open flags (Linux values; O_SYNC as 9P2000.L sends it).
constexpr FlagName kFlags[] = {
    {"creat", 0100},        {"excl", 0200},         {"noctty", 0400},      {"trunc", 01000},
    {"append", 02000},      {"nonblock", 04000},    {"dsync", 010000},     {"direct", 040000},
    {"largefile", 0100000}, {"directory", 0200000}, {"nofollow", 0400000}, {"noatime", 01000000},
    {"cloexec", 02000000},  {"sync", 04000000},
};

struct Token {
  std::string_view text;
  std::size_t column;  // 1-based
};

class Parser {
 public:
  explicit Parser(std::size_t line) : line_(line) {}

  Result<void> error(std::size_t column, const std::string& message) const {
    return fail(EINVAL, fmt::format("line {}, column {}: {}", line_, column, message));
  }

  // One rule from its tokens (at least one).
  Result<Rule> rule(const std::vector<Token>& tokens) {
    Rule r;
    r.line = line_;
    std::size_t i = 0;
    const Token& action = tokens[i++];
    if (action.text == "allow") {
      r.verdict = kAllow;
    } else if (action.text == "log") {
      r.verdict = kLog;
    } else if (action.text == "kill") {
      r.verdict = kKill;
    } else if (action.text == "deny") {
      if (i == tokens.size())
        return unexpected(action.column + action.text.size(),
                          "'deny' needs an errno, e.g. 'deny EACCES'");
      const Token& e = tokens[i++];
      auto value = errno_of(e);
      if (!value) return std::unexpected(value.error());
      r.verdict = kErrno | static_cast<std::uint32_t>(*value);
    } else {
      return unexpected(action.column, fmt::format("unknown action '{}' (allow, log, deny ERRNO, "
                                                   "kill)",
                                                   action.text));
    }
    bool have_classes = false;
    std::vector<std::string_view> seen_keys;
    for (; i < tokens.size(); ++i) {
      const Token& t = tokens[i];
      const auto eq = t.text.find('=');
      if (eq == std::string_view::npos) {
        if (have_classes)
          return unexpected(t.column, fmt::format("operation classes given twice ('{}'); list "
                                                  "them once, separated by commas",
                                                  t.text));
        have_classes = true;
        if (auto ok = parse_classes(t, r); !ok) return std::unexpected(ok.error());
        continue;
      }
      const std::string_view key = t.text.substr(0, eq);
      const Token value{t.text.substr(eq + 1), t.column + eq + 1};
      if (std::find(seen_keys.begin(), seen_keys.end(), key) != seen_keys.end())
        return unexpected(t.column, fmt::format("'{}=' given twice in one rule; list the values "
                                                "once, separated by commas",
                                                key));
      seen_keys.push_back(key);
      if (auto ok = parse_matcher(key, t.column, value, r); !ok) return std::unexpected(ok.error());
    }
    return r;
  }

 private:
  std::unexpected<Error> unexpected(std::size_t column, const std::string& message) const {
    return std::unexpected(error(column, message).error());
  }

  Result<int> errno_of(const Token& t) const {
    if (auto v = errno_value(t.text)) return *v;
    std::uint32_t n = 0;
    if (number(t.text, n)) {
      if (n == 0 || n > 4095)
        return unexpected(t.column, fmt::format("errno {} out of range (1 to 4095)", t.text));
      return static_cast<int>(n);
    }
    return unexpected(t.column, fmt::format("unknown errno '{}' (a name such as EACCES or "
                                            "ENOENT, or a number)",
                                            t.text));
  }

  static bool number(std::string_view s, std::uint32_t& out) {
    if (s.empty() || s.size() > 10) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
  }

  // Splits `value` at commas, each part with its column; empty parts are errors.
  Result<std::vector<Token>> list(const Token& value) const {
    std::vector<Token> parts;
    std::size_t start = 0;
    while (true) {
      const auto comma = value.text.find(',', start);
      const auto end = comma == std::string_view::npos ? value.text.size() : comma;
      if (end == start)
        return unexpected(value.column + start,
                          "empty value (values are separated by single "
                          "commas, without spaces)");
      parts.push_back({value.text.substr(start, end - start), value.column + start});
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return parts;
  }

  Result<void> parse_classes(const Token& t, Rule& r) const {
    auto parts = list(t);
    if (!parts) return std::unexpected(parts.error());
    if (t.text == "all") return {};
    for (const Token& p : *parts) {
      if (p.text == "all") return error(p.column, "'all' stands alone (it means every request)");
      if (auto type = message_type(p.text)) {
        r.types.push_back(*type);
        continue;
      }
      const auto& table = classes();
      auto c = std::find_if(table.begin(), table.end(),
                            [&](const ClassName& n) { return n.name == p.text; });
      if (c == table.end())
        return error(p.column,
                     fmt::format("unknown operation class '{}' (read, write, open, create, remove, "
                                 "rename, setattr, getattr, xattr, lock, walk, readdir, attach, "
                                 "all, or a message name such as Tlopen)",
                                 p.text));
      for (std::string_view m : c->messages) r.types.push_back(*message_type(m));
    }
    std::sort(r.types.begin(), r.types.end());
    r.types.erase(std::unique(r.types.begin(), r.types.end()), r.types.end());
    return {};
  }

  Result<void> parse_matcher(std::string_view key, std::size_t key_column, const Token& value,
                             Rule& r) const {
    auto parts = list(value);
    if (!parts) return std::unexpected(parts.error());
    if (key == "name") {
      for (const Token& p : *parts) {
        auto pattern = name_pattern(p);
        if (!pattern) return std::unexpected(pattern.error());
        r.names.push_back(std::move(*pattern));
      }
    } else if (key == "path") {
      for (const Token& p : *parts) {
        auto dir = path(p);
        if (!dir) return std::unexpected(dir.error());
        r.paths.push_back(std::move(*dir));
      }
    } else if (key == "uid" || key == "gid" || key == "export") {
      auto& out = key == "uid" ? r.uids : key == "gid" ? r.gids : r.exports;
      for (const Token& p : *parts) {
        std::uint32_t n = 0;
        if (!number(p.text, n))
          return error(p.column, fmt::format("'{}' is not a number (0 to 4294967295)", p.text));
        out.push_back(n);
      }
    } else if (key == "type") {
      for (const Token& p : *parts) {
        auto t = std::find_if(std::begin(kFileTypes), std::end(kFileTypes),
                              [&](const FileTypeName& f) { return f.name == p.text; });
        if (t == std::end(kFileTypes))
          return error(p.column, fmt::format("unknown file type '{}' (reg, dir, lnk, chr, blk, "
                                             "fifo, sock)",
                                             p.text));
        r.file_types.push_back(t->value);
      }
    } else if (key == "flags") {
      r.has_flags = true;
      for (const Token& p : *parts) {
        if (p.text == "rdonly" || p.text == "wronly" || p.text == "rdwr") {
          r.access_modes.push_back(p.text == "rdonly" ? 0 : p.text == "wronly" ? 1 : 2);
          continue;
        }
        auto f = std::find_if(std::begin(kFlags), std::end(kFlags),
                              [&](const FlagName& n) { return n.name == p.text; });
        std::uint32_t bits = 0;
        if (f != std::end(kFlags)) {
          bits = f->bits;
        } else if (!number(p.text, bits) || bits == 0) {
          return error(p.column, fmt::format("unknown open flag '{}' (rdonly, wronly, rdwr, "
                                             "creat, excl, trunc, append, directory, ..., or a "
                                             "non-zero number of flag bits)",
                                             p.text));
        }
        r.flag_bits |= bits;
      }
    } else {
      return error(key_column, fmt::format("unknown matcher '{}=' (name, path, uid, gid, export, "
                                           "type, flags)",
                                           key));
    }
    auto dedupe = [](auto& v) {
      std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        if constexpr (std::is_same_v<std::decay_t<decltype(a)>, NamePattern>)
          return std::tie(a.kind, a.text) < std::tie(b.kind, b.text);
        else
          return a < b;
      });
      v.erase(std::unique(v.begin(), v.end()), v.end());
    };
    dedupe(r.names);
    dedupe(r.paths);
    dedupe(r.uids);
    dedupe(r.gids);
    dedupe(r.exports);
    dedupe(r.file_types);
    dedupe(r.access_modes);
    return {};
  }

  Result<NamePattern> name_pattern(const Token& p) const {
    NamePattern n;
    std::string_view text = p.text;
    if (text.size() >= 2 && text.front() == '*' && text.back() == '*')
      return unexpected(p.column,
                        "a name pattern has one '*', at its start (*suffix) or at its "
                        "end (prefix*)");
    if (text.front() == '*') {
      n.kind = NamePattern::Kind::Suffix;
      text.remove_prefix(1);
    } else if (text.back() == '*') {
      n.kind = NamePattern::Kind::Prefix;
      text.remove_suffix(1);
    }
    if (text.empty())
      return unexpected(p.column, "'*' alone matches any name: leave name= out instead");
    if (auto star = text.find('*'); star != std::string_view::npos)
      return unexpected(p.column + (n.kind == NamePattern::Kind::Suffix ? 1 : 0) + star,
                        "a name pattern has one '*', at its start (*suffix) or at its end "
                        "(prefix*)");
    if (auto slash = text.find('/'); slash != std::string_view::npos)
      return unexpected(p.column + (n.kind == NamePattern::Kind::Suffix ? 1 : 0) + slash,
                        "a name has no '/' (use path= for paths)");
    if (text.size() > kMaxName)
      return unexpected(p.column, fmt::format("name longer than {} bytes", kMaxName));
    n.text = std::string(text);
    return n;
  }

  Result<std::string> path(const Token& p) const {
    std::string_view text = p.text;
    while (!text.empty() && text.front() == '/') text.remove_prefix(1);
    while (!text.empty() && text.back() == '/') text.remove_suffix(1);
    if (text.empty())
      return unexpected(p.column,
                        "path= names a directory below the export's root (the root "
                        "itself would match every request: leave path= out)");
    if (text.size() > kMaxPath)
      return unexpected(p.column, fmt::format("path longer than {} bytes", kMaxPath));
    std::size_t start = 0;
    while (start <= text.size()) {
      auto slash = text.find('/', start);
      if (slash == std::string_view::npos) slash = text.size();
      const std::string_view part = text.substr(start, slash - start);
      if (part.empty() || part == "." || part == ".." || part.find('*') != std::string_view::npos)
        return unexpected(p.column,
                          fmt::format("bad path '{}': components are names, not '', '.', '..' "
                                      "or patterns",
                                      p.text));
      start = slash + 1;
    }
    return std::string(text);
  }

  std::size_t line_;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

bool Rule::matches_all() const {
  return types.empty() && names.empty() && paths.empty() && uids.empty() && gids.empty() &&
         exports.empty() && file_types.empty() && !has_flags;
}

Result<Rules> parse_rules(std::string_view text) {
  Rules out;
  std::size_t line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line;
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view content = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (auto hash = content.find('#'); hash != std::string_view::npos)
      content = content.substr(0, hash);
    std::vector<Token> tokens;
    for (std::size_t i = 0; i < content.size();) {
      if (is_space(content[i])) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < content.size() && !is_space(content[j])) ++j;
      tokens.push_back({content.substr(i, j - i), i + 1});
      i = j;
    }
    if (tokens.empty()) continue;
    Parser parser(line);
    if (!out.rules.empty() && out.rules.back().matches_all())
      return fail(EINVAL, fmt::format("line {}, column {}: this rule can never match: the rule on "
                                      "line {} matches every request",
                                      line, tokens.front().column, out.rules.back().line));
    auto rule = parser.rule(tokens);
    if (!rule) return std::unexpected(rule.error());
    out.rules.push_back(std::move(*rule));
  }
  if (out.rules.empty())
    return fail(EINVAL, fmt::format("line {}, column 1: no rules: a policy needs at least one, "
                                    "and its last rule must match every request (e.g. 'allow all')",
                                    line + 1));
  if (!out.rules.back().matches_all())
    return fail(EINVAL,
                fmt::format("line {}, column 1: the last rule must match every request (no "
                            "operation classes, no matchers: e.g. 'allow all' or 'deny EACCES "
                            "all')",
                            out.rules.back().line));
  const std::size_t size = compile(out).size();
  if (size > bpf::kMaxInstructions)
    return fail(EINVAL, fmt::format("line {}, column 1: the rules compile to {} cBPF instructions, "
                                    "more than the {} a program may have",
                                    out.rules.back().line, size, bpf::kMaxInstructions));
  return out;
}

Result<bpf::Program> compile_rules(std::string_view text) {
  auto rules = parse_rules(text);
  if (!rules) return std::unexpected(rules.error());
  return compile(*rules);
}

}  // namespace ninep::policy
