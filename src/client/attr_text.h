// Attributes as the client commands show them (ls -l, stat, df, xattr): text only, no I/O, so
// every format can be tested on plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/types.h"

namespace ninep::client {

// "drwxr-xr-x" rendering of a Linux mode (with s/S/t/T for the set-id and sticky bits).
std::string mode_string(std::uint32_t mode);
// "regular file", "directory", "symbolic link", ... ("unknown" for anything else).
const char* type_name(std::uint32_t mode);
// "file", "directory", "symlink", "char", "block", "fifo", "socket" ("unknown" for anything else):
// the `type` of --json output.
const char* type_token(std::uint32_t mode);
// "512 B", "1.5 KiB", "2.0 MiB": powers of 1024, one decimal from KiB on.
std::string human_size(double bytes);
// Local time: "YYYY-MM-DD HH:MM", or with `full` "YYYY-MM-DD HH:MM:SS.nnnnnnnnn".
std::string format_time(std::uint64_t sec, std::uint64_t nsec, bool full);

// One `ls -l` line: mode, links, uid, gid, size, mtime, name, and " -> target" when
// `link_target` is not empty.
std::string long_listing_line(const Attr& a, std::string_view name, std::string_view link_target);
// The `stat` block (several lines, each ending in '\n'); `name` is shown as the file's name.
std::string stat_text(const Attr& a, std::string_view name);
// The `df` table (a header line and one line for `path`): 1K blocks, or with `human` sizes with
// units.
std::string df_text(const StatFs& s, std::string_view path, bool human);
// An extended attribute's value: printable text in double quotes (a trailing NUL dropped), else
// hex ("0x..."), like getfattr.
std::string xattr_value_text(const std::vector<std::uint8_t>& value);

}  // namespace ninep::client
