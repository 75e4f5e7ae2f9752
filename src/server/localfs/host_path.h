// Naming host files safely from the descriptors fids hold.
//
// Every fid holds an O_PATH descriptor of its file, opened without following symlinks. To do
// what O_PATH descriptors cannot do (open for I/O, chmod, truncate, xattrs, hard links) the
// backend goes through /proc/self/fd/N: that "magic link" lands exactly on the inode the
// descriptor holds, never on a name, so it cannot be redirected by a rename or a symlink swapped
// in; opening a symlink that way fails with ELOOP instead of following it, and the host checks
// the current thread's credentials against the inode as for any open. The alternative,
// reopening by (parent, name) with O_NOFOLLOW, would need the name to still refer to the same
// inode and a check afterwards. /proc must therefore be mounted (checked when a LocalFs opens).
//
// /proc/self/fd/N read as a link also gives the file's current path (the kernel's dentry path),
// which is how the backend checks that a file is still inside the export and finds a file's
// parent for ".." and Tremove — rename-proof, and it cannot be walked out of the export.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"
#include "server/backend.h"

namespace ninep::server::localfs {

// What ProcFdPath puts before a descriptor's number: "/proc/self/fd/", or "" once the
// process's working directory is its own /proc/self/fd directory (reach_fd_links_from_cwd()).
extern const char* g_fd_link_prefix;

// Makes ProcFdPath relative to the working directory, which the caller has made this process's
// /proc/self/fd: for a process whose root has no /proc (the server's sandbox). Call it before
// any request thread starts.
inline void reach_fd_links_from_cwd() {
  g_fd_link_prefix = "";
}

// "/proc/self/fd/N" for a descriptor, without allocating.
class ProcFdPath {
 public:
  explicit ProcFdPath(int fd) { std::snprintf(buf_, sizeof buf_, "%s%d", g_fd_link_prefix, fd); }
  const char* c_str() const { return buf_; }

 private:
  char buf_[32];
};

// A NUL-terminated copy of a name for the *at() calls, without allocating. Names reaching the
// backend are checked by the core (at most kMaxNameLength bytes, no NUL); xattr names obey the
// same limit (XATTR_NAME_MAX). A longer one is cut, and the host then finds no such name.
class CName {
 public:
  explicit CName(std::string_view n) {
    const std::size_t len = std::min(n.size(), sizeof buf_ - 1);
    n.copy(buf_, len);
    buf_[len] = '\0';
  }
  const char* c_str() const { return buf_; }

 private:
  char buf_[kMaxNameLength + 1];
};

// The current absolute path of `fd` (in a per-thread buffer, valid until the next call on this
// thread). ENAMETOOLONG when it does not fit in PATH_MAX.
Result<std::string_view> current_path(int fd);

// Opens `rel` (a path relative to `root` with no "." or ".." components, "" = root itself)
// with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), or one
// component at a time with O_NOFOLLOW where openat2 does not exist.
Result<UniqueFd> open_beneath(int root, std::string_view rel, int flags);

// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) alone, with no
// fallback: what it opens was below `root` when the lookup completed, whatever is renamed
// meanwhile (the kernel checks the result's ancestry once the lookup is done, and refuses with
// EXDEV a file that is no longer below `root` then). `rel` as for open_beneath, NUL-terminated.
// A trailing symlink is opened itself when `flags` has O_PATH | O_NOFOLLOW. ENOSYS where
// openat2 does not exist (and from then on, without trying again).
Result<UniqueFd> open_checked_beneath(int root, const char* rel, int flags);
// False once openat2 was found missing (ENOSYS).
bool have_openat2();
// Tests only: behave as if openat2 were missing (false), or look for it again (true).
void use_openat2_for_tests(bool use);

// Only regular files and directories are ever opened by the server (the CVE-2020-35517 class of
// hole: opening a device node a guest made would give it the host's device). Special files can
// be created, listed, renamed and removed; the guest's kernel handles them locally.
bool opens_on_host(mode_t type);
// Opens `inode` (a /proc/self/fd path) with `flags`, without waiting (O_NONBLOCK until the type
// is known), and fills `st`; EPERM when it is not a regular file or directory.
Result<UniqueFd> open_regular_or_dir(const char* inode, int flags, struct stat& st);

// Gives the calling thread its own umask of 0 (once): modes from clients are already masked.
void use_thread_umask();

}  // namespace ninep::server::localfs
