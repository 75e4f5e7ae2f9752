#include "fuse/mount_table.h"

#include <fstream>
#include <vector>

namespace ninep::fuse {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < line.size()) {
    std::size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    if (end > pos) fields.push_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
  return fields;
}

}  // namespace

std::optional<MountEntry> parse_mountinfo_line(std::string_view line) {
  // id parent major:minor root mount_point options [optional fields...] - fstype source super_opts
  auto f = split_spaces(line);
  if (f.size() < 7) return std::nullopt;
  std::size_t sep = 6;
  while (sep < f.size() && f[sep] != "-") ++sep;
  if (sep + 2 >= f.size()) return std::nullopt;
  return MountEntry{unescape(f[4]), unescape(f[sep + 1]), unescape(f[sep + 2]), std::string(f[2])};
}

Result<std::optional<MountEntry>> find_mount(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return fail_errno("/proc/self/mountinfo");
  std::optional<MountEntry> found;
  std::string line;
  while (std::getline(in, line)) {
    auto e = parse_mountinfo_line(line);
    if (e && e->mount_point == dir) found = std::move(*e);  // later lines are mounted on top
  }
  return found;
}

}  // namespace ninep::fuse
