// bench_pingpong: the floor under any request/reply protocol on this machine. Two processes (fork,
// not threads) bounce a small message over a unix socketpair; prints the median round trip in
// microseconds (one number) over N round trips.
//
//   bench_pingpong [--poll-us US] [--size BYTES] [--ops N]
//
// --poll-us 0 (default): both sides block in recv(). --poll-us US: each side first polls with
// recv(MSG_DONTWAIT) for up to US microseconds, then blocks: the polling floor that an adaptive
// poll window (transport/poll_window.h) can at best reach.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "transport/poll_window.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_pingpong: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// One recv() of up to `n` bytes: polls with MSG_DONTWAIT for up to `poll` first, then blocks.
ssize_t recv_some(int fd, char* buf, std::size_t n, Clock::duration poll) {
  if (poll.count() > 0) {
    auto until = Clock::now() + poll;
    do {
      ssize_t r = ::recv(fd, buf, n, MSG_DONTWAIT);
      if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return r;
      ninep::transport::poll_pause();
    } while (Clock::now() < until);
  }
  return ::recv(fd, buf, n, 0);
}

// Receives exactly `n` bytes; false at end of stream.
bool recv_all(int fd, char* buf, std::size_t n, Clock::duration poll) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = recv_some(fd, buf + got, n - got, poll);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("recv");
    }
    if (r == 0) return false;
    got += std::size_t(r);
  }
  return true;
}

void send_all(int fd, const char* buf, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, buf, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("send");
    }
    buf += w;
    n -= std::size_t(w);
  }
}

long arg(int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "bench_pingpong: %s needs a number\n", argv[i]);
    std::exit(2);
  }
  char* end = nullptr;
  long v = std::strtol(argv[++i], &end, 10);
  if (*end || v < 0) {
    std::fprintf(stderr, "bench_pingpong: %s: not a number: %s\n", argv[i - 1], argv[i]);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  long poll_us = 0, size = 64, ops = 20000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--poll-us") {
      poll_us = arg(argc, argv, i);
    } else if (a == "--size") {
      size = arg(argc, argv, i);
    } else if (a == "--ops") {
      ops = arg(argc, argv, i);
    } else {
      std::fprintf(stderr, "usage: bench_pingpong [--poll-us US] [--size BYTES] [--ops N]\n");
      return 2;
    }
  }
  if (size < 1 || ops < 1) {
    std::fprintf(stderr, "bench_pingpong: --size and --ops must be at least 1\n");
    return 2;
  }
  auto poll = std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(poll_us));
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
  std::vector<char> buf(std::size_t(size), 'p');

  pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {  // the echo side
    ::close(sv[0]);
    while (recv_all(sv[1], buf.data(), buf.size(), poll)) send_all(sv[1], buf.data(), buf.size());
    ::_exit(0);
  }
  ::close(sv[1]);
  // A few untimed round trips first: both processes running, their pages touched.
  for (int i = 0; i < 100; ++i) {
    send_all(sv[0], buf.data(), buf.size());
    if (!recv_all(sv[0], buf.data(), buf.size(), poll)) die("echo side ended");
  }
  std::vector<double> us(static_cast<std::size_t>(ops));
  for (auto& t : us) {
    auto t0 = Clock::now();
    send_all(sv[0], buf.data(), buf.size());
    if (!recv_all(sv[0], buf.data(), buf.size(), poll)) die("echo side ended");
    t = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  }
  ::close(sv[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  std::printf("%.2f\n", us[us.size() / 2]);
  return 0;
}
