// Unmounting what `ninep mount` mounted (`ninep umount`): v9fs with umount2(2), FUSE with
// umount2 as root and through the setuid helper fusermount3 otherwise.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace ninep::mount {

struct UnmountOptions {
  bool lazy = false;   // detach now, clean up when no longer busy (MNT_DETACH, fusermount3 -z)
  bool force = false;  // abort pending requests (MNT_FORCE; kernel 9p)
};

enum class UnmountMethod { Umount2, Fusermount };

// How a mount of type `fstype` is undone: unprivileged FUSE mounts through fusermount3,
// everything else with umount2.
UnmountMethod unmount_method(std::string_view fstype, bool privileged);
// The fusermount3 command line that unmounts `path`.
std::vector<std::string> fusermount_args(const std::string& path, const UnmountOptions& opts);
// An absolute path for `dir` that does not stat its last component: the mount point of a dead
// FUSE server answers ENOTCONN to everything.
std::string absolute_without_following(const std::string& dir);

// Unmounts the mount whose mount point is `dir` (EINVAL "not mounted" when it is none). Errors
// name the mount point.
Result<void> unmount(const std::string& dir, const UnmountOptions& opts);

}  // namespace ninep::mount
