// The readiness protocol of detached mounts (mount/readiness.h), with stand-in bodies: the
// parent returns once the detached process says the mount is usable or why it is not.
#include "mount/readiness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace ninep::mount {
namespace {

// Whether `pid` still runs.
bool alive(pid_t pid) {
  return ::kill(pid, 0) == 0;
}

TEST(ReadReadiness, Reports) {
  auto over_pipe = [](std::string_view written) {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    EXPECT_EQ(::write(p[1], written.data(), written.size()), ssize_t(written.size()));
    ::close(p[1]);
    auto r = read_readiness(p[0]);
    ::close(p[0]);
    return r;
  };
  EXPECT_TRUE(over_pipe("0"));
  auto failed = over_pipe("1unix:/x: connect: Connection refused");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().to_string(), "unix:/x: connect: Connection refused");
  auto silent = over_pipe("");
  ASSERT_FALSE(silent);
  EXPECT_EQ(silent.error().to_string(), "mount process exited before the mount was ready");
}

TEST(SignalReady, WritesZeroAndClosesTheDescriptor) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(p[0]);
    int fd = p[1];
    signal_ready(fd);
    ::_exit(fd == -1 && ::fcntl(p[1], F_GETFD) < 0 ? 0 : 1);
  }
  ::close(p[1]);
  EXPECT_TRUE(read_readiness(p[0]));
  ::close(p[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  int none = -1;
  signal_ready(none);  // nothing to do
  signal_failure(-1, "x");
}

TEST(RunDetached, ReturnsOnceReadyWhileTheProcessGoesOn) {
  int stop[2];
  ASSERT_EQ(::pipe(stop), 0);
  auto pid = run_detached([&](int ready_fd) {
    ::close(stop[1]);
    if (::getsid(0) != ::getpid()) return 3;  // not detached into its own session
    signal_ready(ready_fd);
    char c;
    while (::read(stop[0], &c, 1) < 0 && errno == EINTR) {
    }
    return 0;
  });
  ::close(stop[0]);
  ASSERT_TRUE(pid) << pid.error().to_string();
  EXPECT_TRUE(alive(*pid));
  ::close(stop[1]);  // lets it end
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(RunDetached, FailureMessageComesBackAndTheProcessIsReaped) {
  auto pid = run_detached([](int ready_fd) {
    signal_failure(ready_fd, "/mnt: mount: Operation not permitted");
    return 1;
  });
  ASSERT_FALSE(pid);
  EXPECT_EQ(pid.error().to_string(), "/mnt: mount: Operation not permitted");
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // no child left
  EXPECT_EQ(errno, ECHILD);
}

TEST(RunDetached, DyingWithoutAWordIsAnError) {
  auto pid = run_detached([](int) { return 0; });
  ASSERT_FALSE(pid);
  EXPECT_EQ(pid.error().message, "mount process exited before the mount was ready");
  auto crashed = run_detached([](int) {
    ::kill(::getpid(), SIGKILL);
    return 0;
  });
  ASSERT_FALSE(crashed);
  EXPECT_EQ(crashed.error().message, "mount process exited before the mount was ready");
}

}  // namespace
}  // namespace ninep::mount
