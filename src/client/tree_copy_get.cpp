// Downloads (remote -> local): see tree_copy.h for the rules that keep a hostile server's names
// and listings from writing anywhere but below the destination.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <optional>
#include <unordered_set>
#include <vector>

#include "client/dir_listing.h"
#include "client/remote_path.h"
#include "client/session.h"
#include "client/tree_copy.h"
#include "client/tree_copy_run.h"
#include "common/unique_fd.h"
#include "p9/message.h"

namespace ninep::client {
namespace {

constexpr std::uint8_t kDtDir = 4;  // Linux DT_DIR

// The name as it can be shown safely on a terminal: quoted, with control bytes escaped.
std::string quoted(std::string_view name) {
  std::string out = "\"";
  for (unsigned char c : name) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// The last component of a remote path, or "" for the root ("/", "", ".", "..").
std::string remote_base(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (base == "." || base == ".." || base == "/") return {};
  return std::string(base);
}

// An existing entry at `name` may be replaced only with --force, and only when it is a regular
// file (unlinking a symlink or a directory entry it races with is harmless: nothing is followed).
Result<void> replace_existing(int dir_fd, const char* name, bool force) {
  if (!force) return fail(EEXIST, "exists locally (--force replaces regular files)");
  struct stat st;
  if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("");
  if (!S_ISREG(st.st_mode))
    return fail(EEXIST, "exists locally and is not a regular file (never replaced)");
  if (::unlinkat(dir_fd, name, 0) != 0) return fail_errno("cannot remove the existing file");
  return {};
}

Result<UniqueFd> create_file(int dir_fd, const std::string& name, std::uint32_t mode, bool force) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(::openat(dir_fd, name.c_str(), kFlags, mode));
  if (!fd && errno == EEXIST) {
    if (auto r = replace_existing(dir_fd, name.c_str(), force); !r)
      return std::unexpected(r.error());
    fd.reset(::openat(dir_fd, name.c_str(), kFlags, mode));
  }
  if (!fd) return fail_errno("");
  return fd;
}

Result<void> create_symlink(int dir_fd, const std::string& name, const std::string& target,
                            bool force) {
  if (::symlinkat(target.c_str(), dir_fd, name.c_str()) == 0) return {};
  if (errno != EEXIST) return fail_errno("");
  if (auto r = replace_existing(dir_fd, name.c_str(), force); !r) return r;
  if (::symlinkat(target.c_str(), dir_fd, name.c_str()) != 0) return fail_errno("");
  return {};
}

// Creates (or reuses) the directory `name` and opens it without ever following a symlink that
// sits (or appears) there.
Result<UniqueFd> make_dir(int dir_fd, const std::string& name) {
  if (::mkdirat(dir_fd, name.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno("");
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    struct stat st;
    if ((err == ELOOP || err == ENOTDIR) &&
        ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISLNK(st.st_mode)) return fail(ELOOP, "exists locally as a symlink (never followed)");
      return fail(ENOTDIR, "exists locally and is not a directory");
    }
    return fail(err, "");
  }
  return fd;
}

// The entries of one listing that may be copied. "." and ".." are the directory's own links
// when they are directories and appear once each (real servers send them): skipped. Anything
// else unusable is reported through `bad` and left out.
template <typename Bad>
std::vector<const DirEntry*> usable_entries(const std::vector<DirEntry>& list, Bad&& bad) {
  std::vector<const DirEntry*> out;
  std::unordered_set<std::string_view> seen;
  bool dot = false, dotdot = false;
  for (const auto& e : list) {
    if (e.name == "." || e.name == "..") {
      bool& once = e.name == "." ? dot : dotdot;
      bool is_dir = e.type == kDtDir || (e.qid.type & p9::kQtDir) != 0;
      if (is_dir && !once) {
        once = true;
        continue;
      }
    }
    if (auto r = check_entry_name(e.name); !r) {
      bad(r.error());
      continue;
    }
    if (!seen.insert(e.name).second) {
      bad(Error{EPROTO, "server listed the entry name " + quoted(e.name) + " twice"});
      continue;
    }
    out.push_back(&e);
  }
  return out;
}

class Downloader : public TreeCopyRun {
 public:
  using TreeCopyRun::TreeCopyRun;

  // Copies `remote_name` in `parent` ("" = `parent` itself) to `name` in `dir_fd`. `shown` and
  // `local` name the remote and the local side in messages.
  void copy(const Fid& parent, std::string_view remote_name, int dir_fd, const std::string& name,
            const std::string& shown, const std::string& local, std::uint32_t depth) {
    if (stopped_) return;
    auto f = remote_name.empty() ? parent.clone() : parent.walk({remote_name});
    if (!f) return remote_error(shown, f.error());
    auto a = f->getattr();
    if (!a) return remote_error(shown, a.error());
    std::uint32_t type = a->mode & p9::kSIfmt;
    std::uint32_t perm = a->mode & 0777;  // never setuid/setgid/sticky from a server
    if (type == p9::kSIfreg) {
      auto out = create_file(dir_fd, name, perm, opts_.force);
      if (!out) return error(local, out.error());
      if (auto r = write_contents(*f, out->get(), shown); !r) return;
      timespec times[2] = {{static_cast<time_t>(a->atime_sec), static_cast<long>(a->atime_nsec)},
                           {static_cast<time_t>(a->mtime_sec), static_cast<long>(a->mtime_nsec)}};
      ::futimens(out->get(), times);
      obs_.on_file_done();
      return;
    }
    if (type == p9::kSIflnk) {
      auto target = f->readlink();
      if (!target) return remote_error(shown, target.error());
      if (target->empty() || target->find('\0') != std::string::npos)
        return error(shown, Error{EPROTO, "server sent an invalid symlink target"});
      if (auto r = create_symlink(dir_fd, name, *target, opts_.force); !r)
        return error(local, r.error());
      obs_.on_file_done();
      return;
    }
    if (type != p9::kSIfdir) {
      obs_.on_warning(shown, Error{0, "skipped: not a regular file, directory or symlink"});
      return;
    }
    if (!opts_.recursive) return error(shown, Error{EISDIR, "use -r to copy a directory tree"});
    if (depth > opts_.max_depth)
      return fatal(shown, Error{ELOOP, fmt::format("tree is deeper than {} levels (limit)",
                                                   opts_.max_depth)});
    auto entries = list(*f, shown);
    if (!entries) return;
    auto dfd = make_dir(dir_fd, name);
    if (!dfd) return error(local, dfd.error());
    auto usable = usable_entries(*entries, [&](const Error& e) { error(shown, e); });
    for (const DirEntry* e : usable) {
      copy(*f, e->name, dfd->get(), e->name, join_path(shown, e->name), join_path(local, e->name),
           depth + 1);
      if (stopped_) break;
    }
    ::fchmod(dfd->get(), perm);
  }

  Result<void> write_contents(Fid& f, int out, std::string_view shown) {
    if (auto r = f.lopen(p9::kORdonly); !r) {
      remote_error(shown, r.error());
      return std::unexpected(r.error());
    }
    std::uint64_t off = 0;
    for (;;) {
      auto n = f.read(off, buf_);
      if (!n) {
        remote_error(shown, n.error());
        return std::unexpected(n.error());
      }
      std::size_t done = 0;
      while (done < *n) {
        ssize_t w = ::write(out, buf_.data() + done, *n - done);
        if (w < 0) {
          if (errno == EINTR) continue;
          Error e{errno, "write local file"};
          error(shown, e);
          return std::unexpected(e);
        }
        done += static_cast<std::size_t>(w);
      }
      off += *n;
      obs_.on_bytes(*n);
      if (*n < buf_.size()) return {};
    }
  }

  // The listing of directory `f`, counted against the entry limit (nullopt after an error).
  std::optional<std::vector<DirEntry>> list(const Fid& f, std::string_view shown) {
    auto d = f.clone();
    if (!d) {
      remote_error(shown, d.error());
      return std::nullopt;
    }
    if (auto r = d->lopen(p9::kORdonly | p9::kODirectory); !r) {
      remote_error(shown, r.error());
      return std::nullopt;
    }
    // +2: "." and "..", which are not counted.
    auto entries = read_directory(*d, opts_.max_entries - entries_ + 2);
    if (!entries) {
      if (entries.error().code == E2BIG)
        entries_limit(shown);
      else
        remote_error(shown, entries.error());
      return std::nullopt;
    }
    for (const auto& e : *entries)
      if (e.name != "." && e.name != "..") ++entries_;
    if (entries_ > opts_.max_entries) {
      entries_limit(shown);
      return std::nullopt;
    }
    return std::move(*entries);
  }

  // A failed request: if the connection is gone, nothing else can succeed.
  void remote_error(std::string_view what, const Error& e) {
    error(what, e);
    if (session_ && !session_->connected()) stopped_ = true;
  }
  void entries_limit(std::string_view what) {
    fatal(what, Error{E2BIG, fmt::format("more than {} entries (limit)", opts_.max_entries)});
  }

  void set_session(Session* s) { session_ = s; }

 private:
  Session* session_ = nullptr;
  std::uint64_t entries_ = 0;
};

Result<void> get_into(const Fid& src, int dir_fd, const std::string& name, std::string_view shown,
                      const std::string& local, const TreeCopyOptions& opts,
                      TreeCopyObserver& obs) {
  Downloader d(opts, obs);
  if (!src) {
    d.error(shown, Error{EBADF, ""});
    return d.result();
  }
  d.set_session(&src.session());
  if (auto r = check_entry_name(name); !r) {
    d.error(local, Error{EINVAL, "not a usable local file name"});
    return d.result();
  }
  d.copy(src, "", dir_fd, name, std::string(shown), local, 0);
  return d.result();
}

Result<void> measure(const Fid& f, const TreeCopyOptions& opts, std::uint32_t depth,
                     std::uint64_t& entries, TreeSize& size) {
  if (!f.is_dir()) {
    if (auto a = f.getattr(p9::kGetattrSize)) size.bytes += a->size;
    ++size.files;
    return {};
  }
  if (depth > opts.max_depth) return fail(ELOOP, "tree too deep");
  auto d = f.clone();
  if (!d) return std::unexpected(d.error());
  if (auto r = d->lopen(p9::kORdonly | p9::kODirectory); !r) return std::unexpected(r.error());
  auto list = read_directory(*d, opts.max_entries - entries + 2);
  if (!list) return std::unexpected(list.error());
  d = Fid();
  entries += list->size();
  if (entries > opts.max_entries + 2) return fail(E2BIG, "too many entries");
  for (const DirEntry* e : usable_entries(*list, [](const Error&) {})) {
    auto c = f.walk({e->name});
    if (!c) continue;
    if (auto r = measure(*c, opts, depth + 1, entries, size); !r) return r;
  }
  return {};
}

}  // namespace

Result<void> check_entry_name(std::string_view name) {
  const char* why = nullptr;
  if (name.empty())
    why = "is empty";
  else if (name == "." || name == "..")
    why = "is a relative link";
  else if (name.find('/') != std::string_view::npos)
    why = "contains '/'";
  else if (name.find('\0') != std::string_view::npos)
    why = "contains NUL";
  if (!why) return {};
  return fail(EPROTO, "server sent an invalid entry name " + quoted(name) + " (" + why + ")");
}

Result<void> get_tree(const Fid& src, int dir_fd, std::string_view name, std::string_view shown,
                      const TreeCopyOptions& opts, TreeCopyObserver& obs) {
  std::string n(name);
  return get_into(src, dir_fd, n, shown, n, opts, obs);
}

Result<void> get_to_path(const Fid& src, std::string_view remote_path, const std::string& local,
                         const TreeCopyOptions& opts, TreeCopyObserver& obs) {
  std::string dir, name, shown_local;
  struct stat st;
  if (::stat(local.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    dir = local;
    name = remote_base(remote_path);
    if (name.empty()) name = "export";
    shown_local = join_path(local, name);
  } else {
    std::string_view p = local;
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    auto slash = p.rfind('/');
    if (slash == std::string_view::npos) {
      dir = ".";
      name = std::string(p);
    } else {
      dir = slash == 0 ? "/" : std::string(p.substr(0, slash));
      name = std::string(p.substr(slash + 1));
    }
    shown_local = local;
  }
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) {
    Error e{errno, ""};
    obs.on_error(dir, e);
    return fail(e.code, dir);
  }
  return get_into(src, dfd.get(), name, remote_path, shown_local, opts, obs);
}

Result<void> get_to_fd(const Fid& src, int fd, std::string_view shown, const TreeCopyOptions& opts,
                       TreeCopyObserver& obs) {
  Downloader d(opts, obs);
  auto f = src.clone();
  if (!f) {
    d.error(shown, f.error());
    return d.result();
  }
  (void)d.write_contents(*f, fd, shown);
  if (auto r = d.result(); !r) return r;
  obs.on_file_done();
  return {};
}

Result<TreeSize> measure_remote_tree(const Fid& src, const TreeCopyOptions& opts) {
  TreeSize size;
  std::uint64_t entries = 0;
  if (auto r = measure(src, opts, 0, entries, size); !r) return std::unexpected(r.error());
  return size;
}

}  // namespace ninep::client
