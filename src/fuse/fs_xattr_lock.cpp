// Extended attributes (Txattrwalk/Txattrcreate) and locks (Tlock/Tgetlock).
#include <sys/file.h>

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "fuse/fs_retry.h"

namespace ninep::fuse {
namespace {

// The server gives each lock owner (proc_id, client_id) POSIX semantics. The kernel names the
// owner of each FUSE lock: the process's file table for POSIX locks, the open file for flock().
// That is the client_id; proc_id stays 0, since the kernel sends no pid with an unlock and
// the owner must be the same for the lock and its unlock.
std::string owner_id(std::uint64_t lock_owner) {
  return fmt::format("ninep-fuse-{:x}", lock_owner);
}

std::uint8_t to_9p_lock_type(short l_type) {
  switch (l_type) {
    case F_RDLCK:
      return p9::kLockRdlck;
    case F_WRLCK:
      return p9::kLockWrlck;
    default:
      return p9::kLockUnlck;
  }
}

short from_9p_lock_type(std::uint8_t t) {
  switch (t) {
    case p9::kLockRdlck:
      return F_RDLCK;
    case p9::kLockWrlck:
      return F_WRLCK;
    default:
      return F_UNLCK;
  }
}

// getxattr/listxattr size protocol: size 0 asks for the length, a too small buffer is ERANGE.
void reply_sized(fuse_req_t req, const char* data, std::size_t len, std::size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, len);
  } else if (len > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, data, len);
  }
}

}  // namespace

void FileSystem::getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  // With loose caching a recent "no such attribute" answers without a round trip: the kernel
  // asks for security.capability before every write, and ls for ACLs and labels of every file.
  bool loose = caching();
  Ticket t = ticket();
  auto ttl = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(opts_.loose_timeout));
  if (loose) {
    if (auto n = inodes_.get(ino); n && inodes_.known_absent_xattr(*n, name, ttl))
      return (void)fuse_reply_err(req, ENODATA);
  }
  auto v = retrying<std::vector<std::uint8_t>>(
      req, [&](const Connection::Snapshot& snap) -> Result<std::vector<std::uint8_t>> {
        auto n = node_fid(ino, snap);
        if (!n) return std::unexpected(n.error());
        return n->fid->xattr_get(name);
      });
  if (loose && !v && v.error().code == ENODATA) {
    // Not when an attribute change was reported meanwhile (cache=auto).
    reply_cached(t, nullptr, [&](double timeout) {
      if (auto n = inodes_.get(ino); n && timeout > 0) inodes_.set_absent_xattr(*n, name);
    });
  }
  if (!v) return reply_error(req, v.error());
  reply_sized(req, reinterpret_cast<const char*>(v->data()), v->size(), size);
}

void FileSystem::listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto names = retrying<std::vector<std::string>>(
      req, [&](const Connection::Snapshot& snap) -> Result<std::vector<std::string>> {
        auto n = node_fid(ino, snap);
        if (!n) return std::unexpected(n.error());
        return n->fid->xattr_list();
      });
  if (!names) return reply_error(req, names.error());
  std::string packed;
  for (const auto& s : *names) {
    packed += s;
    packed.push_back('\0');
  }
  reply_sized(req, packed.data(), packed.size(), size);
}

void FileSystem::setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                          size_t size, int flags) {
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(value), size);
  auto r = retrying<void>(req, [&](const Connection::Snapshot& snap) -> Result<void> {
    auto n = node_fid(ino, snap);
    if (!n) return std::unexpected(n.error());
    return n->fid->xattr_set(name, bytes, static_cast<std::uint32_t>(flags));
  });
  if (auto n = inodes_.get(ino)) inodes_.forget_absent_xattrs(*n);
  if (!r) return reply_error(req, r.error());
  fuse_reply_err(req, 0);
}

void FileSystem::removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  auto r = retrying<void>(req, [&](const Connection::Snapshot& snap) -> Result<void> {
    auto n = node_fid(ino, snap);
    if (!n) return std::unexpected(n.error());
    return n->fid->xattr_remove(name);
  });
  if (auto n = inodes_.get(ino)) inodes_.forget_absent_xattrs(*n);
  if (!r) return reply_error(req, r.error());
  fuse_reply_err(req, 0);
}

Result<std::uint8_t> FileSystem::lock_once(OpenHandle& h, const client::LockRequest& lr,
                                           const Connection::Snapshot& snap) {
  auto f = fid_for(h, snap);
  if (!f) return std::unexpected(f.error());
  return (*f)->lock(lr);
}

void FileSystem::unlock_all(OpenHandle& h, std::uint64_t owner) {
  client::LockRequest unlock;
  unlock.type = p9::kLockUnlck;
  unlock.client_id = owner_id(owner);
  (void)lock_once(h, unlock, conn_.current(h.uid));
}

void FileSystem::getlk(fuse_req_t req, fuse_file_info* fi, struct flock* lock) {
  OpenHandle& h = *handle_of(fi);
  client::LockRequest lr;
  lr.type = to_9p_lock_type(lock->l_type);
  lr.start = static_cast<std::uint64_t>(lock->l_start);
  lr.length = static_cast<std::uint64_t>(lock->l_len);
  lr.client_id = owner_id(fi->lock_owner);
  auto info = retrying<client::LockInfo>(
      req, [&](const Connection::Snapshot& snap) -> Result<client::LockInfo> {
        auto f = fid_for(h, snap);
        if (!f) return std::unexpected(f.error());
        return (*f)->getlock(lr);
      });
  if (!info) return reply_error(req, info.error());
  struct flock out = *lock;
  out.l_type = from_9p_lock_type(info->type);
  if (out.l_type != F_UNLCK) {
    out.l_whence = SEEK_SET;
    out.l_start = static_cast<off_t>(info->start);
    out.l_len = static_cast<off_t>(info->length);
    out.l_pid = static_cast<pid_t>(info->proc_id);
  }
  fuse_reply_lock(req, &out);
}

void FileSystem::lock_wait(fuse_req_t req, OpenHandle& h, client::LockRequest lr, bool sleep) {
  // The server answers BLOCKED instead of waiting (we never send the BLOCK flag, so no request
  // sits on the server): a blocking lock polls with backoff and stays interruptible.
  auto backoff = std::chrono::milliseconds(1);
  for (;;) {
    auto status = retrying<std::uint8_t>(
        req, [&](const Connection::Snapshot& snap) { return lock_once(h, lr, snap); });
    if (!status) return reply_error(req, status.error());
    if (*status == p9::kLockSuccess) {
      if (lr.type != p9::kLockUnlck) {
        std::lock_guard lk(h.mu);
        h.locked = true;
      }
      return (void)fuse_reply_err(req, 0);
    }
    if (*status != p9::kLockBlocked && *status != p9::kLockGrace)
      return (void)fuse_reply_err(req, ENOLCK);
    if (!sleep) return (void)fuse_reply_err(req, EAGAIN);
    if (fuse_req_interrupted(req)) return (void)fuse_reply_err(req, EINTR);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
  }
}

void FileSystem::setlk(fuse_req_t req, fuse_file_info* fi, struct flock* lock, bool sleep) {
  client::LockRequest lr;
  lr.type = to_9p_lock_type(lock->l_type);
  lr.start = static_cast<std::uint64_t>(lock->l_start);
  lr.length = static_cast<std::uint64_t>(lock->l_len);
  lr.client_id = owner_id(fi->lock_owner);
  lock_wait(req, *handle_of(fi), std::move(lr), sleep);
}

void FileSystem::flock(fuse_req_t req, fuse_file_info* fi, int op) {
  client::LockRequest lr;
  switch (op & ~LOCK_NB) {
    case LOCK_SH:
      lr.type = p9::kLockRdlck;
      break;
    case LOCK_EX:
      lr.type = p9::kLockWrlck;
      break;
    case LOCK_UN:
      lr.type = p9::kLockUnlck;
      break;
    default:
      return (void)fuse_reply_err(req, EINVAL);
  }
  lr.start = 0;
  lr.length = 0;  // the whole file
  lr.client_id = owner_id(fi->lock_owner);
  lock_wait(req, *handle_of(fi), std::move(lr), (op & LOCK_NB) == 0);
}

}  // namespace ninep::fuse
