// Copying files and directory trees between the local file system and an export (what
// `ninep get` and `ninep put` do).
//
// Downloads treat the server as hostile: it chooses every name, type, link target and listing.
// So every entry name is checked (no '/', no NUL, not empty, not "." or "..", no duplicates in
// one listing) before anything is written for it; everything below the destination directory is
// created relative to directory descriptors opened with O_NOFOLLOW (mkdirat, openat with
// O_CREAT|O_EXCL|O_NOFOLLOW, symlinkat), so no pre-existing or server-made symlink is ever
// followed; symlinks from the server are recreated as symlinks, never resolved; special files are
// skipped with a warning; tree depth and entry count are bounded, and a readdir whose cookies
// cycle is an error.
//
// Errors about one entry are reported through the observer and the copy goes on with the other
// entries (the call then fails with the first such error); errors that make going on pointless
// (limits exceeded, dead connection) stop the copy at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "client/fid.h"
#include "common/error.h"

namespace ninep::client {

struct TreeCopyOptions {
  // Copy directories and their contents (otherwise a directory is an EISDIR error).
  bool recursive = false;
  // Downloads: an existing local regular file is replaced (unlinked, then created anew). Other
  // existing entries (symlinks, special files, a file where a directory should be) are an error
  // whatever this says. An existing directory where a directory should be is merged into.
  bool force = false;
  // Directory levels below the copied root; deeper is an error that stops the copy.
  std::uint32_t max_depth = 256;
  // Directory entries over the whole copy; more is an error that stops the copy.
  std::uint64_t max_entries = 1'000'000;
  // Size of the data buffer (one read or write of this much goes out as concurrent requests).
  std::size_t buffer_size = 4u << 20;
};

// What a copy tells its caller while it runs (progress, and problems with single entries).
class TreeCopyObserver {
 public:
  virtual ~TreeCopyObserver() = default;
  virtual void on_bytes(std::uint64_t /*n*/) {}
  virtual void on_file_done() {}
  // `what` names the entry (a remote or local path).
  virtual void on_warning(std::string_view /*what*/, const Error& /*e*/) {}
  virtual void on_error(std::string_view /*what*/, const Error& /*e*/) {}
};

struct TreeSize {
  std::uint64_t bytes = 0, files = 0;
};

// Whether `name` may be used as one path component received from a server: EPROTO with a
// message quoting the name when it is empty, ".", "..", or contains '/' or NUL.
Result<void> check_entry_name(std::string_view name);

// ---- remote -> local ----

// Copies `src` to the entry `name` of the local directory `dir_fd` (`name` must pass
// check_entry_name). `shown` is how `src` is named in messages.
Result<void> get_tree(const Fid& src, int dir_fd, std::string_view name, std::string_view shown,
                      const TreeCopyOptions& opts, TreeCopyObserver& obs);
// Copies `src` (reached by `remote_path`) to `local`, or into it when `local` is an existing
// directory (as the last component of remote_path, "export" for the root). `local` itself is
// resolved normally; everything below it is not.
Result<void> get_to_path(const Fid& src, std::string_view remote_path, const std::string& local,
                         const TreeCopyOptions& opts, TreeCopyObserver& obs);
// Writes the contents of the remote file `src` to the open descriptor `fd` (e.g. stdout).
Result<void> get_to_fd(const Fid& src, int fd, std::string_view shown, const TreeCopyOptions& opts,
                       TreeCopyObserver& obs);
// Bytes and files that get_tree would copy (for progress totals), within the same limits.
Result<TreeSize> measure_remote_tree(const Fid& src, const TreeCopyOptions& opts);

// ---- local -> remote ----

// Copies the local file, symlink or (recursive) tree `local` to `remote_path` under `root`, or
// into it when that is an existing remote directory. Existing remote files are truncated.
Result<void> put_from_path(const std::string& local, const Fid& root, std::string_view remote_path,
                           const TreeCopyOptions& opts, TreeCopyObserver& obs);
// Copies everything readable from `fd` (e.g. stdin) to the remote file `remote_path`, or to
// "stdin" inside it when it is a directory.
Result<void> put_from_fd(int fd, const Fid& root, std::string_view remote_path,
                         const TreeCopyOptions& opts, TreeCopyObserver& obs);
// Bytes and files that put_from_path would copy (symlinks are not followed).
TreeSize measure_local_tree(const std::string& path, const TreeCopyOptions& opts);

}  // namespace ninep::client
