// transport::Stream over sockets (read blocking, woken by shutdown) and pipes (non-blocking,
// woken through poll and an eventfd): whole transfers, EOF, timeouts, interruption from another
// thread, no SIGPIPE.
#include "transport/stream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <numeric>
#include <thread>
#include <vector>

namespace ninep::transport {
namespace {

using namespace std::chrono_literals;

struct Pair {
  Stream a;    // the end under test
  UniqueFd b;  // the peer, a plain descriptor
};

Pair socket_pair() {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  return {Stream(UniqueFd(sv[0])), UniqueFd(sv[1])};
}

// A pipe read by the Stream (the peer writes) or written by it (the peer reads).
Pair pipe_pair(bool stream_reads) {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  if (stream_reads) return {Stream(UniqueFd(p[0])), UniqueFd(p[1])};
  return {Stream(UniqueFd(p[1])), UniqueFd(p[0])};
}

bool nonblocking(int fd) {
  return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  std::iota(v.begin(), v.end(), std::uint8_t(7));
  return v;
}

TEST(Stream, SocketsAreBlockingAndOtherStreamsAreNot) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  Stream s{UniqueFd(sv[0])};
  ::close(sv[1]);
  EXPECT_TRUE(s.is_socket());
  EXPECT_FALSE(nonblocking(s.fd()));
  auto p = pipe_pair(true);
  EXPECT_FALSE(p.a.is_socket());
  EXPECT_TRUE(nonblocking(p.a.fd()));
}

TEST(Stream, ReadGivesWhatIsThereAndZeroAtEof) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    const std::uint8_t msg[] = {1, 2, 3};
    ASSERT_EQ(::write(p.b.get(), msg, sizeof msg), 3);
    std::uint8_t buf[16];
    auto n = p.a.read(buf);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, 3u);
    p.b.reset();
    n = p.a.read(buf);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, 0u);
  }
}

TEST(Stream, ReadWaitsForDataFromAnotherThread) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    std::thread writer([&] {
      std::this_thread::sleep_for(20ms);
      const std::uint8_t b = 42;
      EXPECT_EQ(::write(p.b.get(), &b, 1), 1);
    });
    std::uint8_t got = 0;
    ASSERT_TRUE(p.a.read_full(std::span(&got, 1)));
    EXPECT_EQ(got, 42);
    writer.join();
  }
}

TEST(Stream, ReadWithATimeoutTimesOut) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    std::uint8_t buf[4];
    auto n = p.a.read(buf, 10);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, ETIMEDOUT);
    auto full = p.a.read_full(buf, 10);
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, ETIMEDOUT);
  }
}

TEST(Stream, InterruptWakesABlockedReader) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    auto reader = std::async(std::launch::async, [&] {
      std::uint8_t buf[16];
      return p.a.read(buf);
    });
    EXPECT_EQ(reader.wait_for(30ms), std::future_status::timeout);
    p.a.interrupt();
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    auto n = reader.get();
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, ECANCELED);
    // And every later call, even with data waiting (the socket is shut down: the peer cannot
    // send any more).
    std::uint8_t b = 0;
    if (sock)
      EXPECT_EQ(::send(p.b.get(), &b, 1, MSG_NOSIGNAL), -1);
    else
      EXPECT_EQ(::write(p.b.get(), &b, 1), 1);
    std::uint8_t buf[1];
    auto again = p.a.read(buf);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ECANCELED);
    auto w = p.a.write_all(std::span(&b, 1));
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, ECANCELED);
    EXPECT_TRUE(p.a.interrupted());
  }
}

TEST(Stream, InterruptWakesAWriterBlockedOnAFullStream) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(false);
    auto writer = std::async(std::launch::async, [&] {
      std::vector<std::uint8_t> big(8 << 20);  // more than any socket or pipe buffer
      return p.a.write_all(big);
    });
    EXPECT_EQ(writer.wait_for(50ms), std::future_status::timeout);
    p.a.interrupt();
    ASSERT_EQ(writer.wait_for(5s), std::future_status::ready);
    auto r = writer.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ECANCELED);
  }
}

TEST(Stream, LargeWritesArriveWholeWhateverTheShortWrites) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(false);
    const auto data = pattern(3 << 20);
    std::vector<std::uint8_t> got(data.size());
    std::thread reader([&] {
      // Read slowly at first so the writer sees a full stream (EAGAIN on the pipe).
      std::this_thread::sleep_for(20ms);
      EXPECT_TRUE(read_full(p.b.get(), got));
    });
    std::vector<iovec> iov;
    for (std::size_t off = 0; off < data.size(); off += 100000) {
      const std::size_t len = std::min<std::size_t>(100000, data.size() - off);
      iov.push_back({const_cast<std::uint8_t*>(data.data()) + off, len});
      iov.push_back({nullptr, 0});  // empty entries are skipped
    }
    auto r = p.a.writev_all(iov);
    EXPECT_TRUE(r) << r.error().to_string();
    reader.join();
    EXPECT_EQ(got, data);
  }
}

TEST(Stream, LargeReadsArriveWhole) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    const auto data = pattern(2 << 20);
    std::thread writer([&] {
      EXPECT_TRUE(write_all(p.b.get(), data));
      p.b.reset();
    });
    std::vector<std::uint8_t> got(data.size());
    auto r = p.a.read_full(got);
    EXPECT_TRUE(r) << r.error().to_string();
    writer.join();
    EXPECT_EQ(got, data);
    std::uint8_t more;
    auto eof = p.a.read_full(std::span(&more, 1));
    ASSERT_FALSE(eof);
    EXPECT_EQ(eof.error().code, ECONNRESET);
  }
}

TEST(Stream, WriteToAClosedSocketPeerIsEpipeNotSignal) {
  auto p = socket_pair();
  p.b.reset();
  const std::uint8_t b = 1;
  auto r = p.a.write_all(std::span(&b, 1));  // SIGPIPE would kill the test
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPIPE);
}

TEST(Stream, MovedStreamKeepsItsKindAndInterruption) {
  auto p = pipe_pair(true);
  Stream moved = std::move(p.a);
  EXPECT_FALSE(moved.is_socket());
  moved.interrupt();
  Stream again;
  again = std::move(moved);
  EXPECT_TRUE(again.interrupted());
  std::uint8_t buf[1];
  auto n = again.read(buf);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ECANCELED);
}

}  // namespace
}  // namespace ninep::transport
