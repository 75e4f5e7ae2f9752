// A connected byte stream as the 9P server and client use it: the descriptor, how it is waited
// on, and how another thread interrupts it. Nothing above transport/ knows whether it is talking
// to a socket, a pipe or a tty.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/error.h"
#include "common/unique_fd.h"
#include "transport/poll_window.h"

namespace ninep::transport {

// Sockets are read and written BLOCKING: a thread asleep in read() is woken by the sender's data
// directly, which on small messages is much quicker than a wake-up through poll() (a serial
// client's round trip went from ~190 to ~110 us in the server). interrupt() shuts the socket down
// to wake it. Anything else (pipes, ttys, character devices) cannot be shut down, so it is made
// non-blocking and waited on in poll() together with an eventfd that interrupt() signals.
//
// A read first polls the descriptor for up to an adaptive window (poll_window.h; off until
// set_poll_max()), then sleeps as above.
//
// Threads: one reader at a time, one writer at a time (callers serialise their frames), and
// interrupt() from anywhere, concurrently with both.
class Stream {
 public:
  Stream() = default;
  // Takes over a connected descriptor and sets it up for its kind (see above). Implicit: a
  // connected descriptor is a stream.
  Stream(UniqueFd fd);  // NOLINT(google-explicit-constructor)
  Stream(Stream&& o) noexcept;
  Stream& operator=(Stream&& o) noexcept;
  ~Stream() = default;

  // Reads what is available, at least one byte, at most buf.size(). Returns 0 at end of stream;
  // ECANCELED once interrupt() was called; ETIMEDOUT when timeout_ms >= 0 passes with nothing
  // to read; another errno when the stream failed. EINTR and EAGAIN never come out.
  // The one place a connection waits for input: it polls for up to the window, then sleeps, and
  // tells the window how long it waited.
  Result<std::size_t> read(std::span<std::uint8_t> buf, int timeout_ms = -1);
  // Like read(), but only polls: EAGAIN when nothing came within the window. A caller that then
  // receives its data another way reports the whole wait with record_wait().
  Result<std::size_t> read_polled(std::span<std::uint8_t> buf);
  void record_wait(PollWindow::Duration waited) { window_.record(waited); }
  // The maximum polling window (zero: never poll). Set before the stream is used.
  void set_poll_max(PollWindow::Duration max) { window_ = PollWindow(max); }
  const PollWindow& poll_window() const { return window_; }
  // Fills `buf` (each read waits at most timeout_ms); ECONNRESET at end of stream.
  Result<void> read_full(std::span<std::uint8_t> buf, int timeout_ms = -1);

  // Writes every byte, whatever the short writes, EINTR or a full non-blocking pipe (waited for
  // in poll()). `iov` is modified. Never raises SIGPIPE: a peer that went away is EPIPE.
  // ECANCELED once interrupt() was called; a partly written frame is then left in the stream.
  Result<void> writev_all(std::span<iovec> iov);
  Result<void> write_all(std::span<const std::uint8_t> buf);

  // Makes the current and every later read()/write return (ECANCELED, or an error the peer's
  // going away gives first). Idempotent; the descriptor stays open until destruction.
  void interrupt();
  bool interrupted() const { return interrupted_.load(std::memory_order_relaxed); }

  // For a reader with nothing to receive that must leave the data to another thread (a client
  // whose caller receives its own reply): sleeps until the peer hangs up or the stream fails
  // (true: the next read says how), ring() is called or timeout_ms >= 0 passes (false). Data
  // arriving does not end the wait. ECANCELED once interrupted. Needs enable_ring().
  Result<bool> wait_hangup(int timeout_ms = -1);
  // Creates the eventfd ring() signals; false when out of descriptors.
  bool enable_ring();
  // Ends the current or the next wait_hangup(). From any thread.
  void ring();

  bool is_socket() const { return socket_; }
  // The descriptor, for the rare caller that needs it (peer credentials, diagnostics).
  int fd() const { return fd_.get(); }
  explicit operator bool() const { return static_cast<bool>(fd_); }

 private:
  // Waits until the descriptor is ready for `events` (or has an error/hangup the next call
  // reports); ECANCELED when interrupted, ETIMEDOUT after timeout_ms (if >= 0).
  Result<void> wait(short events, int timeout_ms);
  std::unexpected<Error> failed(const char* what) const;
  // One read(2) that does not wait (EINTR retried): bytes, 0 at end of stream, or -1 and errno
  // (EAGAIN when nothing is there).
  ssize_t read_once(std::span<std::uint8_t> buf);
  // read_once() again and again until data (or an error) comes or `window` has passed since
  // `start` (EAGAIN).
  Result<std::size_t> poll_read(std::span<std::uint8_t> buf, PollWindow::Duration window,
                                std::chrono::steady_clock::time_point start);

  UniqueFd fd_;
  UniqueFd wake_;  // eventfd, for streams that are not sockets
  UniqueFd ring_;  // eventfd that ends wait_hangup() (enable_ring())
  bool socket_ = false;
  bool wait_first_ = false;  // not a socket and the last read drained it: poll before reading
  PollWindow window_{PollWindow::Duration::zero()};
  std::atomic<bool> interrupted_{false};
};

// Whole-buffer I/O on a plain blocking descriptor (socket or not), retrying on EINTR and short
// transfers; no SIGPIPE. read_full returns ECONNRESET on EOF before `buf` is full.
Result<void> write_all(int fd, std::span<const std::uint8_t> buf);
Result<void> writev_all(int fd, std::span<iovec> iov);  // iov is modified
Result<void> read_full(int fd, std::span<std::uint8_t> buf);

}  // namespace ninep::transport
