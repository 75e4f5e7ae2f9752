// LocalFs: operations on names in directories.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

#include "server/localfs/host_path.h"
#include "server/localfs/localfs.h"

namespace ninep::server::localfs {
namespace {

// Host file-type bits from the Linux values carried in 9P mode fields.
Result<mode_t> host_type(std::uint32_t mode) {
  switch (mode & p9::kSIfmt) {
    case p9::kSIfreg:
      return S_IFREG;
    case p9::kSIfchr:
      return S_IFCHR;
    case p9::kSIfblk:
      return S_IFBLK;
    case p9::kSIfifo:
      return S_IFIFO;
    case p9::kSIfsock:
      return S_IFSOCK;
    case 0:
      return S_IFREG;
    default:
      return fail(EINVAL, "mknod of this file type");
  }
}

}  // namespace

Result<p9::Qid> LocalFs::mkdir(Node& dirnode, std::string_view name, std::uint32_t mode,
                               std::uint32_t gid) {
  LocalNode& d = as_local(dirnode);
  if (opts_.read_only) return fail(EROFS);
  if (auto r = usable_dir(d); !r) return std::unexpected(r.error());
  const CName cname(name);
  use_thread_umask();
  if (::mkdirat(d.path.get(), cname.c_str(), static_cast<mode_t>(mode & 07777)) != 0)
    return fail_errno("mkdir");
  UniqueFd fd(::openat(d.path.get(), cname.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail_errno("mkdir");
  return finish_create(d.path.get(), cname.c_str(), fd.get(), gid);
}

Result<p9::Qid> LocalFs::symlink(Node& dirnode, std::string_view name, std::string_view target,
                                 std::uint32_t gid) {
  LocalNode& d = as_local(dirnode);
  if (opts_.read_only) return fail(EROFS);
  if (auto r = usable_dir(d); !r) return std::unexpected(r.error());
  const CName cname(name);
  const std::string ctarget(target);
  // The target is stored as given (even absolute or full of ".."): nothing here ever follows it.
  if (::symlinkat(ctarget.c_str(), d.path.get(), cname.c_str()) != 0) return fail_errno("symlink");
  UniqueFd fd(::openat(d.path.get(), cname.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail_errno("symlink");
  return finish_create(d.path.get(), cname.c_str(), fd.get(), gid);
}

Result<p9::Qid> LocalFs::mknod(Node& dirnode, std::string_view name, std::uint32_t mode,
                               std::uint32_t maj, std::uint32_t min, std::uint32_t gid) {
  LocalNode& d = as_local(dirnode);
  if (opts_.read_only) return fail(EROFS);
  if (auto r = usable_dir(d); !r) return std::unexpected(r.error());
  auto type = host_type(mode);
  if (!type) return std::unexpected(type.error());
  const CName cname(name);
  use_thread_umask();
  if (::mknodat(d.path.get(), cname.c_str(), *type | static_cast<mode_t>(mode & 07777),
                makedev(maj, min)) != 0)
    return fail_errno("mknod");
  UniqueFd fd(::openat(d.path.get(), cname.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail_errno("mknod");
  return finish_create(d.path.get(), cname.c_str(), fd.get(), gid);
}

Result<void> LocalFs::link(Node& dirnode, Node& targetnode, std::string_view name) {
  LocalNode& d = as_local(dirnode);
  LocalNode& t = as_local(targetnode);
  if (opts_.read_only) return fail(EROFS);
  if (auto r = usable_dir(d); !r) return std::unexpected(r.error());
  if (t.is_dir()) return fail(EPERM, "hard link to a directory");
  const CName cname(name);
  // linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the magic link with
  // AT_SYMLINK_FOLLOW links the very inode (a symlink itself, not its target) for anyone.
  if (::linkat(AT_FDCWD, ProcFdPath(t.path.get()).c_str(), d.path.get(), cname.c_str(),
               AT_SYMLINK_FOLLOW) != 0)
    return fail_errno("link");
  return {};
}

Result<void> LocalFs::rename(Node& node, Node& newdirnode, std::string_view newname) {
  LocalNode& n = as_local(node);
  LocalNode& nd = as_local(newdirnode);
  if (opts_.read_only) return fail(EROFS);
  if (auto r = usable_dir(nd); !r) return std::unexpected(r.error());
  std::string oldname;
  auto olddir = locate(n, oldname);
  if (!olddir) return std::unexpected(olddir.error());
  const CName cnew(newname);
  if (::renameat(olddir->get(), oldname.c_str(), nd.path.get(), cnew.c_str()) != 0)
    return fail_errno("rename");
  return {};
}

Result<void> LocalFs::renameat(Node& olddirnode, std::string_view oldname, Node& newdirnode,
                               std::string_view newname) {
  LocalNode& od = as_local(olddirnode);
  LocalNode& nd = as_local(newdirnode);
  if (opts_.read_only) return fail(EROFS);
  if (auto r = usable_dir(od); !r) return std::unexpected(r.error());
  if (&od != &nd) {
    if (auto r = usable_dir(nd); !r) return std::unexpected(r.error());
  }
  const CName cold(oldname), cnew(newname);
  if (::renameat(od.path.get(), cold.c_str(), nd.path.get(), cnew.c_str()) != 0)
    return fail_errno("renameat");
  return {};
}

Result<void> LocalFs::unlinkat(Node& dirnode, std::string_view name, std::uint32_t flags) {
  LocalNode& d = as_local(dirnode);
  if (opts_.read_only) return fail(EROFS);
  if (auto r = usable_dir(d); !r) return std::unexpected(r.error());
  const CName cname(name);
  const int host = (flags & p9::kAtRemovedir) ? AT_REMOVEDIR : 0;
  if (::unlinkat(d.path.get(), cname.c_str(), host) != 0) return fail_errno("unlink");
  return {};
}

Result<void> LocalFs::remove(Node& node) {
  LocalNode& n = as_local(node);
  if (opts_.read_only) return fail(EROFS);
  std::string name;
  auto dir = locate(n, name);
  if (!dir) return std::unexpected(dir.error());
  if (::unlinkat(dir->get(), name.c_str(), n.is_dir() ? AT_REMOVEDIR : 0) != 0)
    return fail_errno("remove");
  return {};
}

}  // namespace ninep::server::localfs
