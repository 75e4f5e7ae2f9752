#include "client/remote_path.h"

#include "p9/message.h"

namespace ninep::client {

std::pair<std::string, std::string> split_parent(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(path)};
  return {std::string(path.substr(0, slash == 0 ? 1 : slash)), std::string(path.substr(slash + 1))};
}

std::string join_path(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out(dir);
  if (out.back() != '/') out += '/';
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  return out + std::string(name);
}

Error about(std::string_view what, Error e) {
  if (what.empty()) return e;
  e.message = e.message.empty() ? std::string(what) : std::string(what) + ": " + e.message;
  return e;
}

Result<std::pair<Fid, std::string>> walk_parent(const Fid& root, std::string_view path) {
  auto [parent, name] = split_parent(path);
  if (name.empty() || name == "/" || name == "." || name == "..")
    return fail(EINVAL, "not a name that can be created or removed");
  auto dir = root.walk_path(parent);
  if (!dir) return std::unexpected(dir.error());
  return std::pair{std::move(*dir), name};
}

namespace {

Result<void> make_parents(const Fid& root, std::string_view path, std::uint32_t mode,
                          std::uint32_t gid) {
  auto cur = root.clone();
  if (!cur) return std::unexpected(about(path, cur.error()));
  std::string done;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    done = join_path(done, part);
    auto next = cur->walk({part});
    if (!next && next.error().code == ENOENT) {
      if (auto q = cur->mkdir(part, mode, gid); !q && q.error().code != EEXIST)
        return std::unexpected(about(done, q.error()));
      next = cur->walk({part});
    }
    if (!next) return std::unexpected(about(done, next.error()));
    if (!next->is_dir()) return fail(ENOTDIR, done);
    cur = std::move(next);
  }
  return {};
}

}  // namespace

Result<void> make_directory(const Fid& root, std::string_view path, std::uint32_t mode,
                            std::uint32_t gid, bool parents) {
  if (parents) return make_parents(root, path, mode, gid);
  auto p = walk_parent(root, path);
  if (!p) return std::unexpected(about(path, p.error()));
  if (auto q = p->first.mkdir(p->second, mode, gid); !q)
    return std::unexpected(about(path, q.error()));
  return {};
}

Result<void> move_path(const Fid& root, std::string_view src, std::string_view dst) {
  auto from = walk_parent(root, src);
  if (!from) return std::unexpected(about(src, from.error()));
  Fid to_dir;
  std::string to_name;
  if (auto d = root.walk_path(dst); d && d->is_dir()) {
    to_dir = std::move(*d);
    to_name = from->second;
  } else {
    auto to = walk_parent(root, dst);
    if (!to) return std::unexpected(about(dst, to.error()));
    to_dir = std::move(to->first);
    to_name = to->second;
  }
  if (auto r = from->first.renameat(from->second, to_dir, to_name); !r)
    return std::unexpected(about(src, r.error()));
  return {};
}

Result<void> link_path(const Fid& root, std::string_view target, std::string_view link,
                       bool symbolic, std::uint32_t gid) {
  Fid dir;
  std::string name;
  if (auto d = root.walk_path(link); d && d->is_dir()) {
    dir = std::move(*d);
    name = split_parent(target).second;
  } else {
    auto p = walk_parent(root, link);
    if (!p) return std::unexpected(about(link, p.error()));
    dir = std::move(p->first);
    name = p->second;
  }
  if (symbolic) {
    if (auto q = dir.symlink(name, target, gid); !q) return std::unexpected(about(link, q.error()));
    return {};
  }
  auto t = root.walk_path(target);
  if (!t) return std::unexpected(about(target, t.error()));
  if (auto r = dir.link(*t, name); !r) return std::unexpected(about(link, r.error()));
  return {};
}

}  // namespace ninep::client
