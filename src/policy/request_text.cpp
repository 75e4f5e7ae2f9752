// Requests and verdicts as text (request_text.h).
#include "policy/request_text.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace ninep::policy {

namespace {

// Decimal, 0x hexadecimal or 0 octal, as bpf_asm reads numbers.
bool number(std::string_view s, std::uint64_t max, std::uint64_t& out) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && end == s.data() + s.size() && out <= max;
}

struct Named {
  std::string_view name;
  std::uint32_t value;
};
constexpr Named kTypes[] = {{"reg", 0100000}, {"file", 0100000},    {"dir", 0040000},
                            {"lnk", 0120000}, {"symlink", 0120000}, {"chr", 0020000},
                            {"blk", 0060000}, {"fifo", 0010000},    {"sock", 0140000}};
constexpr Named kFlags[] = {{"rdonly", 0},          {"wronly", 1},         {"rdwr", 2},
                            {"creat", 0100},        {"excl", 0200},        {"noctty", 0400},
                            {"trunc", 01000},       {"append", 02000},     {"nonblock", 04000},
                            {"dsync", 010000},      {"direct", 040000},    {"largefile", 0100000},
                            {"directory", 0200000}, {"nofollow", 0400000}, {"noatime", 01000000},
                            {"cloexec", 02000000},  {"sync", 04000000}};

}  // namespace

Result<RequestText> parse_request(std::string_view text) {
  RequestText out;
  auto error = [](std::size_t column, const std::string& message) {
    return fail(EINVAL, fmt::format("column {}: {}", column, message));
  };
  std::size_t i = 0;
  bool have_type = false;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\n') ++j;
    const std::string_view word = text.substr(i, j - i);
    const std::size_t column = i + 1;
    i = j;
    if (!have_type) {
      have_type = true;
      std::uint64_t n = 0;
      if (auto t = message_type(word)) {
        out.fields.type = *t;
      } else if (number(word, 255, n)) {
        out.fields.type = static_cast<std::uint32_t>(n);
      } else {
        return error(column, fmt::format("unknown message '{}' (a name such as Twalk, or a "
                                         "number)",
                                         word));
      }
      continue;
    }
    const auto eq = word.find('=');
    if (eq == std::string_view::npos)
      return error(column, fmt::format("'{}' is not FIELD=VALUE", word));
    const std::string_view key = word.substr(0, eq), value = word.substr(eq + 1);
    const std::size_t vcol = column + eq + 1;
    if (key == "name") {
      if (value.size() > kMaxName)
        return error(vcol, fmt::format("name longer than {} bytes", kMaxName));
      out.name = std::string(value);
      continue;
    }
    if (key == "path") {
      std::string_view p = value;
      while (!p.empty() && p.front() == '/') p.remove_prefix(1);
      while (!p.empty() && p.back() == '/') p.remove_suffix(1);
      if (p.size() > kMaxPath)
        return error(vcol, fmt::format("path longer than {} bytes", kMaxPath));
      out.path = std::string(p);
      continue;
    }
    std::uint64_t n = 0;
    if (key == "type") {
      bool found = false;
      for (const auto& t : kTypes)
        if (t.name == value) {
          out.fields.file_type = t.value;
          found = true;
        }
      if (!found && !number(value, 0xffffffff, n))
        return error(vcol, fmt::format("unknown file type '{}'", value));
      if (!found) out.fields.file_type = static_cast<std::uint32_t>(n);
      continue;
    }
    if (key == "flags") {
      std::uint32_t flags = 0;
      std::size_t start = 0;
      while (start <= value.size()) {
        auto comma = value.find(',', start);
        if (comma == std::string_view::npos) comma = value.size();
        const std::string_view part = value.substr(start, comma - start);
        bool found = false;
        for (const auto& f : kFlags)
          if (f.name == part) {
            flags |= f.value;
            found = true;
          }
        if (!found) {
          if (!number(part, 0xffffffff, n))
            return error(vcol + start, fmt::format("unknown open flag '{}'", part));
          flags |= static_cast<std::uint32_t>(n);
        }
        start = comma + 1;
      }
      out.fields.flags = flags;
      continue;
    }
    struct Field {
      std::string_view key;
      std::uint32_t* u32;
      std::uint64_t* u64;
    };
    RequestRecord& f = out.fields;
    const Field fields[] = {
        {"uid", &f.uid, nullptr},
        {"gid", &f.gid, nullptr},
        {"export", &f.export_index, nullptr},
        {"mode", &f.mode, nullptr},
        {"unlink", &f.unlink, nullptr},
        {"valid", &f.valid, nullptr},
        {"depth", &f.depth, nullptr},
        {"count", &f.count, nullptr},
        {"offset", nullptr, &f.offset},
    };
    const Field* field = nullptr;
    for (const auto& x : fields)
      if (x.key == key) field = &x;
    if (field == nullptr)
      return error(column, fmt::format("unknown field '{}' (name, path, uid, gid, export, type, "
                                       "flags, mode, unlink, valid, depth, offset, count)",
                                       key));
    if (!number(value, field->u64 ? ~std::uint64_t{0} : 0xffffffff, n))
      return error(vcol, fmt::format("'{}' is not a number", value));
    if (field->u64)
      *field->u64 = n;
    else
      *field->u32 = static_cast<std::uint32_t>(n);
  }
  if (!have_type) return error(1, "no message (e.g. 'Twalk name=.ssh path=home')");
  return out;
}

std::string verdict_name(std::uint32_t verdict) {
  switch (verdict & kActionMask) {
    case kAllow:
      if (verdict == kAllow) return "ALLOW";
      break;
    case kLog:
      if (verdict == kLog) return "LOG";
      break;
    case kKill:
      if (verdict == kKill) return "KILL";
      break;
    case kErrno: {
      const int e = static_cast<int>(verdict & 0xffff);
      if (e == 0) return "ERRNO 0 (refuses with EACCES)";
      const auto name = errno_name(e);
      return name.empty() ? fmt::format("ERRNO {}", e) : fmt::format("ERRNO {} ({})", name, e);
    }
    default:
      break;
  }
  const Decision d = decide(verdict);
  const char* what = d.action == Decision::Action::Allow  ? "allows"
                     : d.action == Decision::Action::Log  ? "allows and logs"
                     : d.action == Decision::Action::Kill ? "drops the connection"
                                                          : "refuses with EACCES";
  return fmt::format("{:#x} ({})", verdict, what);
}

std::string describe(const Rules& rules, const Match& match) {
  std::string s = verdict_name(match.verdict);
  if (!match.rule) return s + ": no rule (the request cannot be encoded, or no rule matches)";
  return fmt::format("{}: rule {}, line {}: {}", s, *match.rule + 1, match.line,
                     to_string(rules.rules[*match.rule]));
}

}  // namespace ninep::policy
