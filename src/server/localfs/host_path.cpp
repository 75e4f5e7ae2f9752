#include "server/localfs/host_path.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <string>

namespace ninep::server::localfs {

const char* g_fd_link_prefix = "/proc/self/fd/";

Result<std::string_view> current_path(int fd) {
  thread_local std::array<char, PATH_MAX + 1> buf;
  ProcFdPath link(fd);
  ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size());
  if (n < 0) return fail_errno("readlink /proc/self/fd");
  if (static_cast<std::size_t>(n) >= buf.size()) return fail(ENAMETOOLONG, "path too long");
  return std::string_view(buf.data(), static_cast<std::size_t>(n));
}

namespace {

std::atomic<bool> g_no_openat2{false};

Result<UniqueFd> open_by_components(int root, std::string_view rel, int flags) {
  UniqueFd cur(::openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return fail_errno("open export root");
  std::string name;
  while (!rel.empty()) {
    std::size_t slash = rel.find('/');
    std::string_view part = rel.substr(0, slash);
    rel = slash == std::string_view::npos ? std::string_view{} : rel.substr(slash + 1);
    if (part.empty()) continue;
    if (part == "." || part == "..") return fail(EINVAL, "unexpected '.' or '..' in a path");
    name.assign(part);
    const int f = rel.empty() ? (flags | O_NOFOLLOW) : (O_PATH | O_DIRECTORY | O_NOFOLLOW);
    UniqueFd next(::openat(cur.get(), name.c_str(), f | O_CLOEXEC));
    if (!next) return fail_errno("open " + name);
    cur = std::move(next);
  }
  if (cur && (flags & O_PATH) == 0) {
    // Whole path consumed while only directories were opened: reopen the last one as asked.
    UniqueFd again(::openat(cur.get(), ".", flags | O_CLOEXEC));
    if (!again) return fail_errno("reopen");
    return again;
  }
  return cur;
}

}  // namespace

Result<UniqueFd> open_checked_beneath(int root, const char* rel, int flags) {
  if (g_no_openat2.load(std::memory_order_relaxed)) return fail(ENOSYS, "no openat2");
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0; attempt < 8; ++attempt) {
    long fd = ::syscall(SYS_openat2, root, rel, &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno == EAGAIN || errno == EINTR) continue;  // a concurrent rename; try again
    break;
  }
  const int e = errno;
  if (e == ENOSYS) g_no_openat2.store(true, std::memory_order_relaxed);
  return fail(e, "openat2");  // no allocation: a missing name is a common answer
}

bool have_openat2() {
  return !g_no_openat2.load(std::memory_order_relaxed);
}

void use_openat2_for_tests(bool use) {
  g_no_openat2.store(!use, std::memory_order_relaxed);
}

Result<UniqueFd> open_beneath(int root, std::string_view rel, int flags) {
  if (rel.empty()) {
    UniqueFd fd(::openat(root, ".", flags | O_CLOEXEC));
    if (!fd) return fail_errno("open export root");
    return fd;
  }
  if (have_openat2()) {
    auto fd = open_checked_beneath(root, std::string(rel).c_str(), flags);
    if (fd || fd.error().code != ENOSYS) return fd;
  }
  return open_by_components(root, rel, flags);
}

bool opens_on_host(mode_t type) {
  return type == S_IFREG || type == S_IFDIR;
}

Result<UniqueFd> open_regular_or_dir(const char* inode, int flags, struct stat& st) {
  // O_NONBLOCK first: even a regular file's open may otherwise wait (a lease being broken). The
  // type is checked on the open file too, whatever the caller checked before.
  UniqueFd fd(::open(inode, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return fail_errno("open");
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat");
  if (!opens_on_host(st.st_mode & S_IFMT))
    return fail(EPERM, "special files are never opened on the host");
  if (!(flags & O_NONBLOCK) && ::fcntl(fd.get(), F_SETFL, flags & ~O_ACCMODE) != 0)
    return fail_errno("open");
  return fd;
}

void use_thread_umask() {
  // Modes arrive already masked by the client's umask, so creating must not mask them again;
  // but the umask belongs to the process (and to the sockets it creates), so each thread that
  // creates files gets its own file-system context (cwd, root, umask) with a umask of 0.
  thread_local bool own_umask = false;
  if (own_umask) return;
  if (::unshare(CLONE_FS) == 0) ::umask(0);
  own_umask = true;
}

}  // namespace ninep::server::localfs
