#include "transport/socket.h"

#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <numeric>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace ninep::transport {
namespace {

using ninep::testing::TempDir;

Address unix_addr(const std::string& path) {
  Address a;
  a.kind = Address::Kind::Unix;
  a.path = path;
  return a;
}

class SocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("ninep-transport-");
    ASSERT_TRUE(d) << d.error().to_string();
    dir_ = std::move(*d);
  }
  TempDir dir_;
};

// Sends `msg` from a dialed connection and checks the accepted side receives it.
void expect_round_trip(Listener& l, const Address& dial_addr) {
  auto acc = std::async(std::launch::async, [&] { return l.accept(); });
  auto c = dial(dial_addr);
  ASSERT_TRUE(c) << c.error().to_string();
  auto s = acc.get();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_NE(::fcntl(c->get(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(::fcntl(s->get(), F_GETFD) & FD_CLOEXEC, 0);
  const std::uint8_t msg[] = {1, 2, 3, 4, 5};
  ASSERT_TRUE(write_all(c->get(), msg));
  std::uint8_t got[5] = {};
  ASSERT_TRUE(read_full(s->get(), got));
  EXPECT_EQ(std::vector<std::uint8_t>(got, got + 5), std::vector<std::uint8_t>(msg, msg + 5));
}

TEST_F(SocketTest, UnixListenDialAndCleanupOnClose) {
  Address a = unix_addr(dir_ / "s.sock");
  {
    auto l = listen(a);
    ASSERT_TRUE(l) << l.error().to_string();
    expect_round_trip(*l, a);
    struct stat st;
    ASSERT_EQ(::stat(a.path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
  }
  EXPECT_NE(::access(a.path.c_str(), F_OK), 0) << "socket file left behind";
}

TEST_F(SocketTest, UnixListenReplacesStaleSocket) {
  Address a = unix_addr(dir_ / "stale.sock");
  // A socket file nobody listens on: bind without listen, then close.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strcpy(sa.sun_path, a.path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ::close(fd);
  }
  ASSERT_EQ(::access(a.path.c_str(), F_OK), 0);
  auto l = listen(a);
  ASSERT_TRUE(l) << l.error().to_string();
  expect_round_trip(*l, a);
}

TEST_F(SocketTest, UnixListenRefusesWhenSomeoneListens) {
  Address a = unix_addr(dir_ / "busy.sock");
  auto first = listen(a);
  ASSERT_TRUE(first);
  auto second = listen(a);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EADDRINUSE);
  // The probe connection that found the live server is closed at once: the server sees EOF.
  auto probe = first->accept();
  ASSERT_TRUE(probe);
  std::uint8_t b;
  EXPECT_FALSE(read_full(probe->get(), std::span(&b, 1)));
  // The first listener still works: its file was not removed.
  expect_round_trip(*first, a);
}

TEST_F(SocketTest, UnixListenRefusesToReplaceARegularFile) {
  Address a = unix_addr(dir_ / "file");
  int fd = ::open(a.path.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto l = listen(a);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, EADDRINUSE);
  EXPECT_EQ(::access(a.path.c_str(), F_OK), 0) << "regular file was removed";
}

TEST_F(SocketTest, DialMissingUnixSocketNamesTheAddress) {
  auto c = dial(unix_addr(dir_ / "nothing.sock"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ENOENT);
  EXPECT_NE(c.error().message.find("nothing.sock"), std::string::npos) << c.error().message;
}

TEST(TcpTest, LoopbackListenOnEphemeralPort) {
  auto a = parse_address("tcp:127.0.0.1:0");
  ASSERT_TRUE(a);
  auto l = listen(*a);
  ASSERT_TRUE(l) << l.error().to_string();
  ASSERT_NE(l->address().port, 0) << "ephemeral port not reported";
  expect_round_trip(*l, l->address());
}

TEST(TcpTest, Ipv6LoopbackWhenAvailable) {
  auto a = parse_address("tcp:[::1]:0");
  ASSERT_TRUE(a);
  auto l = listen(*a);
  if (!l) GTEST_SKIP() << "no IPv6 loopback here: " << l.error().to_string();
  expect_round_trip(*l, l->address());
}

TEST(TcpTest, NonLoopbackListenNeedsExplicitPermission) {
  auto a = parse_address("tcp:0.0.0.0:0");
  ASSERT_TRUE(a);
  auto l = listen(*a);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, EPERM);
  EXPECT_NE(l.error().message.find("loopback"), std::string::npos);
  // With the flag a loopback address still works (we do not open a public port in tests).
  auto lo = parse_address("tcp:localhost:0");
  ASSERT_TRUE(lo);
  EXPECT_TRUE(listen(*lo, ListenOptions{.allow_remote_tcp = true}));
}

TEST(TcpTest, LoopbackHostClassification) {
  for (const char* h : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1"})
    EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "example.com", "128.0.0.1"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(TcpTest, DialRefusedPort) {
  // Find a free port by binding and closing.
  auto l = listen(*parse_address("tcp:127.0.0.1:0"));
  ASSERT_TRUE(l);
  Address a = l->address();
  *l = Listener();
  auto c = dial(a);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ECONNREFUSED);
}

TEST(VsockTest, LoopbackRoundTrip) {
  // CID 1 is the local (loopback) CID; it needs the vsock_loopback module.
  constexpr std::uint32_t kPort = 56400;
  auto probe = dial(*parse_address("vsock:1:" + std::to_string(kPort)));
  if (!probe && probe.error().code != ECONNREFUSED && probe.error().code != ECONNRESET)
    GTEST_SKIP() << "AF_VSOCK connect to CID 1 failed, no vsock loopback on this machine ("
                 << probe.error().to_string() << "); vsock code is built but not exercised";
  auto l = listen(*parse_address("vsock:1:" + std::to_string(kPort)));
  ASSERT_TRUE(l) << l.error().to_string();
  expect_round_trip(*l, l->address());
}

TEST(VsockTest, DialWithoutCidIsRejected) {
  auto c = dial(*parse_address("vsock:1024"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, EINVAL);
  EXPECT_NE(c.error().message.find("CID"), std::string::npos);
}

TEST(FdTest, AdoptsInheritedDescriptor) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto a = parse_address("fd:" + std::to_string(sv[0]));
  ASSERT_TRUE(a);
  auto c = dial(*a);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->get(), sv[0]);
  EXPECT_NE(::fcntl(c->get(), F_GETFD) & FD_CLOEXEC, 0);
  const std::uint8_t b = 42;
  ASSERT_TRUE(write_all(sv[1], std::span(&b, 1)));
  std::uint8_t got = 0;
  ASSERT_TRUE(read_full(c->get(), std::span(&got, 1)));
  EXPECT_EQ(got, 42);
  ::close(sv[1]);
}

TEST(FdTest, RejectsClosedDescriptor) {
  int fd = ::open("/dev/null", O_RDONLY);
  ::close(fd);
  auto c = dial(*parse_address("fd:" + std::to_string(fd)));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, EBADF);
}

TEST(IoTest, LargeTransfersAreWholeAndReadFullReportsEof) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  std::vector<std::uint8_t> data(3 << 20);
  std::iota(data.begin(), data.end(), std::uint8_t(0));
  std::thread writer([&] {
    // Two pieces through writev, one through write_all.
    iovec iov[2] = {{data.data(), 1 << 20}, {data.data() + (1 << 20), 1 << 20}};
    EXPECT_TRUE(writev_all(sv[0], iov));
    EXPECT_TRUE(write_all(sv[0], std::span(data).subspan(2 << 20)));
    ::close(sv[0]);
  });
  std::vector<std::uint8_t> got(data.size());
  ASSERT_TRUE(read_full(sv[1], got));
  writer.join();
  EXPECT_EQ(got, data);
  std::uint8_t more;
  auto eof = read_full(sv[1], std::span(&more, 1));
  ASSERT_FALSE(eof);
  EXPECT_EQ(eof.error().code, ECONNRESET);
  ::close(sv[1]);
}

TEST(IoTest, WriteToClosedPeerIsEpipeNotSignal) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ::close(sv[1]);
  std::vector<std::uint8_t> data(1024);
  auto r = write_all(sv[0], data);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPIPE);
  ::close(sv[0]);
}

TEST_F(SocketTest, ShutdownWakesBlockedAccept) {
  auto l = listen(unix_addr(dir_ / "wake.sock"));
  ASSERT_TRUE(l);
  auto acc = std::async(std::launch::async, [&] { return l->accept(); });
  // Give accept a moment to block; the result is the same if it has not yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  l->shutdown();
  ASSERT_EQ(acc.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto r = acc.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ECANCELED);
}

}  // namespace
}  // namespace ninep::transport
