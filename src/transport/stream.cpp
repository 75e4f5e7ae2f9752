// Reading, writing and interrupting a connected stream; whole-buffer I/O on plain descriptors.
#include "transport/stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <utility>

namespace ninep::transport {
namespace {

bool is_socket_fd(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

// One write of as much of `iov` as the kernel takes. On sockets sendmsg() with MSG_NOSIGNAL, so
// that a peer that went away gives EPIPE rather than killing the process with SIGPIPE.
ssize_t writev_some(int fd, bool socket, std::span<iovec> iov) {
  const auto cnt = std::min<std::size_t>(iov.size(), IOV_MAX);
  if (socket) {
    msghdr mh{};
    mh.msg_iov = iov.data();
    mh.msg_iovlen = cnt;
    return ::sendmsg(fd, &mh, MSG_NOSIGNAL);
  }
  return ::writev(fd, iov.data(), static_cast<int>(cnt));
}

// Drops `n` written bytes, and the entries left empty, from the front of `iov`.
void consume(std::span<iovec>& iov, std::size_t n) {
  while (!iov.empty() && n >= iov.front().iov_len) {
    n -= iov.front().iov_len;
    iov = iov.subspan(1);
  }
  if (n > 0) {
    iov.front().iov_base = static_cast<std::uint8_t*>(iov.front().iov_base) + n;
    iov.front().iov_len -= n;
  }
}

std::unexpected<Error> cancelled() {
  return fail(ECANCELED, "stream interrupted");
}

}  // namespace

Stream::Stream(UniqueFd fd) : fd_(std::move(fd)) {
  if (!fd_) return;
  socket_ = is_socket_fd(fd_.get());
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  const int want = socket_ ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
  if (flags >= 0 && want != flags) ::fcntl(fd_.get(), F_SETFL, want);
  if (!socket_) {
    // Without it (out of descriptors) interrupt() cannot wake a wait; reads still work.
    wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    wait_first_ = true;
  }
}

Stream::Stream(Stream&& o) noexcept
    : fd_(std::move(o.fd_)),
      wake_(std::move(o.wake_)),
      ring_(std::move(o.ring_)),
      socket_(o.socket_),
      wait_first_(o.wait_first_),
      window_(o.window_),
      interrupted_(o.interrupted()) {}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    fd_ = std::move(o.fd_);
    wake_ = std::move(o.wake_);
    ring_ = std::move(o.ring_);
    socket_ = o.socket_;
    wait_first_ = o.wait_first_;
    window_ = o.window_;
    interrupted_.store(o.interrupted(), std::memory_order_relaxed);
  }
  return *this;
}

std::unexpected<Error> Stream::failed(const char* what) const {
  const int code = errno;
  // Whatever the interrupted stream answered (EPIPE, ENOTCONN...), the cause is interrupt().
  if (interrupted()) return cancelled();
  return fail(code, what);
}

Result<void> Stream::wait(short events, int timeout_ms) {
  pollfd p[2] = {{fd_.get(), events, 0}, {wake_.get(), POLLIN, 0}};
  const nfds_t n = wake_ ? 2 : 1;
  for (;;) {
    const int r = ::poll(p, n, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return failed("poll");
    }
    if (r == 0) return fail(ETIMEDOUT, "timed out waiting on the stream");
    if ((n == 2 && p[1].revents != 0) || interrupted()) return cancelled();
    return {};  // ready, or an error/hangup the next read or write reports
  }
}

ssize_t Stream::read_once(std::span<std::uint8_t> buf) {
  for (;;) {
    // Sockets are blocking (see the class comment): MSG_DONTWAIT makes this one call not wait.
    const ssize_t n = socket_ ? ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT)
                              : ::read(fd_.get(), buf.data(), buf.size());
    if (n >= 0 || errno != EINTR) {
      // A non-blocking stream that gave less than asked is drained: poll before the next read
      // instead of paying for a read that says EAGAIN.
      if (!socket_) wait_first_ = n < 0 || static_cast<std::size_t>(n) < buf.size();
      return n;
    }
  }
}

Result<std::size_t> Stream::poll_read(std::span<std::uint8_t> buf, PollWindow::Duration window,
                                      std::chrono::steady_clock::time_point start) {
  for (;;) {
    if (interrupted()) return cancelled();
    const ssize_t n = read_once(buf);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) return interrupted() ? cancelled() : Result<std::size_t>(0);
    if (errno != EAGAIN && errno != EWOULDBLOCK) return failed("read");
    if (std::chrono::steady_clock::now() - start >= window)
      return fail(EAGAIN, "nothing came while polling");
    poll_pause();
  }
}

Result<std::size_t> Stream::read_polled(std::span<std::uint8_t> buf) {
  const auto start = std::chrono::steady_clock::now();
  auto n = poll_read(buf, window_.window(), start);
  if (n) window_.record(std::chrono::steady_clock::now() - start);
  return n;
}

Result<std::size_t> Stream::read(std::span<std::uint8_t> buf, int timeout_ms) {
  const auto start = std::chrono::steady_clock::now();
  if (window_.window() > PollWindow::Duration::zero()) {
    auto n = poll_read(buf, window_.window(), start);
    if (n || n.error().code != EAGAIN) {
      if (n) window_.record(std::chrono::steady_clock::now() - start);
      return n;
    }
    if (timeout_ms >= 0) {
      const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      timeout_ms = std::max<int>(0, timeout_ms - static_cast<int>(spent.count()));
    }
  }
  for (;;) {
    if (interrupted()) return cancelled();
    if (wait_first_ || timeout_ms >= 0) {
      if (auto w = wait(POLLIN, timeout_ms); !w) return std::unexpected(std::move(w.error()));
    }
    // Sockets block here (the thread sleeps in the kernel until data comes); other streams
    // were waited for in poll().
    const ssize_t n = socket_ ? ::read(fd_.get(), buf.data(), buf.size()) : read_once(buf);
    if (n > 0) {
      window_.record(std::chrono::steady_clock::now() - start);
      return static_cast<std::size_t>(n);
    }
    if (n == 0) return interrupted() ? cancelled() : Result<std::size_t>(0);
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    return failed("read");
  }
}

Result<void> Stream::read_full(std::span<std::uint8_t> buf, int timeout_ms) {
  while (!buf.empty()) {
    auto n = read(buf, timeout_ms);
    if (!n) return std::unexpected(std::move(n.error()));
    if (*n == 0) return fail(ECONNRESET, "read: connection closed by peer");
    buf = buf.subspan(*n);
  }
  return {};
}

Result<void> Stream::writev_all(std::span<iovec> iov) {
  consume(iov, 0);
  while (!iov.empty()) {
    if (interrupted()) return cancelled();
    const ssize_t n = writev_some(fd_.get(), socket_, iov);
    if (n >= 0) {
      consume(iov, static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto w = wait(POLLOUT, -1); !w) return std::unexpected(std::move(w.error()));
      continue;
    }
    return failed("write");
  }
  return {};
}

Result<void> Stream::write_all(std::span<const std::uint8_t> buf) {
  iovec iov{const_cast<std::uint8_t*>(buf.data()), buf.size()};
  return writev_all(std::span(&iov, 1));
}

void Stream::interrupt() {
  interrupted_.store(true, std::memory_order_relaxed);
  if (!fd_) return;
  if (socket_) {
    // Wakes a blocked read() (EOF) and write() (EPIPE) at once.
    ::shutdown(fd_.get(), SHUT_RDWR);
  } else if (wake_) {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_.get(), &one, sizeof one);
  }
}

bool Stream::enable_ring() {
  if (!ring_) ring_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  return static_cast<bool>(ring_);
}

void Stream::ring() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(ring_.get(), &one, sizeof one);
}

Result<bool> Stream::wait_hangup(int timeout_ms) {
  // POLLRDHUP alone: the kernel does not wake this poll() for data (its wake-ups carry POLLIN),
  // only for the peer's shutdown; errors and POLLHUP (pipes, ttys) always come.
  pollfd p[3] = {{fd_.get(), POLLRDHUP, 0}, {ring_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  const nfds_t n = wake_ ? 3 : 2;
  for (;;) {
    if (interrupted()) return cancelled();
    const int r = ::poll(p, n, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return failed("poll");
    }
    if (interrupted() || (n == 3 && p[2].revents != 0)) return cancelled();
    if (p[1].revents != 0) {
      std::uint64_t v;
      [[maybe_unused]] ssize_t rr = ::read(ring_.get(), &v, sizeof v);
    }
    return p[0].revents != 0;
  }
}

Result<void> write_all(int fd, std::span<const std::uint8_t> buf) {
  iovec iov{const_cast<std::uint8_t*>(buf.data()), buf.size()};
  return writev_all(fd, std::span(&iov, 1));
}

Result<void> writev_all(int fd, std::span<iovec> iov) {
  bool socket = true;  // until the kernel says otherwise
  consume(iov, 0);
  while (!iov.empty()) {
    const ssize_t n = writev_some(fd, socket, iov);
    if (n >= 0) {
      consume(iov, static_cast<std::size_t>(n));
      continue;
    }
    if (errno == ENOTSOCK && socket) {
      socket = false;
      continue;
    }
    if (errno == EINTR) continue;
    return fail_errno("write");
  }
  return {};
}

Result<void> read_full(int fd, std::span<std::uint8_t> buf) {
  while (!buf.empty()) {
    const ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read");
    }
    if (r == 0) return fail(ECONNRESET, "read: connection closed by peer");
    buf = buf.subspan(static_cast<std::size_t>(r));
  }
  return {};
}

}  // namespace ninep::transport
