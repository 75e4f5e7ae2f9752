// LocalFs: attributes, statfs, readlink and extended attributes.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "server/localfs/host_path.h"
#include "server/localfs/localfs.h"
#include "server/localfs/open_flags.h"

namespace ninep::server::localfs {
namespace {

// Linux's own dev_t encoding (what the client decodes with new_decode_dev), from the host's.
std::uint64_t encode_rdev(dev_t d) {
  const std::uint64_t maj = major(d), min = minor(d);
  return (min & 0xff) | (maj << 8) | ((min & ~std::uint64_t{0xff}) << 12);
}

Result<timespec> time_arg(bool given, bool set, std::uint64_t sec, std::uint64_t nsec) {
  timespec ts{0, UTIME_OMIT};
  if (!given) return ts;
  if (!set) {
    ts.tv_nsec = UTIME_NOW;  // a time bit without *_SET: "now", on the server
    return ts;
  }
  if (nsec >= 1000000000ull || sec > static_cast<std::uint64_t>(LLONG_MAX))
    return fail(EINVAL, "bad time");
  ts.tv_sec = static_cast<time_t>(sec);
  ts.tv_nsec = static_cast<long>(nsec);
  return ts;
}

}  // namespace

Result<void> LocalFs::getattr(Node& node, std::uint64_t, p9::Rgetattr& out) {
  LocalNode& n = as_local(node);
  struct statx sx {};
  if (::statx(n.path.get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
              STATX_BASIC_STATS | STATX_BTIME, &sx) != 0)
    return fail_errno("stat");
  struct stat st {};
  st.st_mode = sx.stx_mode;
  st.st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  st.st_ino = sx.stx_ino;
  st.st_size = static_cast<off_t>(sx.stx_size);
  st.st_mtim = {static_cast<time_t>(sx.stx_mtime.tv_sec), sx.stx_mtime.tv_nsec};
  st.st_ctim = {static_cast<time_t>(sx.stx_ctime.tv_sec), sx.stx_ctime.tv_nsec};
  out.qid = qid_of(st);
  n.qid = out.qid;
  out.valid = p9::kGetattrBasic | p9::kGetattrDataVersion;
  out.mode = sx.stx_mode;
  out.uid = sx.stx_uid;
  out.gid = sx.stx_gid;
  out.nlink = sx.stx_nlink;
  out.rdev = encode_rdev(makedev(sx.stx_rdev_major, sx.stx_rdev_minor));
  out.size = sx.stx_size;
  out.blksize = sx.stx_blksize;
  out.blocks = sx.stx_blocks;
  out.atime_sec = static_cast<std::uint64_t>(sx.stx_atime.tv_sec);
  out.atime_nsec = sx.stx_atime.tv_nsec;
  out.mtime_sec = static_cast<std::uint64_t>(sx.stx_mtime.tv_sec);
  out.mtime_nsec = sx.stx_mtime.tv_nsec;
  out.ctime_sec = static_cast<std::uint64_t>(sx.stx_ctime.tv_sec);
  out.ctime_nsec = sx.stx_ctime.tv_nsec;
  if (sx.stx_mask & STATX_BTIME) {
    out.valid |= p9::kGetattrBtime;
    out.btime_sec = static_cast<std::uint64_t>(sx.stx_btime.tv_sec);
    out.btime_nsec = sx.stx_btime.tv_nsec;
  }
  out.gen = 0;
  out.data_version = out.qid.version;
  return {};
}

Result<void> LocalFs::setattr(Node& node, const p9::Tsetattr& req) {
  LocalNode& n = as_local(node);
  if (opts_.read_only) return fail(EROFS);
  const ProcFdPath inode(n.path.get());
  // Same order as the Linux client applies them locally: mode, owner, size, times.
  if (req.valid & p9::kSetattrMode) {
    if (::chmod(inode.c_str(), static_cast<mode_t>(req.mode & 07777)) != 0)
      return fail_errno("chmod");
  }
  if (req.valid & (p9::kSetattrUid | p9::kSetattrGid)) {
    const uid_t uid = (req.valid & p9::kSetattrUid) ? req.uid : static_cast<uid_t>(-1);
    const gid_t gid = (req.valid & p9::kSetattrGid) ? req.gid : static_cast<gid_t>(-1);
    if (::fchownat(n.path.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
      // EINVAL: an id the server's user namespace (its sandbox, when not run as root) does not
      // map, which the host would have refused the server's user anyway.
      return errno == EINVAL ? fail(EPERM, "chown") : fail_errno("chown");
  }
  if (req.valid & p9::kSetattrSize) {
    if (req.size > static_cast<std::uint64_t>(LLONG_MAX)) return fail(EFBIG);
    if (n.type == S_IFDIR) return fail(EISDIR);
    if (n.type != S_IFREG) return fail(EINVAL, "truncate of a special file");
    const int fd = n.io.load(std::memory_order_acquire);
    const int rc = (fd >= 0 && n.writable)
                       ? ::ftruncate(fd, static_cast<off_t>(req.size))
                       : ::truncate(inode.c_str(), static_cast<off_t>(req.size));
    if (rc != 0) return fail_errno("truncate");
  }
  if (req.valid & (p9::kSetattrAtime | p9::kSetattrMtime)) {
    auto at = time_arg(req.valid & p9::kSetattrAtime, req.valid & p9::kSetattrAtimeSet,
                       req.atime_sec, req.atime_nsec);
    if (!at) return std::unexpected(at.error());
    auto mt = time_arg(req.valid & p9::kSetattrMtime, req.valid & p9::kSetattrMtimeSet,
                       req.mtime_sec, req.mtime_nsec);
    if (!mt) return std::unexpected(mt.error());
    const timespec ts[2] = {*at, *mt};
    // Through the magic link the times land on the inode itself, symlinks included.
    if (::utimensat(AT_FDCWD, inode.c_str(), ts, 0) != 0) return fail_errno("utimensat");
  }
  return {};
}

Result<void> LocalFs::statfs(Node& node, p9::Rstatfs& out) {
  LocalNode& n = as_local(node);
  struct statfs sf {};
  if (::fstatfs(n.path.get(), &sf) != 0) return fail_errno("statfs");
  out.type = static_cast<std::uint32_t>(sf.f_type);
  out.bsize = static_cast<std::uint32_t>(sf.f_bsize);
  out.blocks = sf.f_blocks;
  out.bfree = sf.f_bfree;
  out.bavail = sf.f_bavail;
  out.files = sf.f_files;
  out.ffree = sf.f_ffree;
  std::uint32_t fsid[2];
  static_assert(sizeof sf.f_fsid == sizeof fsid);
  std::memcpy(fsid, &sf.f_fsid, sizeof fsid);
  out.fsid = static_cast<std::uint64_t>(fsid[0]) | static_cast<std::uint64_t>(fsid[1]) << 32;
  out.namelen = static_cast<std::uint32_t>(sf.f_namelen);
  return {};
}

Result<std::size_t> LocalFs::readlink(Node& node, std::span<char> out) {
  LocalNode& n = as_local(node);
  if (n.type != S_IFLNK) return fail(EINVAL, "not a symlink");
  ssize_t len = ::readlinkat(n.path.get(), "", out.data(), out.size());
  if (len < 0) return fail_errno("readlink");
  if (static_cast<std::size_t>(len) >= out.size()) return fail(ENAMETOOLONG);
  return static_cast<std::size_t>(len);
}

namespace {

// Reads a size-then-fill xattr call, retrying while the value grows between the two.
template <typename Call>
Result<void> read_sized(std::vector<std::uint8_t>& out, Call call) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    ssize_t size = call(nullptr, 0);
    if (size < 0) return fail_errno("xattr");
    out.resize(static_cast<std::size_t>(size));
    if (size == 0) return {};
    ssize_t got = call(out.data(), out.size());
    if (got >= 0) {
      out.resize(static_cast<std::size_t>(got));
      return {};
    }
    if (errno != ERANGE) return fail_errno("xattr");
  }
  return fail(ERANGE, "xattr keeps changing size");
}

}  // namespace

Result<void> LocalFs::xattr_get(Node& node, std::string_view name, std::vector<std::uint8_t>& out) {
  LocalNode& n = as_local(node);
  const ProcFdPath inode(n.path.get());
  const CName cname(name);
  return read_sized(out, [&](void* buf, std::size_t size) {
    return ::getxattr(inode.c_str(), cname.c_str(), buf, size);
  });
}

Result<void> LocalFs::xattr_list(Node& node, std::vector<std::uint8_t>& out) {
  LocalNode& n = as_local(node);
  const ProcFdPath inode(n.path.get());
  return read_sized(out, [&](void* buf, std::size_t size) {
    return ::listxattr(inode.c_str(), static_cast<char*>(buf), size);
  });
}

Result<void> LocalFs::xattr_set(Node& node, std::string_view name, p9::Bytes value,
                                std::uint32_t flags) {
  LocalNode& n = as_local(node);
  if (opts_.read_only) return fail(EROFS);
  const ProcFdPath inode(n.path.get());
  const CName cname(name);
  if (::setxattr(inode.c_str(), cname.c_str(), value.data(), value.size(),
                 translate_xattr_flags(flags)) != 0)
    return fail_errno("setxattr");
  return {};
}

Result<void> LocalFs::xattr_remove(Node& node, std::string_view name) {
  LocalNode& n = as_local(node);
  if (opts_.read_only) return fail(EROFS);
  const ProcFdPath inode(n.path.get());
  const CName cname(name);
  if (::removexattr(inode.c_str(), cname.c_str()) != 0) return fail_errno("removexattr");
  return {};
}

}  // namespace ninep::server::localfs
