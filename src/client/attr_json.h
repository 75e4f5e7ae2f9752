// Attributes as the client commands' --json output shows them: one JSON object per file or file
// system, printed on one line (JSON Lines), so `jq` reads a whole listing as a stream. Text
// only, no I/O. Names that are not UTF-8 (a server may send any bytes) have each invalid byte
// replaced by U+FFFD.
//
// A file (ls --json, stat --json):
//   path, name     the path as asked / the entry's name in its directory
//   type           "file", "directory", "symlink", "char", "block", "fifo", "socket", "unknown"
//   mode           permission bits with set-id and sticky (mode & 07777), a number
//   mode_text      "drwxr-xr-x"
//   uid, gid, nlink, size, blocks (512-byte units), blksize, rdev, ino (the qid path)
//   atime, mtime, ctime          seconds since the epoch; atime_nsec, mtime_nsec, ctime_nsec
//   target         a symlink's target (only for symlinks)
// A file system (df --json):
//   path, fs_type (the statfs magic), bsize, blocks, bfree, bavail, files, ffree, fsid, namelen,
//   size, used, available (bytes)
#pragma once

#include <string>
#include <string_view>

#include "client/types.h"

namespace ninep::client {

// The file object above; `target` is left out when empty.
std::string attr_json(const Attr& a, std::string_view path, std::string_view name,
                      std::string_view target);
// The file system object above.
std::string statfs_json(const StatFs& s, std::string_view path);

}  // namespace ninep::client
