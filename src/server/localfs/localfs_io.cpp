// LocalFs: opening and creating files, reading, writing, directory streams, fsync.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "server/localfs/host_path.h"
#include "server/localfs/localfs.h"
#include "server/localfs/open_flags.h"

namespace ninep::server::localfs {
namespace {

constexpr std::size_t kDirBufferSize = 32 * 1024;

Result<off_t> checked_offset(std::uint64_t offset) {
  if (offset > static_cast<std::uint64_t>(LLONG_MAX)) return fail(EINVAL, "offset too large");
  return static_cast<off_t>(offset);
}

struct linux_dirent64 {
  std::uint64_t d_ino;
  std::int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

}  // namespace

Result<p9::Qid> LocalFs::open(Node& node, std::uint32_t flags) {
  LocalNode& n = as_local(node);
  auto host = translate_open_flags(flags);
  if (!host) return std::unexpected(host.error());
  if (opts_.read_only && host->wants_write) return fail(EROFS);
  if (n.type == S_IFLNK) return fail(ELOOP, "a symlink cannot be opened");
  // A file moved out of the export on the host since it was walked is not opened.
  if (auto r = still_inside(n); !r) return std::unexpected(r.error());
  if (!opens_on_host(n.type)) return fail(EPERM, "special files are never opened on the host");
  struct stat st {};
  auto fd = open_regular_or_dir(ProcFdPath(n.path.get()).c_str(), host->flags, st);
  if (!fd) return std::unexpected(fd.error());
  n.qid = qid_of(st);
  n.writable = host->wants_write || (host->flags & O_ACCMODE) != O_RDONLY;
  {
    std::lock_guard lk(n.dir_mu);
    n.dir = DirStream{};
  }
  int old = n.io.exchange(fd->release());
  if (old >= 0) ::close(old);
  return n.qid;
}

Result<p9::Qid> LocalFs::create(Node& dirnode, std::string_view name, std::uint32_t flags,
                                std::uint32_t mode, std::uint32_t gid) {
  LocalNode& d = as_local(dirnode);
  if (opts_.read_only) return fail(EROFS);
  if (auto r = usable_dir(d); !r) return std::unexpected(r.error());
  auto host = translate_open_flags(flags);
  if (!host) return std::unexpected(host.error());
  use_thread_umask();
  const int f = (host->flags & ~O_DIRECTORY) | O_NOFOLLOW;
  CName cname(name);
  // O_EXCL always: without it an existing FIFO or device node of that name would be opened. A
  // name that exists (when the client allowed that) is opened like Tlopen opens it: only if it
  // is a regular file, never waiting.
  UniqueFd fd(::openat(d.path.get(), cname.c_str(), f | O_CREAT | O_EXCL | O_NONBLOCK,
                       static_cast<mode_t>(mode & 07777)));
  if (fd) {
    if (!(host->flags & O_NONBLOCK) && ::fcntl(fd.get(), F_SETFL, f & ~O_ACCMODE) != 0)
      return fail_errno("create");
  } else if (errno == EEXIST && !(flags & p9::kOExcl)) {
    UniqueFd existing(::openat(d.path.get(), cname.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!existing) return fail_errno("create");
    struct stat st {};
    if (::fstat(existing.get(), &st) != 0) return fail_errno("create");
    if (!S_ISREG(st.st_mode)) return fail(S_ISDIR(st.st_mode) ? EISDIR : EPERM, "create");
    auto opened = open_regular_or_dir(ProcFdPath(existing.get()).c_str(), host->flags, st);
    if (!opened) return std::unexpected(opened.error());
    fd = std::move(*opened);
  } else {
    return fail_errno("create");
  }
  UniqueFd path(::open(ProcFdPath(fd.get()).c_str(), O_PATH | O_CLOEXEC));
  if (!path) return fail_errno("create");
  auto qid = finish_create(d.path.get(), cname.c_str(), path.get(), gid);
  if (!qid) return std::unexpected(qid.error());
  struct stat st {};
  if (::fstat(path.get(), &st) != 0) return fail_errno("stat");
  // The fid now names the new, open file.
  {
    std::lock_guard lk(d.dir_mu);
    d.dir = DirStream{};
  }
  d.path = std::move(path);
  d.dev = st.st_dev;
  d.ino = st.st_ino;
  d.type = st.st_mode & S_IFMT;
  d.qid = *qid;
  d.writable = host->wants_write || (host->flags & O_ACCMODE) != O_RDONLY;
  int old = d.io.exchange(fd.release());
  if (old >= 0) ::close(old);
  return *qid;
}

Result<std::size_t> LocalFs::read(Node& node, std::uint64_t offset, std::span<std::uint8_t> out) {
  LocalNode& n = as_local(node);
  const int fd = n.io.load(std::memory_order_acquire);
  if (fd < 0) return fail(EBADF, "not open");
  auto off = checked_offset(offset);
  if (!off) return std::unexpected(off.error());
  for (;;) {
    ssize_t got = ::pread(fd, out.data(), out.size(), *off);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) return fail_errno("read");
  }
}

Result<std::size_t> LocalFs::write(Node& node, std::uint64_t offset, p9::Bytes data) {
  LocalNode& n = as_local(node);
  if (opts_.read_only) return fail(EROFS);
  const int fd = n.io.load(std::memory_order_acquire);
  if (fd < 0) return fail(EBADF, "not open");
  auto off = checked_offset(offset);
  if (!off) return std::unexpected(off.error());
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t put =
        ::pwrite(fd, data.data() + done, data.size() - done, *off + static_cast<off_t>(done));
    if (put < 0) {
      if (errno == EINTR) continue;
      if (done > 0) break;  // report the part that was written
      return fail_errno("write");
    }
    if (put == 0) break;
    done += static_cast<std::size_t>(put);
  }
  return done;
}

Result<void> LocalFs::readdir(Node& node, std::uint64_t offset, p9::ReaddirBuilder& out) {
  LocalNode& n = as_local(node);
  if (!n.is_dir()) return fail(ENOTDIR);
  // Listing a directory moved out of the export (on the host) would show what is outside.
  if (auto r = still_inside(n); !r) return r;
  std::lock_guard lk(n.dir_mu);
  DirStream& ds = n.dir;
  int fd = n.io.load(std::memory_order_acquire);
  if (fd < 0) {
    if (!ds.fd) {
      ds.fd =
          UniqueFd(::open(ProcFdPath(n.path.get()).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!ds.fd) return fail_errno("opendir");
    }
    fd = ds.fd.get();
  }
  if (ds.buf.empty()) {
    ds.buf.resize(kDirBufferSize);
    ds.pos = ds.len = 0;
    ds.eof = false;
    // A fresh stream: position it wherever the client asks.
    ds.next_cookie = offset == 0 ? 0 : ~offset;
  }
  if (offset != ds.next_cookie) {
    // A seek (rewinddir, seekdir, or a re-read after lseek in the client): the cookies are the
    // host's own d_off values, which the host accepts back through lseek.
    if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) return fail_errno("seekdir");
    ds.pos = ds.len = 0;
    ds.eof = false;
    ds.next_cookie = offset;
  }
  const bool at_root = is_root(n);
  for (;;) {
    if (ds.pos >= ds.len) {
      if (ds.eof) break;
      long got = ::syscall(SYS_getdents64, fd, ds.buf.data(), ds.buf.size());
      if (got < 0) {
        if (out.count() > 0) break;
        return fail_errno("getdents");
      }
      if (got == 0) {
        ds.eof = true;
        break;
      }
      // Checked right after each read: the directory may have left the export meanwhile, and
      // then what was read must not be listed, now or later from the buffer.
      if (auto r = still_inside(n); !r) {
        ds.buf.clear();
        return r;
      }
      ds.pos = 0;
      ds.len = static_cast<std::size_t>(got);
    }
    auto* e = reinterpret_cast<const linux_dirent64*>(ds.buf.data() + ds.pos);
    std::string_view name(e->d_name);
    p9::Dirent d;
    d.offset = static_cast<std::uint64_t>(e->d_off);
    d.name = name;
    d.type = e->d_type;  // Linux's DT_* values are 9P2000.L's
    if (at_root && name == "..") {
      // Never reveal what is above the export: its ".." is itself.
      d.qid = n.qid;
      d.type = p9::kDtDir;
    } else {
      if (d.type == p9::kDtUnknown) {
        struct stat st {};
        if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
          d.type = p9::dt_from_mode(st.st_mode);
      }
      d.qid.type = d.type == p9::kDtDir   ? p9::kQtDir
                   : d.type == p9::kDtLnk ? p9::kQtSymlink
                                          : p9::kQtFile;
      d.qid.path = qid_path(n.dev, static_cast<ino_t>(e->d_ino));
      d.qid.version = 0;
    }
    if (!out.add(d)) break;  // the reply is full; this entry stays buffered
    ds.pos += e->d_reclen;
    ds.next_cookie = d.offset;
  }
  // Checked again afterwards: buffered entries may have been read while it was outside.
  if (auto r = still_inside(n); !r) {
    ds.buf.clear();
    return r;
  }
  return {};
}

Result<void> LocalFs::fsync(Node& node, bool datasync) {
  LocalNode& n = as_local(node);
  int fd = n.io.load(std::memory_order_acquire);
  UniqueFd temp;
  if (fd < 0) {
    // Nothing to flush that the server could reach without opening a special file.
    if (!opens_on_host(n.type)) return {};
    struct stat st {};
    auto opened = open_regular_or_dir(ProcFdPath(n.path.get()).c_str(), O_RDONLY | O_CLOEXEC, st);
    if (!opened) return std::unexpected(opened.error());
    temp = std::move(*opened);
    fd = temp.get();
  }
  if ((datasync ? ::fdatasync(fd) : ::fsync(fd)) != 0) return fail_errno("fsync");
  return {};
}

}  // namespace ninep::server::localfs
