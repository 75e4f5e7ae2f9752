#define FUSE_USE_VERSION 314
#include "fuse/attr.h"

#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>

#include "p9/message.h"

namespace ninep::fuse {

struct stat to_stat(const client::Attr& a) {
  struct stat st {};
  st.st_ino = a.qid.path;
  st.st_mode = a.mode;
  st.st_nlink = static_cast<nlink_t>(a.nlink);
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_rdev = static_cast<dev_t>(a.rdev);
  st.st_size = static_cast<off_t>(a.size);
  st.st_blksize = a.blksize ? static_cast<blksize_t>(a.blksize) : 4096;
  st.st_blocks = static_cast<blkcnt_t>(a.blocks);
  st.st_atim.tv_sec = static_cast<time_t>(a.atime_sec);
  st.st_atim.tv_nsec = static_cast<long>(a.atime_nsec);
  st.st_mtim.tv_sec = static_cast<time_t>(a.mtime_sec);
  st.st_mtim.tv_nsec = static_cast<long>(a.mtime_nsec);
  st.st_ctim.tv_sec = static_cast<time_t>(a.ctime_sec);
  st.st_ctim.tv_nsec = static_cast<long>(a.ctime_nsec);
  return st;
}

client::SetAttr to_setattr(const struct stat& st, int to_set) {
  client::SetAttr s;
  if (to_set & FUSE_SET_ATTR_MODE) {
    s.valid |= p9::kSetattrMode;
    s.mode = st.st_mode & 07777;
  }
  if (to_set & FUSE_SET_ATTR_UID) {
    s.valid |= p9::kSetattrUid;
    s.uid = st.st_uid;
  }
  if (to_set & FUSE_SET_ATTR_GID) {
    s.valid |= p9::kSetattrGid;
    s.gid = st.st_gid;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    s.valid |= p9::kSetattrSize;
    s.size = static_cast<std::uint64_t>(st.st_size);
  }
  // A time bit without its *_SET bit means "now, on the server", which is what *_NOW asks for.
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
    s.valid |= p9::kSetattrAtime;
  } else if (to_set & FUSE_SET_ATTR_ATIME) {
    s.valid |= p9::kSetattrAtime | p9::kSetattrAtimeSet;
    s.atime_sec = static_cast<std::uint64_t>(st.st_atim.tv_sec);
    s.atime_nsec = static_cast<std::uint64_t>(st.st_atim.tv_nsec);
  }
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
    s.valid |= p9::kSetattrMtime;
  } else if (to_set & FUSE_SET_ATTR_MTIME) {
    s.valid |= p9::kSetattrMtime | p9::kSetattrMtimeSet;
    s.mtime_sec = static_cast<std::uint64_t>(st.st_mtim.tv_sec);
    s.mtime_nsec = static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  }
  if (to_set & FUSE_SET_ATTR_CTIME) s.valid |= p9::kSetattrCtime;
  return s;
}

std::uint32_t to_lopen_flags(int f) {
  std::uint32_t out = 0;
  switch (f & O_ACCMODE) {
    case O_WRONLY:
      out = p9::kOWronly;
      break;
    case O_RDWR:
      out = p9::kORdwr;
      break;
    default:
      out = p9::kORdonly;
      break;
  }
  if (f & O_TRUNC) out |= p9::kOTrunc;
  if (f & O_APPEND) out |= p9::kOAppend;
  if (f & O_DSYNC) out |= p9::kODsync;
  if ((f & O_SYNC) == O_SYNC) out |= p9::kOSync;
  if (f & O_NOATIME) out |= p9::kONoatime;
  if (f & O_DIRECTORY) out |= p9::kODirectory;
  return out;
}

int to_errno(const Error& e, bool connection_alive) {
  if (!connection_alive) return EIO;
  if (e.code <= 0 || e.code >= 4096) return EIO;
  return e.code;
}

}  // namespace ninep::fuse
