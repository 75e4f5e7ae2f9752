#include "client/attr_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "p9/message.h"

namespace ninep::client {

namespace {

// Each file type as ls (its letter), stat (its name) and --json (its token) show it.
struct FileType {
  std::uint32_t format;
  char letter;
  const char* name;
  const char* token;
};
constexpr FileType kFileTypes[] = {
    {p9::kSIfreg, '-', "regular file", "file"},     {p9::kSIfdir, 'd', "directory", "directory"},
    {p9::kSIflnk, 'l', "symbolic link", "symlink"}, {p9::kSIfchr, 'c', "character device", "char"},
    {p9::kSIfblk, 'b', "block device", "block"},    {p9::kSIfifo, 'p', "fifo", "fifo"},
    {p9::kSIfsock, 's', "socket", "socket"},
};
constexpr FileType kUnknownType{0, '-', "unknown", "unknown"};

const FileType& file_type(std::uint32_t mode) {
  for (const auto& t : kFileTypes)
    if ((mode & p9::kSIfmt) == t.format) return t;
  return kUnknownType;
}

}  // namespace

std::string mode_string(std::uint32_t mode) {
  char s[11];
  s[0] = file_type(mode).letter;
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
  if (mode & 04000) s[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) s[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) s[9] = (mode & 0001) ? 't' : 'T';
  s[10] = '\0';
  return s;
}

const char* type_name(std::uint32_t mode) {
  return file_type(mode).name;
}

const char* type_token(std::uint32_t mode) {
  return file_type(mode).token;
}

std::string human_size(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", bytes, units[u])
                : fmt::format("{:.1f} {}", bytes, units[u]);
}

std::string format_time(std::uint64_t sec, std::uint64_t nsec, bool full) {
  std::time_t t = static_cast<std::time_t>(sec);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  if (full) {
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return fmt::format("{}.{:09}", buf, nsec);
  }
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string long_listing_line(const Attr& a, std::string_view name, std::string_view link_target) {
  std::string line = fmt::format("{} {:>3} {:>5} {:>5} {:>10} {} {}", mode_string(a.mode), a.nlink,
                                 a.uid, a.gid, a.size, format_time(a.mtime_sec, 0, false), name);
  if (!link_target.empty()) line += fmt::format(" -> {}", link_target);
  return line;
}

std::string stat_text(const Attr& a, std::string_view name) {
  std::string s = fmt::format("  File: {}\n", name);
  s += fmt::format("  Size: {:<12} Blocks: {:<10} IO Block: {:<6} {}\n", a.size, a.blocks,
                   a.blksize, type_name(a.mode));
  s += fmt::format("  Qid: type 0x{:02x} version {} path {}   Links: {}\n", a.qid.type,
                   a.qid.version, a.qid.path, a.nlink);
  s += fmt::format("Access: ({:04o}/{})  Uid: {}  Gid: {}\n", a.mode & 07777, mode_string(a.mode),
                   a.uid, a.gid);
  s += fmt::format("Access: {}\n", format_time(a.atime_sec, a.atime_nsec, true));
  s += fmt::format("Modify: {}\n", format_time(a.mtime_sec, a.mtime_nsec, true));
  s += fmt::format("Change: {}\n", format_time(a.ctime_sec, a.ctime_nsec, true));
  return s;
}

std::string df_text(const StatFs& s, std::string_view path, bool human) {
  double bs = s.bsize;
  double size = bs * double(s.blocks), avail = bs * double(s.bavail),
         used = bs * double(s.blocks - std::min(s.bfree, s.blocks));
  int pct = s.blocks ? int((used * 100 + (used + avail) - 1) / std::max(used + avail, 1.0)) : 0;
  if (human) {
    return fmt::format("{:<10} {:>10} {:>10} {:>10} {:>5} {:>10} {:>10}\n", "Export", "Size",
                       "Used", "Avail", "Use%", "Inodes", "IFree") +
           fmt::format("{:<10} {:>10} {:>10} {:>10} {:>4}% {:>10} {:>10}\n", path, human_size(size),
                       human_size(used), human_size(avail), pct, s.files, s.ffree);
  }
  return fmt::format("{:<10} {:>14} {:>14} {:>14} {:>5} {:>10} {:>10}\n", "Export", "1K-blocks",
                     "Used", "Available", "Use%", "Inodes", "IFree") +
         fmt::format("{:<10} {:>14.0f} {:>14.0f} {:>14.0f} {:>4}% {:>10} {:>10}\n", path,
                     size / 1024, used / 1024, avail / 1024, pct, s.files, s.ffree);
}

std::string xattr_value_text(const std::vector<std::uint8_t>& v) {
  bool printable = true;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint8_t c = v[i];
    if (c == 0 && i + 1 == v.size()) continue;  // a trailing NUL of a C string
    if (c < 0x20 || c > 0x7e) printable = false;
  }
  if (printable) {
    std::string s(v.begin(), v.end());
    if (!s.empty() && s.back() == '\0') s.pop_back();
    return "\"" + s + "\"";
  }
  std::string hex = "0x";
  for (auto c : v) hex += fmt::format("{:02x}", c);
  return hex;
}

}  // namespace ninep::client
