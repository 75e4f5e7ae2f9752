// The libfuse low-level operation table: thin trampolines into FileSystem, and the INIT
// negotiation (sizes and capabilities).
#include <unistd.h>

#include <algorithm>

#include "fuse/filesystem.h"

namespace ninep::fuse {
namespace {

FileSystem& fs(fuse_req_t req) {
  return *static_cast<FileSystem*>(fuse_req_userdata(req));
}

void op_init(void* userdata, fuse_conn_info* conn) {
  static_cast<FileSystem*>(userdata)->init(conn);
}
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fs(req).lookup(req, parent, name);
}
void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n) {
  fs(req).forget(ino, n);
  fuse_reply_none(req);
}
void op_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) fs(req).forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}
void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  fs(req).getattr(req, ino, fi);
}
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  fs(req).setattr(req, ino, attr, to_set, fi);
}
void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  fs(req).readlink(req, ino);
}
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  fs(req).mknod(req, parent, name, mode, rdev);
}
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  fs(req).mkdir(req, parent, name, mode);
}
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fs(req).unlink(req, parent, name, false);
}
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  fs(req).unlink(req, parent, name, true);
}
void op_symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  fs(req).symlink(req, link, parent, name);
}
void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
               const char* newname, unsigned int flags) {
  fs(req).rename(req, parent, name, newparent, newname, flags);
}
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  fs(req).link(req, ino, newparent, newname);
}
void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  fs(req).open(req, ino, fi, false);
}
void op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  fs(req).read(req, size, off, fi);
}
void op_write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t off,
              fuse_file_info* fi) {
  fs(req).write(req, buf, size, off, fi);
}
void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  fs(req).flush(req, fi);
}
void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  fs(req).release(req, fi);
}
void op_fsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
  fs(req).fsync(req, datasync, fi);
}
void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  fs(req).open(req, ino, fi, true);
}
void op_readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  fs(req).readdir(req, size, off, fi, false);
}
void op_readdirplus(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  fs(req).readdir(req, size, off, fi, true);
}
void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  fs(req).release(req, fi);
}
void op_fsyncdir(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
  fs(req).fsync(req, datasync, fi);
}
void op_statfs(fuse_req_t req, fuse_ino_t ino) {
  fs(req).statfs(req, ino);
}
void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                 int flags) {
  fs(req).setxattr(req, ino, name, value, size, flags);
}
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  fs(req).getxattr(req, ino, name, size);
}
void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  fs(req).listxattr(req, ino, size);
}
void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  fs(req).removexattr(req, ino, name);
}
void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
               fuse_file_info* fi) {
  fs(req).create(req, parent, name, mode, fi);
}
void op_getlk(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, struct flock* lock) {
  fs(req).getlk(req, fi, lock);
}
void op_setlk(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, struct flock* lock, int sleep) {
  fs(req).setlk(req, fi, lock, sleep != 0);
}
void op_flock(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, int op) {
  fs(req).flock(req, fi, op);
}

fuse_lowlevel_ops make_operations() {
  fuse_lowlevel_ops ops{};
  ops.init = op_init;
  ops.lookup = op_lookup;
  ops.forget = op_forget;
  ops.forget_multi = op_forget_multi;
  ops.getattr = op_getattr;
  ops.setattr = op_setattr;
  ops.readlink = op_readlink;
  ops.mknod = op_mknod;
  ops.mkdir = op_mkdir;
  ops.unlink = op_unlink;
  ops.rmdir = op_rmdir;
  ops.symlink = op_symlink;
  ops.rename = op_rename;
  ops.link = op_link;
  ops.open = op_open;
  ops.read = op_read;
  ops.write = op_write;
  ops.flush = op_flush;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.readdirplus = op_readdirplus;
  ops.releasedir = op_releasedir;
  ops.fsyncdir = op_fsyncdir;
  ops.statfs = op_statfs;
  ops.setxattr = op_setxattr;
  ops.getxattr = op_getxattr;
  ops.listxattr = op_listxattr;
  ops.removexattr = op_removexattr;
  ops.create = op_create;
  ops.getlk = op_getlk;
  ops.setlk = op_setlk;
  ops.flock = op_flock;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& FileSystem::operations() {
  static const fuse_lowlevel_ops ops = make_operations();
  return ops;
}

void FileSystem::init(fuse_conn_info* conn) {
  // One FUSE read/write becomes as few 9P requests as possible: whole pages, at most what one
  // message carries and what the kernel accepts (1 MiB with FUSE_MAX_PAGES).
  long page = ::sysconf(_SC_PAGESIZE);
  std::uint32_t io = std::max<std::uint32_t>(max_io_ / page * page, page);
  io = std::min<std::uint32_t>(io, 1024 * 1024);
  conn->max_write = io;
  conn->max_readahead = io;
  conn->max_background = 64;
  conn->congestion_threshold = 48;
  conn->time_gran = 1;
  auto want = [conn](unsigned cap) {
    if (conn->capable & cap) conn->want |= cap;
  };
  auto unwant = [conn](unsigned cap) { conn->want &= ~cap; };
  want(FUSE_CAP_ASYNC_READ);
  want(FUSE_CAP_ATOMIC_O_TRUNC);
  want(FUSE_CAP_POSIX_LOCKS);
  want(FUSE_CAP_FLOCK_LOCKS);
  want(FUSE_CAP_PARALLEL_DIROPS);
  unwant(FUSE_CAP_WRITEBACK_CACHE);
  unwant(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
  if (caching()) {
    // Attributes are kept for the timeout, so the ones readdirplus brings are worth the lookups.
    want(FUSE_CAP_READDIRPLUS);
    want(FUSE_CAP_READDIRPLUS_AUTO);
    unwant(FUSE_CAP_AUTO_INVAL_DATA);
  } else {
    // Timeouts are 0: every stat asks the server anyway, so readdirplus would only double the
    // lookups. Pages are dropped as soon as a getattr shows the file changed on the server.
    unwant(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
    want(FUSE_CAP_AUTO_INVAL_DATA);
  }
  if (opts_.cache == CacheMode::Auto) {
    // The kernel keeps ACLs (asked as system.posix_acl_* attributes) with the inode and checks
    // permissions with them; an attribute change reported by the server drops them (ls -l asks
    // for the ACLs of every file it lists).
    want(FUSE_CAP_POSIX_ACL);
  }
  unwant(FUSE_CAP_EXPORT_SUPPORT);  // node ids are not stable: no NFS re-export
  // Change events invalidate through the session, which is ready now.
  if (coherence_) coherence_->start(session_);
  if (on_ready_) on_ready_();
}

}  // namespace ninep::fuse
