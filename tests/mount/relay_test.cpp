#include "mount/relay.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <thread>
#include <vector>

namespace ninep::mount {
namespace {

using namespace std::chrono_literals;
constexpr int kTimeoutMs = 20000;

struct Pair {
  UniqueFd outer;  // the test's end
  UniqueFd inner;  // the relay's end
};

Pair make_pair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> v(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::uint8_t>(x >> 16);
  }
  return v;
}

// Blocking transfers bounded by a deadline, so a relay that deadlocks fails the test instead of
// hanging it.
bool write_all(int fd, const std::vector<std::uint8_t>& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, kTimeoutMs) != 1) return false;
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN) return false;
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads until `size` bytes or EOF; returns what arrived (empty on timeout).
std::vector<std::uint8_t> read_up_to(int fd, std::size_t size) {
  std::vector<std::uint8_t> out(size);
  std::size_t done = 0;
  while (done < size) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kTimeoutMs) != 1) return {};
    ssize_t n = ::recv(fd, out.data() + done, size - done, MSG_DONTWAIT);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN) break;
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

// True when the peer has closed (EOF) within the deadline.
bool sees_eof(int fd) {
  char c;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, kTimeoutMs) != 1) return false;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

class RelayTest : public ::testing::Test {
 protected:
  std::vector<std::uint8_t> storage = std::vector<std::uint8_t>(2 * 64 * 1024);
  RelayBuffers buffers{std::span(storage).first(64 * 1024), std::span(storage).subspan(64 * 1024)};
};

TEST_F(RelayTest, BothDirectionsAtOnceWithoutDeadlock) {
  Pair x = make_pair(), y = make_pair();
  auto relay = std::async(std::launch::async,
                          [&] { return run_relay(x.inner.get(), y.inner.get(), buffers); });
  // Each side writes far more than socket and relay buffers hold before reading anything: a
  // relay copying one direction at a time with blocking writes would stall here.
  const auto to_y = pattern(8 << 20, 1), to_x = pattern(8 << 20, 2);
  auto side_x = std::async(std::launch::async, [&] {
    bool wrote = write_all(x.outer.get(), to_y);
    return std::pair(wrote, std::vector<std::uint8_t>());
  });
  auto side_y = std::async(std::launch::async, [&] {
    bool wrote = write_all(y.outer.get(), to_x);
    return std::pair(wrote, read_up_to(y.outer.get(), to_y.size()));
  });
  auto got_x = read_up_to(x.outer.get(), to_x.size());
  auto [wrote_x, unused] = side_x.get();
  auto [wrote_y, got_y] = side_y.get();
  EXPECT_TRUE(wrote_x);
  EXPECT_TRUE(wrote_y);
  EXPECT_TRUE(got_x == to_x) << "x received " << got_x.size() << " bytes";
  EXPECT_TRUE(got_y == to_y) << "y received " << got_y.size() << " bytes";

  ::shutdown(x.outer.get(), SHUT_WR);
  ASSERT_EQ(relay.wait_for(20s), std::future_status::ready);
  EXPECT_EQ(relay.get(), 0);
}

TEST_F(RelayTest, DeliversEverythingSentBeforeEof) {
  Pair x = make_pair(), y = make_pair();
  const auto data = pattern(300 * 1024, 3);
  auto relay = std::async(std::launch::async,
                          [&] { return run_relay(x.inner.get(), y.inner.get(), buffers); });
  auto reader = std::async(std::launch::async, [&] { return read_up_to(y.outer.get(), 1 << 20); });
  ASSERT_TRUE(write_all(x.outer.get(), data));
  x.outer.reset();  // EOF after the data
  ASSERT_EQ(relay.wait_for(20s), std::future_status::ready);
  EXPECT_EQ(relay.get(), 0);
  y.inner.reset();  // the relay does not close its descriptors; the reader now sees EOF
  EXPECT_TRUE(reader.get() == data);
}

TEST_F(RelayTest, EndsWhenTheOtherSideCloses) {
  Pair x = make_pair(), y = make_pair();
  auto relay = std::async(std::launch::async,
                          [&] { return run_relay(x.inner.get(), y.inner.get(), buffers); });
  y.outer.reset();
  ASSERT_EQ(relay.wait_for(20s), std::future_status::ready);
  EXPECT_EQ(relay.get(), 0);
}

TEST_F(RelayTest, RejectsEmptyBuffers) {
  Pair x = make_pair(), y = make_pair();
  EXPECT_EQ(run_relay(x.inner.get(), y.inner.get(), RelayBuffers{}), EINVAL);
}

TEST(SpawnRelay, DetachedProcessCopiesAndExitsOnEof) {
  Pair device = make_pair(), sock = make_pair();
  ASSERT_TRUE(spawn_relay(std::move(device.inner), std::move(sock.inner)));

  const auto request = pattern(200 * 1024, 4), reply = pattern(1 << 20, 5);
  auto mount_side = std::async(std::launch::async, [&] {
    bool wrote = write_all(sock.outer.get(), request);
    return std::pair(wrote, read_up_to(sock.outer.get(), reply.size()));
  });
  auto got_request = read_up_to(device.outer.get(), request.size());
  ASSERT_TRUE(write_all(device.outer.get(), reply));
  auto [wrote, got_reply] = mount_side.get();
  EXPECT_TRUE(wrote);
  EXPECT_TRUE(got_request == request);
  EXPECT_TRUE(got_reply == reply);

  // Unmounting closes the kernel's end: the relay must exit, which the device side sees as
  // EOF (the relay held the only other reference to it).
  sock.outer.reset();
  EXPECT_TRUE(sees_eof(device.outer.get()));
}

TEST(SpawnRelay, ExitsWhenTheDeviceHangsUp) {
  Pair device = make_pair(), sock = make_pair();
  ASSERT_TRUE(spawn_relay(std::move(device.inner), std::move(sock.inner)));
  device.outer.reset();
  EXPECT_TRUE(sees_eof(sock.outer.get()));
}

// A pseudo-terminal in raw mode stands in for a virtio-serial port: a character device, not a
// socket, that reports a hang-up (reads fail with EIO) when the other side goes away.
TEST_F(RelayTest, RelaysACharacterDeviceAndEndsOnItsHangUp) {
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  UniqueFd host_side(master), device(slave);
  termios tio{};
  ASSERT_EQ(::tcgetattr(device.get(), &tio), 0);
  ::cfmakeraw(&tio);
  ASSERT_EQ(::tcsetattr(device.get(), TCSANOW, &tio), 0);
  Pair sock = make_pair();
  auto relay = std::async(std::launch::async,
                          [&] { return run_relay(device.get(), sock.inner.get(), buffers); });

  const auto request = pattern(1000, 6), reply = pattern(3000, 7);
  ASSERT_TRUE(write_all(sock.outer.get(), request));
  std::vector<std::uint8_t> got_request(request.size());
  std::size_t done = 0;
  while (done < got_request.size()) {
    pollfd p{host_side.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, kTimeoutMs), 1);
    ssize_t n = ::read(host_side.get(), got_request.data() + done, got_request.size() - done);
    ASSERT_GT(n, 0);
    done += static_cast<std::size_t>(n);
  }
  EXPECT_TRUE(got_request == request);
  ASSERT_EQ(::write(host_side.get(), reply.data(), reply.size()), ssize_t(reply.size()));
  EXPECT_TRUE(read_up_to(sock.outer.get(), reply.size()) == reply);

  host_side.reset();  // the "host" goes away
  ASSERT_EQ(relay.wait_for(20s), std::future_status::ready);
  EXPECT_EQ(relay.get(), 0);
}

}  // namespace
}  // namespace ninep::mount
