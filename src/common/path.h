// Paths inside an export, as the server, its backends and the client name them: relative,
// '/'-separated, no leading or trailing '/', "" for the export's root.
#pragma once

#include <string>
#include <string_view>

namespace ninep {

// "dir/name": "name" in the root, "dir" for an empty name (the directory itself).
inline std::string child_path(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  std::string p;
  p.reserve(dir.size() + 1 + name.size());
  p.append(dir);
  p += '/';
  p.append(name);
  return p;
}

// Whether `path` is `dir` or below it (everything is below the root, "").
inline bool is_at_or_below(std::string_view path, std::string_view dir) {
  return dir.empty() || path == dir ||
         (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

}  // namespace ninep
