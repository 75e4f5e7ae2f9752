#include "mount/readiness.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace ninep::mount {
namespace {

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(std::size_t(n));
  }
}

void detach_stdio() {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return;
  ::dup2(null, 0);
  ::dup2(null, 1);
  ::dup2(null, 2);
  if (null > 2) ::close(null);
}

}  // namespace

void signal_ready(int& fd) {
  if (fd < 0) return;
  write_all(fd, "0");
  ::close(fd);
  fd = -1;
  detach_stdio();
}

void signal_failure(int fd, std::string_view message) {
  if (fd < 0) return;
  write_all(fd, "1" + std::string(message));
}

Result<void> read_readiness(int fd) {
  std::string msg;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      msg.append(buf, std::size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  if (!msg.empty() && msg[0] == '0') return {};
  if (msg.empty()) return fail(0, "mount process exited before the mount was ready");
  return fail(0, msg.substr(1));
}

Result<pid_t> run_detached(const std::function<int(int ready_fd)>& body) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("pipe");
  pid_t pid = ::fork();
  if (pid < 0) {
    Error e{errno, "fork"};
    ::close(p[0]);
    ::close(p[1]);
    return std::unexpected(e);
  }
  if (pid == 0) {
    ::close(p[0]);
    ::setsid();
    if (::chdir("/") != 0) {
      // keep going: the mount does not depend on the working directory
    }
    ::_exit(body(p[1]));
  }
  ::close(p[1]);
  auto r = read_readiness(p[0]);
  ::close(p[0]);
  if (r) return pid;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return std::unexpected(r.error());
}

}  // namespace ninep::mount
