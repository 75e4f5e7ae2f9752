// LocalFs: POSIX byte-range locks, owned by (connection, proc_id, client_id) as the client says,
// kept as host OFD locks on a descriptor per owner and file (see LockOwner).
#include <fcntl.h>

#include <algorithm>
#include <climits>

#include "server/localfs/host_path.h"
#include "server/localfs/localfs.h"

namespace ninep::server::localfs {
namespace {

struct Range {
  off_t start, len;           // for fcntl (len 0 = to end of file)
  std::uint64_t first, last;  // inclusive, for the registry
};

Result<Range> to_range(std::uint64_t start, std::uint64_t length) {
  constexpr auto kMax = static_cast<std::uint64_t>(LLONG_MAX);
  if (start > kMax) return fail(EINVAL, "lock start beyond the largest offset");
  Range r;
  r.start = static_cast<off_t>(start);
  r.first = start;
  if (length == 0 || length - 1 > kMax - start) {
    r.len = 0;
    r.last = UINT64_MAX;
  } else {
    r.len = static_cast<off_t>(length);
    r.last = start + length - 1;
  }
  return r;
}

LockOwner::Key owner_key(const LocalNode& n, const LockArgs& req) {
  return {n.dev, n.ino, req.conn_id, req.proc_id, std::string(req.client_id)};
}

short host_lock_type(std::uint8_t t) {
  return t == p9::kLockRdlck ? F_RDLCK : t == p9::kLockWrlck ? F_WRLCK : F_UNLCK;
}

}  // namespace

Result<UniqueFd> LocalFs::open_lock_fd(const LocalNode& n, int io) {
  if (n.type == S_IFREG) {
    // Open for reading and writing when the user may, so that a later lock of either type
    // through another fid of the same owner works; else as the fid itself was opened.
    const ProcFdPath file(n.path.get());
    struct stat st {};
    if (!opts_.read_only) {
      if (auto fd = open_regular_or_dir(file.c_str(), O_RDWR, st)) return std::move(*fd);
    }
    const int flags = ::fcntl(io, F_GETFL);
    if (flags >= 0) {
      if (auto fd = open_regular_or_dir(file.c_str(), flags & O_ACCMODE, st)) return std::move(*fd);
    }
  }
  // A directory, or a file that cannot be opened again: the fid's own open file description
  // carries the owner's locks.
  UniqueFd fd(::fcntl(io, F_DUPFD_CLOEXEC, 0));
  if (!fd) return fail_errno("lock");
  return fd;
}

void LocalFs::release_lock_owners(LocalNode& n) {
  std::lock_guard lk(owners_mu_);
  for (const auto& owner : n.lock_owners) {
    auto it = owners_.find(owner->key);
    if (it != owners_.end() && it->second == owner) owners_.erase(it);
    locks_.forget(n.dev, n.ino, owner.get());
    owner->fd.reset();  // closing its descriptor drops the owner's locks
  }
  n.lock_owners.clear();
}

Result<std::uint8_t> LocalFs::lock(Node& node, const LockArgs& req) {
  LocalNode& n = as_local(node);
  const int io = n.io.load(std::memory_order_acquire);
  if (io < 0) return fail(EBADF, "lock on a file that is not open");
  auto range = to_range(req.start, req.length);
  if (!range) return std::unexpected(range.error());
  // Locks are rare: one mutex for owners and their descriptors keeps release and use apart.
  std::lock_guard lk(owners_mu_);
  LockOwner::Key key = owner_key(n, req);
  auto it = owners_.find(key);
  if (it == owners_.end()) {
    if (req.type == p9::kLockUnlck) return p9::kLockSuccess;  // it holds nothing
    // Each owner holds a host descriptor: a fid does not get to make them without bound.
    if (n.lock_owners.size() >= kMaxLockOwnersPerFid)
      return fail(ENOLCK, "too many lock owners on one fid");
    auto fd = open_lock_fd(n, io);
    if (!fd) return std::unexpected(fd.error());
    it = owners_.emplace(key, std::make_shared<LockOwner>(LockOwner{key, std::move(*fd)})).first;
  }
  const std::shared_ptr<LockOwner>& owner = it->second;
  if (std::find(n.lock_owners.begin(), n.lock_owners.end(), owner) == n.lock_owners.end())
    n.lock_owners.push_back(owner);
  struct flock fl {};
  fl.l_type = host_lock_type(req.type);
  fl.l_whence = SEEK_SET;
  fl.l_start = range->start;
  fl.l_len = range->len;
  if (::fcntl(owner->fd.get(), F_OFD_SETLK, &fl) != 0) {
    if (errno == EAGAIN || errno == EACCES || errno == EINTR) return p9::kLockBlocked;
    return fail_errno("lock");
  }
  if (req.type == p9::kLockUnlck)
    locks_.released(n.dev, n.ino, owner.get(), range->first, range->last);
  else
    locks_.granted(n.dev, n.ino, owner.get(), range->first, range->last, req.proc_id,
                   req.client_id);
  return p9::kLockSuccess;
}

Result<void> LocalFs::getlock(Node& node, const LockArgs& req, LockHolder& out) {
  LocalNode& n = as_local(node);
  const int io = n.io.load(std::memory_order_acquire);
  if (io < 0) return fail(EBADF, "getlock on a file that is not open");
  auto range = to_range(req.start, req.length);
  if (!range) return std::unexpected(range.error());
  std::lock_guard lk(owners_mu_);
  // Asked through the owner's descriptor, the owner's own locks are no conflict.
  auto it = owners_.find(owner_key(n, req));
  const LockOwner* self = it == owners_.end() ? nullptr : it->second.get();
  struct flock fl {};
  fl.l_type = host_lock_type(req.type == p9::kLockUnlck ? p9::kLockWrlck : req.type);
  fl.l_whence = SEEK_SET;
  fl.l_start = range->start;
  fl.l_len = range->len;
  fl.l_pid = 0;
  if (::fcntl(self != nullptr ? self->fd.get() : io, F_OFD_GETLK, &fl) != 0)
    return fail_errno("getlock");
  if (fl.l_type == F_UNLCK) {
    out.type = p9::kLockUnlck;
    out.start = req.start;
    out.length = req.length;
    out.proc_id = req.proc_id;
    out.client_id_storage.assign(req.client_id);
    return {};
  }
  out.type = fl.l_type == F_RDLCK ? p9::kLockRdlck : p9::kLockWrlck;
  out.start = static_cast<std::uint64_t>(fl.l_start);
  out.length = static_cast<std::uint64_t>(fl.l_len);
  const std::uint64_t last =
      fl.l_len == 0 ? UINT64_MAX : static_cast<std::uint64_t>(fl.l_start + fl.l_len - 1);
  LockRegistry::Holder h;
  if (locks_.find(n.dev, n.ino, self, out.start, last, h)) {
    out.proc_id = h.proc_id;
    out.client_id_storage = std::move(h.client_id);
  } else {
    // Held by something on the host that never spoke 9P.
    out.proc_id = fl.l_pid > 0 ? static_cast<std::uint32_t>(fl.l_pid) : 0;
    out.client_id_storage.clear();
  }
  return {};
}

}  // namespace ninep::server::localfs
