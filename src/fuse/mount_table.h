// Looking up mount points in /proc/self/mountinfo (to refuse a second mount on a directory and to
// know how to unmount one: v9fs or FUSE).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace ninep::fuse {

struct MountEntry {
  std::string mount_point;  // unescaped
  std::string fstype;       // "9p", "fuse.ninep", ...
  std::string source;
  std::string device;  // "major:minor" of the mounted file system
};

// Parses one mountinfo line; std::nullopt when it is malformed.
std::optional<MountEntry> parse_mountinfo_line(std::string_view line);

// The mount whose mount point is exactly `dir` (already canonical), the topmost one when several
// are stacked; std::nullopt when `dir` is not a mount point. Fails only if mountinfo is unreadable.
Result<std::optional<MountEntry>> find_mount(const std::string& dir);

// True for the file system types our mounts have: 9p (kernel) and fuse / fuse.ninep (FUSE).
inline bool is_fuse_type(std::string_view fstype) {
  return fstype == "fuse" || fstype.starts_with("fuse.");
}

}  // namespace ninep::fuse
