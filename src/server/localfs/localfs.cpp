// LocalFs: opening the export, nodes and their recycling, qids, walking and containment.
#include "server/localfs/localfs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "server/localfs/host_path.h"

namespace ninep::server::localfs {

LocalNode& as_local(Node& n) {
  return static_cast<LocalNode&>(n);
}

void LocalNode::release() {
  fs_->recycle(this);
}

void LocalNode::reset() {
  int fd = io.exchange(-1);
  if (fd >= 0) ::close(fd);
  path.reset();
  dir = DirStream{};
  walked_valid = false;
  dev = 0;
  ino = 0;
  type = 0;
  writable = false;
  qid = {};
}

Result<std::unique_ptr<LocalFs>> LocalFs::open(const std::string& path, Options opts) {
  UniqueFd root(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    const int e = errno;
    struct stat st {};
    if (e == ENOTDIR || (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)))
      return fail(ENOTDIR, path);
    return fail(e, path);
  }
  struct stat st {};
  if (::fstat(root.get(), &st) != 0) return fail_errno(path);
  // Reopening files for I/O goes through /proc/self/fd (see host_path.h).
  if (::access(ProcFdPath(root.get()).c_str(), F_OK) != 0)
    return fail(ENOSYS, "/proc is not mounted; it is needed to serve " + path);
  return std::unique_ptr<LocalFs>(new LocalFs(std::move(root), st, opts));
}

LocalFs::LocalFs(UniqueFd root, const struct stat& st, Options opts)
    : root_(std::move(root)), root_dev_(st.st_dev), root_ino_(st.st_ino), opts_(opts) {
  auto p = current_path(root_.get());
  if (p) root_path_.assign(*p);
}

LocalFs::~LocalFs() {
  for (LocalNode* n : free_nodes_) delete n;
}

NodePtr LocalFs::make_node() {
  LocalNode* n = nullptr;
  {
    std::lock_guard lk(pool_mu_);
    if (!free_nodes_.empty()) {
      n = free_nodes_.back();
      free_nodes_.pop_back();
    }
    ++live_nodes_;
  }
  if (n == nullptr) n = new LocalNode(this);
  return NodePtr(n);
}

void LocalFs::recycle(LocalNode* n) {
  if (!n->lock_owners.empty()) release_lock_owners(*n);
  n->reset();
  std::lock_guard lk(pool_mu_);
  --live_nodes_;
  // Keep a bounded pool: enough for the fids a busy client turns over.
  if (free_nodes_.size() < 4096)
    free_nodes_.push_back(n);
  else
    delete n;
}

std::uint64_t LocalFs::qid_path(dev_t dev, ino_t ino) {
  if (dev == root_dev_) return ino;
  // Files of other file systems mounted inside the export: mix a small device index into the
  // top bits so (dev, ino) pairs stay distinct.
  std::size_t index;
  {
    std::lock_guard lk(dev_mu_);
    auto it = std::find(devs_.begin(), devs_.end(), dev);
    if (it == devs_.end()) {
      devs_.push_back(dev);
      it = devs_.end() - 1;
    }
    index = static_cast<std::size_t>(it - devs_.begin()) + 1;
  }
  return (static_cast<std::uint64_t>(ino) & ((std::uint64_t{1} << 48) - 1)) |
         (static_cast<std::uint64_t>(index & 0xFFFF) << 48);
}

p9::Qid LocalFs::qid_of(const struct stat& st) {
  p9::Qid q;
  q.type = p9::qid_type_from_mode(st.st_mode);
  q.path = qid_path(st.st_dev, st.st_ino);
  // Changes whenever the data (or metadata) changes: mtime, ctime and size folded together.
  std::uint64_t h = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                    static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  h ^= (static_cast<std::uint64_t>(st.st_ctim.tv_sec) * 1000000000ull +
        static_cast<std::uint64_t>(st.st_ctim.tv_nsec)) *
       0x9E3779B97F4A7C15ull;
  h ^= static_cast<std::uint64_t>(st.st_size) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  q.version = static_cast<std::uint32_t>(h);
  if (q.version == 0) q.version = 1;  // 0 would make the Linux client bypass its cache
  return q;
}

void LocalFs::fill(LocalNode& n, UniqueFd fd, const struct stat& st) {
  n.path = std::move(fd);
  n.dev = st.st_dev;
  n.ino = st.st_ino;
  n.type = st.st_mode & S_IFMT;
  n.qid = qid_of(st);
}

Result<NodePtr> LocalFs::node_from(UniqueFd fd) {
  struct stat st {};
  if (::fstatat(fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno("stat");
  NodePtr np = make_node();
  fill(as_local(*np), std::move(fd), st);
  return np;
}

Result<NodePtr> LocalFs::attach() {
  UniqueFd fd(::openat(root_.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno("open export root");
  return node_from(std::move(fd));
}

Result<NodePtr> LocalFs::clone(Node& from) {
  LocalNode& f = as_local(from);
  UniqueFd fd(::fcntl(f.path.get(), F_DUPFD_CLOEXEC, 0));
  if (!fd) return fail_errno("dup");
  NodePtr np = make_node();
  LocalNode& n = as_local(*np);
  n.path = std::move(fd);
  n.dev = f.dev;
  n.ino = f.ino;
  n.type = f.type;
  n.qid = f.qid;
  return np;
}

namespace {

// Where the node the calling thread's Twalk reached last is, below the export root. A Twalk
// runs on one thread, step after step from the node the previous step made, and those nodes are
// not seen by any other request until the walk ends, so `node` (with the node's walked_valid)
// says whether `path` is the path of a given node. Were that ever wrong, the walk would still
// stay below the root (each step from a path is checked by the kernel); it would only name
// another file.
struct WalkedPath {
  const LocalNode* node = nullptr;
  std::string path;  // capacity kept: no allocation per step
};
thread_local WalkedPath t_walked;

// The path of `n` when the running walk made it, or nullptr.
const std::string* walked_path(const LocalNode& n) {
  return n.walked_valid && t_walked.node == &n ? &t_walked.path : nullptr;
}

void set_walked(LocalNode& n) {
  n.walked_valid = true;
  t_walked.node = &n;
}

}  // namespace

// A walk never follows a symlink and never leaves the export. Each step is looked up from the
// export root by the path the walk has reached (openat2 RESOLVE_BENEATH: the kernel checks that
// the result is below the root when the lookup completes), so a directory the host moves out of
// the export in the middle of a walk leads nowhere, and the end of the walk needs no check of its
// own. The first step from a fid's file (which the host may have moved out since the fid was
// walked) is an openat() from its descriptor, whose result's path is read from /proc/self/fd and
// checked once; the steps after it go from the root. Where openat2 does not exist, every step
// goes from the previous one's descriptor and check_inside() reads the final path.
Result<NodePtr> LocalFs::walk(Node& from, std::string_view name) {
  LocalNode& f = as_local(from);
  if (!f.is_dir()) return fail(ENOTDIR);
  const std::string* base = walked_path(f);
  if (name == ".") {
    auto np = clone(from);
    if (np && base) set_walked(as_local(**np));
    return np;
  }
  if (name == "..") return walk_up(f, base);
  if (name.size() > kMaxNameLength) return fail(ENAMETOOLONG);
  const bool checked = !opts_.unchecked_for_tests;
  if (checked && (base || is_root(f)) && have_openat2()) {
    std::string& path = t_walked.path;
    const std::size_t base_len = is_root(f) ? 0 : path.size();
    path.resize(base_len);
    if (base_len > 0) path.push_back('/');
    path.append(name);
    auto fd = open_checked_beneath(root_.get(), path.c_str(), O_PATH | O_NOFOLLOW);
    if (fd) {
      struct stat st {};
      if (::fstatat(fd->get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
        return fail_errno("stat");
      NodePtr np = make_node();
      fill(as_local(*np), std::move(*fd), st);
      set_walked(as_local(*np));
      return np;
    }
    path.resize(base_len);
    // EXDEV: the directory walked so far left the export (the kernel found the result outside).
    if (fd.error().code == EXDEV) return fail(ENOENT, "no longer inside the export");
    if (fd.error().code != ENOSYS) return std::unexpected(fd.error());
  }
  const CName cname(name);
  const int follow = checked ? O_NOFOLLOW : 0;
  UniqueFd fd(::openat(f.path.get(), cname.c_str(), O_PATH | follow | O_CLOEXEC));
  if (!fd) return fail_errno("walk");
  if (!checked || !have_openat2()) return node_from(std::move(fd));
  // From a fid's file: where the result is now (refused when outside the export), then its
  // attributes, asked after the path so that a removal racing the readlink is seen (see
  // checked_path()).
  struct stat st {};
  auto rel = checked_path(fd.get(), st);
  if (!rel) return std::unexpected(rel.error());
  NodePtr np = make_node();
  fill(as_local(*np), std::move(fd), st);
  t_walked.path.assign(*rel);
  set_walked(as_local(*np));
  return np;
}

Result<NodePtr> LocalFs::walk_up(LocalNode& f, const std::string* base) {
  if (is_root(f)) return clone(f);  // ".." at the root stays at the root
  // The parent as the kernel sees it now, opened beneath the root: even a directory moved out of
  // the export cannot lead outside.
  if (!base) {
    auto r = relative_path(f.path.get());
    if (!r) return std::unexpected(r.error());
    t_walked.path.assign(*r);
  }
  std::string& path = t_walked.path;
  const std::size_t slash = path.rfind('/');
  path.resize(slash == std::string::npos ? 0 : slash);
  t_walked.node = nullptr;  // the path is the parent's now
  Result<UniqueFd> fd = fail(ENOSYS);
  bool checked_by_kernel = false;
  if (!path.empty() && !opts_.unchecked_for_tests) {
    fd = open_checked_beneath(root_.get(), path.c_str(), O_PATH | O_DIRECTORY);
    checked_by_kernel = fd.has_value();
  }
  if (!fd && fd.error().code == ENOSYS) fd = open_beneath(root_.get(), path, O_PATH | O_DIRECTORY);
  if (!fd) {
    if (fd.error().code == EXDEV) return fail(ENOENT, "no longer inside the export");
    return std::unexpected(fd.error());
  }
  struct stat st {};
  if (::fstatat(fd->get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno("stat");
  NodePtr np = make_node();
  fill(as_local(*np), std::move(*fd), st);
  // The walk may go on from the root by this path. (The root needs none; what open_beneath()
  // opened a component at a time is checked by check_inside().)
  if (checked_by_kernel) set_walked(as_local(*np));
  return np;
}

Result<std::string_view> LocalFs::relative_path(int fd) {
  auto path = current_path(fd);
  if (!path) return std::unexpected(path.error());
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::shared_lock lk(root_path_mu_);
      const std::string& root = root_path_;
      if (root == "/") return path->substr(1);
      if (path->size() >= root.size() && path->compare(0, root.size(), root) == 0) {
        if (path->size() == root.size()) return std::string_view{};
        if ((*path)[root.size()] == '/') return path->substr(root.size() + 1);
      }
    }
    if (attempt == 1) break;
    // Perhaps the export itself was moved: refresh its path once. (current_path's buffer is
    // per thread, so read the root's path into a copy first.)
    ProcFdPath link(root_.get());
    char buf[4097];
    ssize_t len = ::readlink(link.c_str(), buf, sizeof buf);
    if (len <= 0 || static_cast<std::size_t>(len) >= sizeof buf) break;
    const std::string_view now(buf, static_cast<std::size_t>(len));
    std::unique_lock lk(root_path_mu_);
    // Compare again either way: another thread may have refreshed the path since this one
    // compared (as the first requests after the sandbox moved the export all do at once).
    if (root_path_ != now) root_path_.assign(now);
  }
  return fail(ENOENT, "no longer inside the export");
}

Result<std::string_view> LocalFs::checked_path(int fd, struct stat& st) {
  auto rel = relative_path(fd);
  if (!rel) return std::unexpected(rel.error());
  // Reached through a directory while it was outside and removed since: its last path, which
  // may well look inside again, says nothing about where it was found. The kernel marks such a
  // path " (deleted)", but decides that before it builds the path, so a removal racing the
  // readlink shows up only in the link count, asked after.
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 || st.st_nlink == 0)
    return fail(ENOENT, "removed");
  return rel;
}

Result<void> LocalFs::check_inside(Node& node) {
  LocalNode& n = as_local(node);
  // Found below the root by the walk itself: nothing to ask.
  const std::string* walked = walked_path(n);
  // The node goes to a fid now: its path is no longer known.
  n.walked_valid = false;
  if (is_root(n) || opts_.unchecked_for_tests) return {};
  std::string_view rel;
  if (walked) {
    rel = *walked;
  } else {
    struct stat st {};
    auto r = checked_path(n.path.get(), st);
    if (!r) return std::unexpected(r.error());
    rel = *r;
  }
  const auto depth = static_cast<std::uint32_t>(std::count(rel.begin(), rel.end(), '/')) + 1;
  if (depth > opts_.max_depth) return fail(ENAMETOOLONG, "deeper than the walk depth limit");
  return {};
}

Result<void> LocalFs::still_inside(const LocalNode& n) {
  if (is_root(n) || opts_.unchecked_for_tests) return {};
  if (auto rel = relative_path(n.path.get()); !rel) return std::unexpected(rel.error());
  return {};
}

Result<void> LocalFs::usable_dir(LocalNode& d) {
  if (!d.is_dir()) return fail(ENOTDIR);
  return still_inside(d);
}

Result<UniqueFd> LocalFs::locate(const LocalNode& n, std::string& name) {
  if (is_root(n)) return fail(EBUSY, "the export root");
  auto rel = relative_path(n.path.get());
  if (!rel) return std::unexpected(rel.error());
  if (rel->empty()) return fail(EBUSY, "the export root");
  std::size_t slash = rel->rfind('/');
  std::string_view parent =
      slash == std::string_view::npos ? std::string_view{} : rel->substr(0, slash);
  name.assign(slash == std::string_view::npos ? *rel : rel->substr(slash + 1));
  auto dir = open_beneath(root_.get(), parent, O_PATH | O_DIRECTORY);
  if (!dir) return std::unexpected(dir.error());
  struct stat st {};
  if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != n.dev ||
      st.st_ino != n.ino)
    return fail(ENOENT, "the file was moved or removed");
  return dir;
}

Result<p9::Qid> LocalFs::finish_create(int dirfd, const char* name, int fd, std::uint32_t gid) {
  struct stat st {};
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return fail_errno("stat");
  // The directory was checked before; if it was moved out of the export meanwhile (on the host),
  // take the new name back rather than leave something created outside.
  if (!relative_path(fd)) {
    ::unlinkat(dirfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
    return fail(ENOENT, "the directory left the export");
  }
  if (gid != p9::kNoUid && st.st_gid != gid) {
    // The client computed the group (e.g. from a set-group-ID directory); the host allows it
    // only to members of that group, which is the right policy, so a refusal is not an error.
    if (::fchownat(fd, "", static_cast<uid_t>(-1), gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
      ::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  }
  return qid_of(st);
}

}  // namespace ninep::server::localfs
