// Remote paths as the client commands take them ('/'-separated, relative to the attached root)
// and the operations on them that name their errors by path: the parent of a path, `mkdir -p`,
// moving and linking into a directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "client/fid.h"
#include "common/error.h"

namespace ninep::client {

// "a/b/c" -> ("a/b", "c"); "c" -> ("", "c"); "/c" -> ("/", "c"); trailing slashes ignored.
std::pair<std::string, std::string> split_parent(std::string_view path);
// Joins remote or local path components with exactly one '/'.
std::string join_path(std::string_view dir, std::string_view name);
// `e` as an error about `what`: its message becomes "what: message", or "what" when it had none.
Error about(std::string_view what, Error e);

// The directory holding `path` and the last component's name. EINVAL when that name cannot be
// created or removed ("", "/", ".", "..").
Result<std::pair<Fid, std::string>> walk_parent(const Fid& root, std::string_view path);

// `mkdir`: creates the directory `path`; with `parents`, creates what is missing on the way and
// an existing directory is no error (`mkdir -p`). Errors name the path (for -p the component)
// that failed.
Result<void> make_directory(const Fid& root, std::string_view path, std::uint32_t mode,
                            std::uint32_t gid, bool parents);

// `mv`: renames `src` to `dst`, or into `dst` (keeping its name) when that is a directory.
// Errors name the path they are about.
Result<void> move_path(const Fid& root, std::string_view src, std::string_view dst);

// `ln`: creates `link` (or, when `link` is a directory, an entry named after `target`'s last
// component in it): a symlink whose content is `target` when `symbolic`, else a hard link to the
// remote file `target`. Errors name the path they are about.
Result<void> link_path(const Fid& root, std::string_view target, std::string_view link,
                       bool symbolic, std::uint32_t gid);

}  // namespace ninep::client
