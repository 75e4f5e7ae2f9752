// Binding unix sockets to files with exact permissions.
//
// bind() creates the file with the socket inode's mode less the umask, so a file bound in place
// would be visible with whatever the umask left (0777 under umask 0) until a chmod; and a chmod
// or chown by path afterwards could be redirected by whoever can rename entries in the
// directory. Binding in a directory only we can enter, fixing mode and group there, and renaming
// the finished file into place leaves neither window.
#include "transport/socket_file.h"

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <vector>

#include "common/unique_fd.h"

namespace ninep::transport {
namespace {

// Removes the private directory (and the socket, if still inside) on every path out.
struct PrivateDir {
  std::string path;
  UniqueFd fd;
  ~PrivateDir() {
    if (path.empty()) return;
    if (fd) ::unlinkat(fd.get(), "s", 0);
    ::rmdir(path.c_str());
  }
};

}  // namespace

Result<void> listen_unix_socket_file(int fd, const std::string& path, mode_t mode,
                                     std::optional<gid_t> group, int backlog) {
  auto what = [&](std::string_view step) { return fmt::format("{} for unix:{}", step, path); };
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (slash == 0) dir.clear();  // "/name": the root directory
  if (slash != std::string::npos && slash + 1 == path.size())
    return fail(EINVAL, fmt::format("listen on unix:{}: the path names a directory", path));

  // Owner-only from birth even if the rest fails (bind masks this mode with the umask).
  ::fchmod(fd, mode & 0700);

  PrivateDir tmp;
  std::string tmpl = dir + "/.ninep-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return fail_errno(what("create a private directory"));
  tmp.path = tmpl;
  tmp.fd.reset(::open(tmpl.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!tmp.fd) return fail_errno(what("open the private directory"));
  struct stat st;
  if (::fstat(tmp.fd.get(), &st) != 0) return fail_errno(what("stat the private directory"));
  // mkdtemp's 0700 is also masked by the umask; an O_PATH descriptor cannot be fchmod()ed, its
  // /proc link can (and names exactly the directory we created).
  const std::string fd_path = "/proc/self/fd/" + std::to_string(tmp.fd.get());
  if ((st.st_mode & 07777) != 0700 && ::chmod(fd_path.c_str(), 0700) != 0)
    return fail_errno(what("chmod the private directory"));

  std::string bind_path = tmpl + "/s";
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (bind_path.size() >= sizeof sa.sun_path) bind_path = fd_path + "/s";
  if (bind_path.size() >= sizeof sa.sun_path)
    return fail(ENAMETOOLONG, fmt::format("listen on unix:{}: path too long", path));
  std::memcpy(sa.sun_path, bind_path.data(), bind_path.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    return fail_errno(fmt::format("bind unix:{}", path));
  if (group &&
      ::fchownat(tmp.fd.get(), "s", static_cast<uid_t>(-1), *group, AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno(what(fmt::format("give group {} to the socket", *group)));
  if (::fchmodat(tmp.fd.get(), "s", mode, 0) != 0)
    return fail_errno(what(fmt::format("chmod {:o} the socket", mode)));
  // Listening before the file appears: a probe for stale sockets never finds it refusing.
  if (::listen(fd, backlog) != 0) return fail_errno(fmt::format("listen on unix:{}", path));

  const char* target = path.c_str();
  int rc = ::renameat2(tmp.fd.get(), "s", AT_FDCWD, target, RENAME_NOREPLACE);
  if (rc != 0 && errno == EINVAL) {
    // A filesystem without RENAME_NOREPLACE: link() also refuses to replace.
    rc = ::linkat(tmp.fd.get(), "s", AT_FDCWD, target, 0);
  }
  if (rc != 0) {
    if (errno == EEXIST)
      return fail(EADDRINUSE, fmt::format("listen on unix:{}: the path appeared meanwhile", path));
    return fail_errno(fmt::format("bind unix:{}", path));
  }
  return {};  // PrivateDir removes the directory (and the second link, if linkat was used)
}

Result<gid_t> resolve_group(std::string_view name) {
  if (name.empty()) return fail(EINVAL, "--socket-group: empty group");
  gid_t gid = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), gid);
  if (ec == std::errc() && p == name.data() + name.size()) return gid;
  std::string n(name);
  std::vector<char> buf(4096);
  for (;;) {
    group gr{};
    group* res = nullptr;
    int e = ::getgrnam_r(n.c_str(), &gr, buf.data(), buf.size(), &res);
    if (e == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 4);
      continue;
    }
    if (e != 0) return fail(e, fmt::format("group '{}'", n));
    if (res == nullptr) return fail(ENOENT, fmt::format("group '{}': no such group", n));
    return gr.gr_gid;
  }
}

}  // namespace ninep::transport
