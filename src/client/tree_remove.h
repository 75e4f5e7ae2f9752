// Removing remote files and directory trees (what `ninep rm` does).
//
// Like downloads (tree_copy.h), recursive removal treats the server as hostile: it chooses every
// listing, and a directory that lists itself (or an ancestor) would make a naive recursion go on
// until the stack overflows. So entry names are checked (check_entry_name: no '/', "..", empty
// names; no duplicates in one listing) before anything is removed for them, listings are read
// with their cookies checked and their length bounded (read_directory), and tree depth and entry
// count are bounded. Removal stops at the first error.
#pragma once

#include <cstdint>
#include <string_view>

#include "client/fid.h"
#include "common/error.h"

namespace ninep::client {

struct TreeRemoveOptions {
  bool recursive = false;   // directories are removed with their contents (`rm -r`)
  bool empty_dirs = false;  // empty directories are removed (`rm -d`)
  bool force = false;       // a path that does not exist is no error (`rm -f`)
  // Directory levels below the removed root; deeper is an error (ELOOP).
  std::uint32_t max_depth = 256;
  // Directory entries over the whole removal; more is an error (E2BIG).
  std::uint64_t max_entries = 1'000'000;
};

// Removes the entry `name` of the directory `parent`, and when it is a directory everything below
// it first (options.recursive is implied). `shown` names the entry in errors; errors name the
// entry that failed (`shown`/...).
Result<void> remove_tree(const Fid& parent, std::string_view name, std::string_view shown,
                         const TreeRemoveOptions& opts);

// `rm PATH`: removes the file `path` below `root`; a directory only with opts.recursive (the
// tree) or opts.empty_dirs (when empty), else EISDIR. Errors name the path.
Result<void> remove_path(const Fid& root, std::string_view path, const TreeRemoveOptions& opts);

}  // namespace ninep::client
