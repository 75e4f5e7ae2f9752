#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "mount/kernel.h"
#include "temp_dir.h"

namespace ninep::mount {
namespace {

// A temporary directory from tests/support, or an empty path when it cannot be made.
ninep::testing::TempDir temp_dir() {
  auto t = ninep::testing::TempDir::create("ninep-mount-test-");
  return t ? std::move(*t) : ninep::testing::TempDir{};
}

TEST(KernelHas9p, AgreesWithProcFilesystems) {
  std::ifstream in("/proc/filesystems");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kernel_has_9p(), all.find("\t9p\n") != std::string::npos);
}

TEST(KernelMount, RejectsInvalidOptionsBeforeTouchingTheConnection) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  UniqueFd keep(fds[1]);
  KernelMountOptions opts;
  opts.extra = {"trans=tcp"};
  auto r = kernel_mount(UniqueFd(fds[0]), "/nonexistent", opts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EINVAL);
}

TEST(KernelMount, RejectsABadDescriptor) {
  auto r = kernel_mount(UniqueFd(), "/mnt", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EBADF);
  EXPECT_NE(r.error().message.find("/mnt"), std::string::npos);
}

TEST(KernelMount, RejectsADatagramSocket) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, fds), 0);
  UniqueFd keep(fds[1]);
  auto r = kernel_mount(UniqueFd(fds[0]), "/mnt", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EINVAL);
}

// Where the kernel has no 9p (this host), mount(2) must fail with a message naming the directory,
// the options and a hint, for the socket path and for the relayed (non-socket) path alike.
TEST(KernelMount, FailsClearlyWithout9p) {
  if (kernel_has_9p()) GTEST_SKIP() << "this kernel has 9p; the guest suite covers real mounts";
  ninep::testing::TempDir dir = temp_dir();
  ASSERT_FALSE(dir.path().empty());

  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  UniqueFd peer(fds[1]);
  auto r = kernel_mount(UniqueFd(fds[0]), dir.path(), {});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().code == ENODEV || r.error().code == EPERM) << r.error().to_string();
  EXPECT_NE(r.error().message.find(dir.path()), std::string::npos);
  EXPECT_NE(r.error().message.find("trans=fd"), std::string::npos);

  // A non-socket connection (a FIFO stands in for a virtio-serial port) goes through the relay.
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int dev = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(dev, 0);
  r = kernel_mount(UniqueFd(dev), dir.path(), {});
  ::unlink(fifo.c_str());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().code == ENODEV || r.error().code == EPERM) << r.error().to_string();
}

}  // namespace
}  // namespace ninep::mount
