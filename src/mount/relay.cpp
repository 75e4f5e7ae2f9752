#include "mount/relay.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

namespace ninep::mount {
namespace {

// One direction of the relay: bytes read from `from` wait in buf[head, tail) until written to `to`.
struct Direction {
  int from;
  int to;
  std::span<std::uint8_t> buf;
  std::size_t head = 0;
  std::size_t tail = 0;
  bool eof = false;  // `from` ended; deliver what is buffered, read no more
  int dead = 0;      // errno of a failed write to `to`; this direction is dropped
  bool empty() const { return head == tail; }
  bool finished() const { return eof && empty(); }
  bool wants_input() const { return !eof && !dead && tail < buf.size(); }
  bool wants_output() const { return !dead && !empty(); }
};

// Reads once into the free part of the buffer.
void fill(Direction& d) {
  ssize_t n = ::read(d.from, d.buf.data() + d.tail, d.buf.size() - d.tail);
  if (n > 0) {
    d.tail += static_cast<std::size_t>(n);
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  // EOF, or a read error (EIO from a port whose host side went away), ends this direction.
  d.eof = true;
}

// Writes once from the buffer. `hung_up`: the destination reported POLLHUP, so a write that
// would block (a virtio port whose host side is gone says EAGAIN) will never make progress.
void drain(Direction& d, bool hung_up) {
  ssize_t n = ::write(d.to, d.buf.data() + d.head, d.tail - d.head);
  if (n >= 0) {
    d.head += static_cast<std::size_t>(n);
    if (d.head == d.tail) d.head = d.tail = 0;
    return;
  }
  if (errno == EINTR || (errno == EAGAIN && !hung_up)) return;
  d.dead = errno == EAGAIN ? EPIPE : errno;
  d.head = d.tail = 0;
}

int set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return errno;
  return 0;
}

// Moves fd to a number >= 3 so stdio can be pointed at /dev/null without clobbering it.
int lift_above_stdio(int fd) {
  if (fd > 2) return fd;
  int moved = ::fcntl(fd, F_DUPFD, 3);
  return moved;  // the low original is replaced by /dev/null later
}

void close_range_if_any(unsigned first, unsigned last) {
  if (first <= last) ::close_range(first, last, 0);
}

// Runs in the grandchild: becomes a clean daemon-like process and relays until done.
[[noreturn]] void relay_process(int device, int socket_end, RelayBuffers buffers) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  if (::chdir("/") != 0) _exit(1);

  device = lift_above_stdio(device);
  socket_end = lift_above_stdio(socket_end);
  if (device < 0 || socket_end < 0) _exit(1);
  int null_fd = ::open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    for (int std_fd = 0; std_fd < 3; ++std_fd)
      if (null_fd != std_fd) ::dup2(null_fd, std_fd);
    if (null_fd > 2 && null_fd != device && null_fd != socket_end) ::close(null_fd);
  }
  // Nothing of the caller may stay open here: a stray descriptor would keep a mount busy or a
  // peer from seeing EOF.
  unsigned lo = static_cast<unsigned>(device < socket_end ? device : socket_end);
  unsigned hi = static_cast<unsigned>(device < socket_end ? socket_end : device);
  close_range_if_any(3, lo - 1);
  close_range_if_any(lo + 1, hi - 1);
  close_range_if_any(hi + 1, UINT_MAX);

  _exit(run_relay(device, socket_end, buffers) == 0 ? 0 : 1);
}

}  // namespace

int run_relay(int a, int b, RelayBuffers buffers) {
  if (buffers.a_to_b.empty() || buffers.b_to_a.empty()) return EINVAL;
  if (int err = set_nonblocking(a)) return err;
  if (int err = set_nonblocking(b)) return err;
  Direction dirs[2] = {{a, b, buffers.a_to_b}, {b, a, buffers.b_to_a}};

  for (;;) {
    // Done once one side has ended and everything it sent is delivered (the usual end: the
    // kernel closed its socket at umount), or when nothing can be delivered any more.
    if (dirs[0].finished() || dirs[1].finished()) return 0;
    if ((dirs[0].dead || dirs[0].eof) && (dirs[1].dead || dirs[1].eof))
      return dirs[0].dead ? dirs[0].dead : dirs[1].dead;

    pollfd fds[2] = {{a, 0, 0}, {b, 0, 0}};
    // dirs[0] reads a and writes b; dirs[1] reads b and writes a.
    if (dirs[0].wants_input()) fds[0].events |= POLLIN;
    if (dirs[1].wants_output()) fds[0].events |= POLLOUT;
    if (dirs[1].wants_input()) fds[1].events |= POLLIN;
    if (dirs[0].wants_output()) fds[1].events |= POLLOUT;
    // A descriptor with nothing to do is left out, or a hang-up on it would make poll spin.
    for (pollfd& p : fds)
      if (p.events == 0) p.fd = -1;

    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    for (const pollfd& p : fds)
      if (p.revents & POLLNVAL) return EBADF;

    constexpr short kEnded = POLLHUP | POLLERR;
    for (int i = 0; i < 2; ++i) {
      Direction& d = dirs[i];
      const pollfd& from = fds[i];
      const pollfd& to = fds[1 - i];
      bool was_empty = d.empty();
      if ((from.events & POLLIN) && (from.revents & (POLLIN | kEnded))) fill(d);
      // Fresh data is written at once rather than after another poll round: one 9P message
      // then costs one poll, one read and one write per hop (latency dominates under emulation).
      bool writable = was_empty || (to.revents & (POLLOUT | kEnded));
      if (writable && d.wants_output()) drain(d, (to.revents & kEnded) != 0);
    }
  }
}

Result<void> spawn_relay(UniqueFd device, UniqueFd socket_end) {
  // Allocated before fork: the relay must not touch the heap of a possibly multi-threaded parent.
  constexpr std::size_t kBufferSize = 256 * 1024;
  std::vector<std::uint8_t> storage(2 * kBufferSize);
  RelayBuffers buffers{std::span(storage).first(kBufferSize),
                       std::span(storage).subspan(kBufferSize)};

  pid_t child = ::fork();
  if (child < 0) return fail_errno("fork relay process");
  if (child == 0) {
    // Double fork: the relay is re-parented to init, so callers never have to reap it.
    ::setsid();
    pid_t relay = ::fork();
    if (relay < 0) _exit(1);
    if (relay > 0) _exit(0);
    relay_process(device.get(), socket_end.get(), buffers);
  }
  device.reset();
  socket_end.reset();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno("wait for relay launcher");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail(EAGAIN, "could not start the relay process");
  return {};
}

}  // namespace ninep::mount
