// Uploads (local -> remote). The local tree is the user's own, but it is still walked without
// following symlinks (they are copied as symlinks) and within the same depth limit.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <climits>
#include <optional>
#include <vector>

#include "client/remote_path.h"
#include "client/session.h"
#include "client/tree_copy.h"
#include "client/tree_copy_run.h"
#include "common/unique_fd.h"
#include "p9/message.h"

namespace ninep::client {
namespace {

// Names in a local directory, without "." and "..".
Result<std::vector<std::string>> local_names(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return fail_errno("");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  return names;
}

class Uploader : public TreeCopyRun {
 public:
  using TreeCopyRun::TreeCopyRun;

  void put_file(int fd, const struct stat& st, const Fid& dir, const std::string& name,
                const std::string& shown) {
    auto f = dir.clone();
    if (!f) return error(shown, f.error());
    auto oi =
        f->lcreate(name, p9::kOWronly | p9::kOCreate | p9::kOTrunc, st.st_mode & 07777, ::getgid());
    if (!oi) return error(shown, oi.error());
    std::uint64_t off = 0;
    for (;;) {
      ssize_t n = ::read(fd, buf_.data(), buf_.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return error(shown, Error{errno, "read local file"});
      }
      if (n == 0) break;
      auto w = f->write(off, std::span(buf_.data(), static_cast<std::size_t>(n)));
      if (!w) return error(shown, w.error());
      if (*w != static_cast<std::size_t>(n)) return error(shown, Error{EIO, "short write"});
      off += static_cast<std::uint64_t>(n);
      obs_.on_bytes(static_cast<std::uint64_t>(n));
    }
    if (S_ISREG(st.st_mode)) {
      SetAttr sa;
      sa.valid =
          p9::kSetattrMtime | p9::kSetattrMtimeSet | p9::kSetattrAtime | p9::kSetattrAtimeSet;
      sa.atime_sec = static_cast<std::uint64_t>(st.st_atim.tv_sec);
      sa.atime_nsec = static_cast<std::uint64_t>(st.st_atim.tv_nsec);
      sa.mtime_sec = static_cast<std::uint64_t>(st.st_mtim.tv_sec);
      sa.mtime_nsec = static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
      if (auto r = f->setattr(sa); !r) error(shown, r.error());
    }
    obs_.on_file_done();
  }

  void put_path(const std::string& local, const Fid& dir, const std::string& name,
                const std::string& shown, std::uint32_t depth) {
    if (stopped_) return;
    struct stat st;
    if (::lstat(local.c_str(), &st) != 0) return error(local, Error{errno, ""});
    if (S_ISREG(st.st_mode)) {
      UniqueFd fd(::open(local.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) return error(local, Error{errno, ""});
      return put_file(fd.get(), st, dir, name, shown);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlink(local.c_str(), target.data(), target.size());
      if (n < 0) return error(local, Error{errno, ""});
      target.resize(static_cast<std::size_t>(n));
      if (auto q = dir.symlink(name, target, ::getgid()); !q) return error(shown, q.error());
      obs_.on_file_done();
      return;
    }
    if (!S_ISDIR(st.st_mode)) {
      obs_.on_warning(local, Error{0, "skipped: not a regular file, directory or symlink"});
      return;
    }
    if (!opts_.recursive) return error(local, Error{EISDIR, "use -r to copy a directory tree"});
    if (depth > opts_.max_depth) {
      return fatal(local, Error{ELOOP, fmt::format("tree is deeper than {} levels (limit)",
                                                   opts_.max_depth)});
    }
    auto existing = dir.walk({name});
    if (!existing) {
      if (auto q = dir.mkdir(name, st.st_mode & 07777, ::getgid()); !q)
        return error(shown, q.error());
      existing = dir.walk({name});
      if (!existing) return error(shown, existing.error());
    } else if (!existing->is_dir()) {
      return error(shown, Error{ENOTDIR, ""});
    }
    auto names = local_names(local);
    if (!names) return error(local, names.error());
    for (const auto& n : *names) {
      put_path(join_path(local, n), *existing, n, join_path(shown, n), depth + 1);
      if (stopped_) break;
    }
  }
};

// Where `base` goes for a destination `remote_path`: inside it when it is a directory, else as
// its last component inside its parent. Returns (dir, name, shown).
Result<std::tuple<Fid, std::string, std::string>> destination(const Fid& root,
                                                              std::string_view remote_path,
                                                              const std::string& base) {
  if (auto d = root.walk_path(remote_path); d && d->is_dir())
    return std::tuple{std::move(*d), base, join_path(remote_path, base)};
  auto [parent, last] = split_parent(remote_path);
  auto p = root.walk_path(parent);
  if (!p) return fail(p.error().code, parent.empty() ? "/" : parent);
  return std::tuple{std::move(*p), last, std::string(remote_path)};
}

void measure_local(const std::string& path, const TreeCopyOptions& opts, std::uint32_t depth,
                   TreeSize& size) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISREG(st.st_mode)) {
    size.bytes += static_cast<std::uint64_t>(st.st_size);
    ++size.files;
  } else if (S_ISDIR(st.st_mode)) {
    if (depth > opts.max_depth) return;
    if (auto names = local_names(path))
      for (const auto& n : *names) measure_local(join_path(path, n), opts, depth + 1, size);
  } else {
    ++size.files;
  }
}

}  // namespace

Result<void> put_from_path(const std::string& local, const Fid& root, std::string_view remote_path,
                           const TreeCopyOptions& opts, TreeCopyObserver& obs) {
  Uploader u(opts, obs);
  auto dest = destination(root, remote_path, split_parent(local).second);
  if (!dest) {
    u.error(dest.error().message, Error{dest.error().code, ""});
    return u.result();
  }
  auto& [dir, name, shown] = *dest;
  u.put_path(local, dir, name, shown, 0);
  return u.result();
}

Result<void> put_from_fd(int fd, const Fid& root, std::string_view remote_path,
                         const TreeCopyOptions& opts, TreeCopyObserver& obs) {
  Uploader u(opts, obs);
  auto dest = destination(root, remote_path, "stdin");
  if (!dest) {
    u.error(dest.error().message, Error{dest.error().code, ""});
    return u.result();
  }
  auto& [dir, name, shown] = *dest;
  struct stat st {};
  st.st_mode = S_IFIFO | 0644;
  u.put_file(fd, st, dir, name, shown);
  return u.result();
}

TreeSize measure_local_tree(const std::string& path, const TreeCopyOptions& opts) {
  TreeSize size;
  measure_local(path, opts, 0, size);
  return size;
}

}  // namespace ninep::client
