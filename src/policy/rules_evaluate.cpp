// The direct evaluator of Rules (what the compiled program computes), and rules as text.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "policy/rules.h"

namespace ninep::policy {

namespace {

constexpr std::uint32_t kTlcreate = 14, kTsymlink = 16, kTmknod = 18, kTxattrwalk = 30,
                        kTxattrcreate = 32, kTmkdir = 72;
constexpr std::uint32_t kSIfmt = 0170000;

template <typename T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool flags_match(const Rule& rule, std::uint32_t flags) {
  if ((flags & rule.flag_bits) != 0) return true;
  return contains(rule.access_modes, flags & 3u);
}

}  // namespace

std::uint32_t effective_file_type(const RequestRecord& record) {
  switch (record.type) {
    case kTlcreate:
      return 0100000;
    case kTmkdir:
      return 0040000;
    case kTsymlink:
      return 0120000;
    case kTmknod:
      return record.mode & kSIfmt;
    default:
      return record.file_type;
  }
}

bool name_matches(const NamePattern& pattern, std::string_view name) {
  switch (pattern.kind) {
    case NamePattern::Kind::Exact:
      return name == pattern.text;
    case NamePattern::Kind::Prefix:
      return name.starts_with(pattern.text);
    case NamePattern::Kind::Suffix:
      return name.ends_with(pattern.text);
  }
  return false;
}

NameScreen::NameScreen(const Rules& rules) : all_(false) {
  for (const Rule& r : rules.rules) {
    for (const NamePattern& n : r.names) {
      if (n.kind == NamePattern::Kind::Suffix)
        ends_with(n.text);
      else
        starts_with(n.text);
    }
    for (const std::string& dir : r.paths) {
      const auto slash = dir.rfind('/');
      starts_with(slash == std::string::npos ? dir : std::string_view(dir).substr(slash + 1));
    }
  }
}

// A one-byte text marks every pair it begins (ends); a name shorter than two bytes always may
// matter.
void NameScreen::starts_with(std::string_view text) {
  if (text.size() >= 2) {
    starts_.set(key(text[0], text[1]));
    return;
  }
  for (int b = 0; b < 256; ++b) starts_.set(key(text[0], static_cast<char>(b)));
}

void NameScreen::ends_with(std::string_view text) {
  if (text.size() >= 2) {
    ends_.set(key(text[text.size() - 2], text.back()));
    return;
  }
  for (int b = 0; b < 256; ++b) ends_.set(key(static_cast<char>(b), text.back()));
}

bool path_matches(std::string_view dir, const RequestRecord& record) {
  // The file is DIR or below it: for a walk or a create, the directory it happens in is.
  if (record.path.starts_with(dir) &&
      (record.path.size() == dir.size() || record.path[dir.size()] == '/'))
    return true;
  // The request names DIR itself in its parent: the walk into DIR, DIR's creation, removal or
  // rename. Not for xattr requests, whose name is an attribute's.
  if (record.type == kTxattrwalk || record.type == kTxattrcreate) return false;
  const auto slash = dir.rfind('/');
  const std::string_view parent = slash == std::string_view::npos ? "" : dir.substr(0, slash);
  const std::string_view base = slash == std::string_view::npos ? dir : dir.substr(slash + 1);
  return record.path == parent && record.name == base;
}

bool class_matches(const Rule& rule, const RequestRecord& record) {
  return rule.types.empty() || contains(rule.types, record.type);
}

Match match(const Rules& rules, const RequestRecord& record) {
  if (record.name.size() > kMaxName || record.path.size() > kMaxPath)
    return {kErrno | EACCES, std::nullopt, 0};
  for (std::size_t i = 0; i < rules.rules.size(); ++i) {
    const Rule& r = rules.rules[i];
    if (!class_matches(r, record)) continue;
    if (!r.uids.empty() && !contains(r.uids, record.uid)) continue;
    if (!r.gids.empty() && !contains(r.gids, record.gid)) continue;
    if (!r.exports.empty() && !contains(r.exports, record.export_index)) continue;
    if (!r.file_types.empty() && !contains(r.file_types, effective_file_type(record))) continue;
    if (r.has_flags && !flags_match(r, record.flags)) continue;
    if (!r.names.empty() && std::none_of(r.names.begin(), r.names.end(), [&](const auto& n) {
          return name_matches(n, record.name);
        }))
      continue;
    if (!r.paths.empty() && std::none_of(r.paths.begin(), r.paths.end(),
                                         [&](const auto& p) { return path_matches(p, record); }))
      continue;
    return {r.verdict, i, r.line};
  }
  // parse_rules guarantees a last rule that matches everything; Rules built otherwise refuse.
  return {kErrno | EACCES, std::nullopt, 0};
}

std::uint32_t evaluate(const Rules& rules, const RequestRecord& record) {
  return match(rules, record).verdict;
}

std::string to_string(const Rule& rule) {
  std::string s;
  switch (rule.verdict & kActionMask) {
    case kAllow:
      s = "allow";
      break;
    case kLog:
      s = "log";
      break;
    case kKill:
      s = "kill";
      break;
    default: {
      const int e = static_cast<int>(rule.verdict & 0xffff);
      const auto name = errno_name(e);
      s = name.empty() ? fmt::format("deny {}", e) : fmt::format("deny {}", name);
    }
  }
  auto join = [&](std::string_view key, const auto& values, auto&& show) {
    if (values.empty()) return;
    s += fmt::format(" {}", key);
    bool first = true;
    for (const auto& v : values) {
      if (!first) s += ',';
      first = false;
      s += show(v);
    }
  };
  join("", rule.types, [](std::uint32_t t) { return std::string(message_name(t)); });
  if (rule.matches_all()) s += " all";
  join("name=", rule.names, [](const NamePattern& n) {
    switch (n.kind) {
      case NamePattern::Kind::Prefix:
        return n.text + "*";
      case NamePattern::Kind::Suffix:
        return "*" + n.text;
      default:
        return n.text;
    }
  });
  join("path=", rule.paths, [](const std::string& p) { return p; });
  join("uid=", rule.uids, [](std::uint32_t v) { return std::to_string(v); });
  join("gid=", rule.gids, [](std::uint32_t v) { return std::to_string(v); });
  join("export=", rule.exports, [](std::uint32_t v) { return std::to_string(v); });
  join("type=", rule.file_types, [](std::uint32_t v) {
    switch (v) {
      case 0100000:
        return std::string("reg");
      case 0040000:
        return std::string("dir");
      case 0120000:
        return std::string("lnk");
      case 0020000:
        return std::string("chr");
      case 0060000:
        return std::string("blk");
      case 0010000:
        return std::string("fifo");
      default:
        return std::string("sock");
    }
  });
  if (rule.has_flags) {
    std::vector<std::string> parts;
    for (std::uint32_t m : rule.access_modes)
      parts.push_back(m == 0 ? "rdonly" : m == 1 ? "wronly" : "rdwr");
    if (rule.flag_bits != 0) parts.push_back(std::to_string(rule.flag_bits));
    join("flags=", parts, [](const std::string& p) { return p; });
  }
  return s;
}

}  // namespace ninep::policy
