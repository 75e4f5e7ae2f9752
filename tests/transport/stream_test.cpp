// transport::Stream over sockets (read blocking, woken by shutdown) and pipes (non-blocking,
// woken through poll and an eventfd): whole transfers, EOF, timeouts, interruption from another
// thread, no SIGPIPE; polling before a read sleeps (read_polled(), the window, --poll-us 0).
#include "transport/stream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <numeric>
#include <string>
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

// Polling (poll_window.h): set_poll_max() and record_wait() set the window up without a clock.

// Opens `s`'s window to 15 us (maximum 50 us; a 10 us wait opens it to 1.5 times that).
void open_window(Stream& s) {
  s.set_poll_max(50us);
  s.record_wait(10us);
  ASSERT_EQ(s.poll_window().window(), PollWindow::Duration(15us));
}

// Runs `read` on another thread; if it has not returned after 5 s, fails and unblocks it by
// writing a byte from the peer (so a read that never returns fails the test instead of hanging it).
Result<std::size_t> bounded(Pair& p, std::function<Result<std::size_t>()> read) {
  auto f = std::async(std::launch::async, std::move(read));
  if (f.wait_for(5s) == std::future_status::timeout) {
    ADD_FAILURE() << "the read did not return";
    const std::uint8_t b = 0;
    EXPECT_EQ(::write(p.b.get(), &b, 1), 1);
  }
  return f.get();
}

TEST(StreamPolling, StartsOffAndSetPollMaxKeepsTheWindowClosedUntilAWait) {
  auto p = socket_pair();
  EXPECT_EQ(p.a.poll_window().max(), PollWindow::Duration::zero());
  EXPECT_EQ(p.a.poll_window().window(), PollWindow::Duration::zero());
  p.a.record_wait(10us);  // polling off: nothing opens
  EXPECT_EQ(p.a.poll_window().window(), PollWindow::Duration::zero());
  p.a.set_poll_max(50us);
  EXPECT_EQ(p.a.poll_window().max(), PollWindow::Duration(50us));
  EXPECT_EQ(p.a.poll_window().window(), PollWindow::Duration::zero());
}

TEST(StreamPolling, PolledReadOfAnEmptyStreamIsEagain) {
  for (bool sock : {true, false}) {
    for (bool open : {true, false}) {
      SCOPED_TRACE(std::string(sock ? "socket" : "pipe") + (open ? ", window open" : ", closed"));
      auto p = sock ? socket_pair() : pipe_pair(true);
      if (open)
        open_window(p.a);
      else
        p.a.set_poll_max(50us);  // polling on, window not opened yet
      const auto before = p.a.poll_window().window();
      std::uint8_t buf[16];
      auto n = bounded(p, [&] { return p.a.read_polled(buf); });
      ASSERT_FALSE(n);
      EXPECT_EQ(n.error().code, EAGAIN);
      // A polled read that found nothing leaves the window to the caller (record_wait()).
      EXPECT_EQ(p.a.poll_window().window(), before);
      // The stream is still usable.
      const std::uint8_t msg[] = {4, 5};
      ASSERT_EQ(::write(p.b.get(), msg, sizeof msg), 2);
      n = p.a.read(buf);
      ASSERT_TRUE(n) << n.error().to_string();
      EXPECT_EQ(*n, 2u);
    }
  }
}

TEST(StreamPolling, PolledReadTakesWhatIsAlreadyThere) {
  for (bool sock : {true, false}) {
    for (int setup = 0; setup < 3; ++setup) {  // window open, polling on but closed, off
      SCOPED_TRACE(std::string(sock ? "socket" : "pipe") + " setup " + std::to_string(setup));
      auto p = sock ? socket_pair() : pipe_pair(true);
      if (setup == 0) open_window(p.a);
      if (setup == 1) p.a.set_poll_max(50us);
      const std::uint8_t msg[] = {1, 2, 3};
      ASSERT_EQ(::write(p.b.get(), msg, sizeof msg), 3);
      std::uint8_t buf[16] = {};
      auto n = bounded(p, [&] { return p.a.read_polled(buf); });
      ASSERT_TRUE(n) << n.error().to_string();
      EXPECT_EQ(*n, 3u);
      EXPECT_EQ(buf[0], 1);
      EXPECT_EQ(buf[2], 3);
      // Drained: the next one finds nothing.
      n = bounded(p, [&] { return p.a.read_polled(buf); });
      ASSERT_FALSE(n);
      EXPECT_EQ(n.error().code, EAGAIN);
    }
  }
}

TEST(StreamPolling, ReadStillSleepsUntilLateDataAndTheLongWaitClosesTheWindow) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    open_window(p.a);
    std::thread writer([&] {
      std::this_thread::sleep_for(50ms);  // far past the window and kIdle
      const std::uint8_t b = 42;
      EXPECT_EQ(::write(p.b.get(), &b, 1), 1);
    });
    std::uint8_t got = 0;
    auto r = p.a.read_full(std::span(&got, 1));
    writer.join();
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(got, 42);
    // The read waited ~50 ms, more than kIdle: the connection looks idle, polling stops.
    EXPECT_EQ(p.a.poll_window().window(), PollWindow::Duration::zero());
    EXPECT_EQ(p.a.poll_window().max(), PollWindow::Duration(50us));
  }
}

TEST(StreamPolling, ReadWithAnOpenWindowTakesWhatIsThere) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    open_window(p.a);
    const std::uint8_t msg[] = {9, 8, 7, 6};
    ASSERT_EQ(::write(p.b.get(), msg, sizeof msg), 4);
    std::uint8_t buf[2];  // less than there is: two reads
    auto n = p.a.read(buf);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, 2u);
    EXPECT_EQ(buf[0], 9);
    n = p.a.read(buf);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, 2u);
    EXPECT_EQ(buf[1], 6);
  }
}

TEST(StreamPolling, ZeroMaximumIsAPlainBlockingRead) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    p.a.set_poll_max(PollWindow::Duration::zero());  // --poll-us 0
    p.a.record_wait(10us);
    EXPECT_EQ(p.a.poll_window().window(), PollWindow::Duration::zero());
    std::uint8_t buf[4];
    auto n = bounded(p, [&] { return p.a.read_polled(buf); });
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, EAGAIN);
    std::thread writer([&] {
      std::this_thread::sleep_for(20ms);
      const std::uint8_t b = 42;
      EXPECT_EQ(::write(p.b.get(), &b, 1), 1);
    });
    std::uint8_t got = 0;
    auto r = p.a.read_full(std::span(&got, 1));
    writer.join();
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(got, 42);
    EXPECT_EQ(p.a.poll_window().window(), PollWindow::Duration::zero());
    // Timeouts as without polling.
    n = p.a.read(buf, 10);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, ETIMEDOUT);
  }
}

TEST(StreamPolling, TimeoutsStillTimeOut) {
  for (bool sock : {true, false}) {
    for (int timeout : {0, 10}) {
      SCOPED_TRACE(std::string(sock ? "socket" : "pipe") + " " + std::to_string(timeout) + " ms");
      auto p = sock ? socket_pair() : pipe_pair(true);
      open_window(p.a);
      std::uint8_t buf[4];
      auto n = bounded(p, [&] { return p.a.read(buf, timeout); });
      ASSERT_FALSE(n);
      EXPECT_EQ(n.error().code, ETIMEDOUT);
    }
  }
}

// The peer going away ends a read the same way, polling or not: the data first, then 0.
TEST(StreamPolling, PeerCloseEndsAReadAsWithoutPolling) {
  for (bool sock : {true, false}) {
    for (bool polling : {false, true}) {
      SCOPED_TRACE(std::string(sock ? "socket" : "pipe") + (polling ? ", polling" : ""));
      {  // closed with data still queued
        auto p = sock ? socket_pair() : pipe_pair(true);
        if (polling) open_window(p.a);
        const std::uint8_t msg[] = {1, 2, 3};
        ASSERT_EQ(::write(p.b.get(), msg, sizeof msg), 3);
        p.b.reset();
        std::uint8_t buf[16];
        auto n = p.a.read(buf);
        ASSERT_TRUE(n) << n.error().to_string();
        EXPECT_EQ(*n, 3u);
        n = p.a.read(buf);
        ASSERT_TRUE(n) << n.error().to_string();
        EXPECT_EQ(*n, 0u);
        if (polling) open_window(p.a);
        n = p.a.read_polled(buf);  // end of stream is not EAGAIN
        ASSERT_TRUE(n) << n.error().to_string();
        EXPECT_EQ(*n, 0u);
      }
      {  // closed while the reader waits
        auto p = sock ? socket_pair() : pipe_pair(true);
        if (polling) open_window(p.a);
        std::thread closer([&] {
          std::this_thread::sleep_for(20ms);
          p.b.reset();
        });
        std::uint8_t buf[16];
        auto n = p.a.read(buf);
        closer.join();
        ASSERT_TRUE(n) << n.error().to_string();
        EXPECT_EQ(*n, 0u);
      }
    }
  }
}

TEST(StreamPolling, InterruptWakesAReaderThatPolls) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    open_window(p.a);
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
  }
}

// Once interrupted, a polled read or a polling read is ECANCELED at once, not EAGAIN, and not the
// data the peer still managed to send (a pipe cannot be shut down).
TEST(StreamPolling, InterruptedStreamPollsNothing) {
  for (bool sock : {true, false}) {
    SCOPED_TRACE(sock ? "socket" : "pipe");
    auto p = sock ? socket_pair() : pipe_pair(true);
    open_window(p.a);
    p.a.interrupt();
    if (!sock) {
      const std::uint8_t b = 1;
      ASSERT_EQ(::write(p.b.get(), &b, 1), 1);
    }
    std::uint8_t buf[4];
    auto n = bounded(p, [&] { return p.a.read_polled(buf); });
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, ECANCELED);
    n = bounded(p, [&] { return p.a.read(buf); });
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, ECANCELED);
  }
}

TEST(StreamPolling, MovedStreamKeepsItsWindow) {
  auto p = socket_pair();
  p.a.set_poll_max(40us);
  p.a.record_wait(10us);
  Stream moved = std::move(p.a);
  EXPECT_EQ(moved.poll_window().max(), PollWindow::Duration(40us));
  EXPECT_EQ(moved.poll_window().window(), PollWindow::Duration(15us));
  Stream again;
  again = std::move(moved);
  EXPECT_EQ(again.poll_window().max(), PollWindow::Duration(40us));
  EXPECT_EQ(again.poll_window().window(), PollWindow::Duration(15us));
}

}  // namespace
}  // namespace ninep::transport
