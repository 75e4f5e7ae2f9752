// LocalFs: POSIX byte-range locks as host OFD locks (owned by the open file description of the
// fid, so two fids — two guest processes — conflict, and closing the fid releases them).
#include <fcntl.h>

#include <climits>

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

short host_lock_type(std::uint8_t t) {
  return t == p9::kLockRdlck ? F_RDLCK : t == p9::kLockWrlck ? F_WRLCK : F_UNLCK;
}

}  // namespace

Result<std::uint8_t> LocalFs::lock(Node& node, const LockArgs& req) {
  LocalNode& n = as_local(node);
  const int fd = n.io.load(std::memory_order_acquire);
  if (fd < 0) return fail(EBADF, "lock on a file that is not open");
  auto range = to_range(req.start, req.length);
  if (!range) return std::unexpected(range.error());
  struct flock fl {};
  fl.l_type = host_lock_type(req.type);
  fl.l_whence = SEEK_SET;
  fl.l_start = range->start;
  fl.l_len = range->len;
  if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    if (errno == EAGAIN || errno == EACCES) return p9::kLockBlocked;
    if (errno == EINTR) return p9::kLockBlocked;
    return fail_errno("lock");
  }
  if (req.type == p9::kLockUnlck) {
    if (n.locked) locks_.released(n.dev, n.ino, &n, range->first, range->last);
  } else {
    n.locked = true;
    locks_.granted(n.dev, n.ino, &n, range->first, range->last, req.proc_id, req.client_id);
  }
  return p9::kLockSuccess;
}

Result<void> LocalFs::getlock(Node& node, const LockArgs& req, LockHolder& out) {
  LocalNode& n = as_local(node);
  const int fd = n.io.load(std::memory_order_acquire);
  if (fd < 0) return fail(EBADF, "getlock on a file that is not open");
  auto range = to_range(req.start, req.length);
  if (!range) return std::unexpected(range.error());
  struct flock fl {};
  fl.l_type = host_lock_type(req.type == p9::kLockUnlck ? p9::kLockWrlck : req.type);
  fl.l_whence = SEEK_SET;
  fl.l_start = range->start;
  fl.l_len = range->len;
  fl.l_pid = 0;
  if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return fail_errno("getlock");
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
  if (locks_.find(n.dev, n.ino, &n, out.start, last, h)) {
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
