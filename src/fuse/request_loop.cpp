// RequestLoop: workers that poll /dev/fuse for a while before they sleep in read(), and libfuse's
// way of adding threads.
#define FUSE_USE_VERSION 314
#include "fuse/request_loop.h"

#include <fuse3/fuse_lowlevel.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>

namespace ninep::fuse {
namespace {

// Interrupts a worker's wait (its poll() or read() of /dev/fuse fails with EINTR, and it then
// sees that the session has ended). A real-time signal nobody else uses, with a handler that does
// nothing, installed without SA_RESTART.
int wake_signal() {
  return SIGRTMIN + 1;
}

void install_wake_handler() {
  struct sigaction sa {};
  sa.sa_handler = [](int) {};
  sigemptyset(&sa.sa_mask);
  ::sigaction(wake_signal(), &sa, nullptr);
}

std::int64_t since_epoch(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// FORGETs are quick and get no reply: like libfuse, a worker that takes one does not count as
// busy, so that a burst of them (the kernel dropping its inode cache) does not start threads.
bool is_forget(const fuse_buf& buf) {
  if ((buf.flags & FUSE_BUF_IS_FD) != 0 || buf.size < sizeof(fuse_in_header)) return false;
  const auto opcode = static_cast<const fuse_in_header*>(buf.mem)->opcode;
  return opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET;
}

}  // namespace

RequestLoop::RequestLoop(fuse_session* se, unsigned max_threads, std::chrono::nanoseconds poll_max)
    : se_(se),
      fd_(fuse_session_fd(se)),
      max_threads_(std::max(1u, max_threads)),
      poll_(poll_max > std::chrono::nanoseconds::zero()),
      window_(poll_max) {}

int RequestLoop::run() {
  install_wake_handler();
  std::unique_lock lk(mu_);
  spawn_locked();
  if (live_ == 0) return -EAGAIN;
  cv_.wait(lk, [&] { return ending_; });
  // Workers asleep in read() see the end only when woken, and a signal that comes just before
  // one goes to sleep is lost: wake them again until all have ended. (Unmounting wakes them
  // all at once: every read fails with ENODEV.)
  while (live_ > 0) {
    wake_waiting_locked();
    cv_.wait_for(lk, std::chrono::milliseconds(10), [&] { return live_ == 0; });
  }
  auto workers = std::move(workers_);
  lk.unlock();
  for (auto& w : workers) w.thread.join();
  return -error_;
}

void RequestLoop::exit() {
  fuse_session_exit(se_);
  std::lock_guard lk(mu_);
  ending_ = true;
  wake_waiting_locked();
  cv_.notify_all();
}

void RequestLoop::spawn_locked() {
  // The thread inherits this mask: termination signals go to the application's threads (as
  // libfuse's workers block them), and the wake signal stays deliverable.
  sigset_t block, old;
  sigemptyset(&block);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&block, sig);
  ::pthread_sigmask(SIG_BLOCK, &block, &old);
  Worker& w = workers_.emplace_back();
  try {
    w.thread = std::thread([this, &w] { work(w); });
    ++live_;
  } catch (const std::system_error&) {
    workers_.pop_back();  // out of threads: the workers already running serve on
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void RequestLoop::wake_waiting_locked() {
  for (auto& w : workers_)
    if (w.waiting) ::pthread_kill(w.thread.native_handle(), wake_signal());
}

void RequestLoop::work(Worker& self) {
  fuse_buf buf{};  // reused for every request; libfuse allocates its memory on the first read
  int error = 0;
  for (;;) {
    {
      std::lock_guard lk(mu_);
      if (ending_ || fuse_session_exited(se_)) break;
      self.waiting = true;
      ++waiting_;
    }
    const int res = receive(buf);
    if (res > 0 && poll_) record_missed_wait();
    {
      std::lock_guard lk(mu_);
      self.waiting = false;
      --waiting_;
      // The last waiting worker took this request: start another, so that the next one does
      // not wait for a reply to this one. Idle workers are all kept (never more than
      // max_threads): one asleep in read() costs no CPU (the kernel wakes a single reader per
      // request), and a burst that needed them tends to come again.
      if (res > 0 && waiting_ == 0 && live_ < max_threads_ && !ending_ && !is_forget(buf))
        spawn_locked();
    }
    if (res > 0) {
      fuse_session_process_buf(se_, &buf);
      continue;
    }
    // EINTR: woken (the loop top sees whether the session ended); ENOENT: the request was
    // interrupted before it was read. 0: the session ended (exited, or ENODEV: unmounted).
    if (res == -EINTR || res == -ENOENT || res == -EAGAIN) continue;
    error = -res;
    break;
  }
  std::free(buf.mem);
  // Whatever ended this worker ends the loop (workers are kept until then).
  fuse_session_exit(se_);
  std::lock_guard lk(mu_);
  if (error != 0 && error_ == 0) error_ = error;
  --live_;
  ending_ = true;
  cv_.notify_all();
}

int RequestLoop::receive(fuse_buf& buf) {
  // Only the worker that takes the flag polls; the others go straight to sleep in read(). The
  // flag is free again once this worker's polling is over (caught or not): the next worker to
  // finish a request, the one whose caller is most likely to send the next, polls next.
  if (poll_ && !polling_.exchange(true, std::memory_order_acquire)) {
    const auto start = Clock::now();
    const auto window = window_.window();
    bool came = false;
    if (window > transport::PollWindow::Duration::zero()) {
      // /dev/fuse stays blocking (its flags are shared by every reader): a poll() that does not
      // wait tells whether a request is there. Readable or an error (unmounted: the read then
      // says ENODEV) ends the polling, as does a signal (exit()).
      pollfd p{fd_, POLLIN, 0};
      for (;;) {
        const int r = ::poll(&p, 1, 0);
        if (r != 0) {
          came = r > 0;
          break;
        }
        if (Clock::now() - start >= window) break;
        transport::poll_pause();
      }
    }
    if (came) {
      window_.record(Clock::now() - start);
    } else {
      // Nothing came within the window: this wait goes on asleep, and its total length is
      // known when the next request comes, to whichever worker takes it (the kernel may well
      // wake another sleeper first): record_missed_wait().
      missed_since_.store(since_epoch(start), std::memory_order_relaxed);
    }
    polling_.store(false, std::memory_order_release);
    // The read may still sleep (another worker took the request): a normal wait then. Do not
    // sleep through an exit() that interrupted the polling.
    if (fuse_session_exited(se_)) return 0;
  }
  return fuse_session_receive_buf(se_, &buf);
}

void RequestLoop::record_missed_wait() {
  if (missed_since_.load(std::memory_order_relaxed) == 0) return;
  const std::int64_t since = missed_since_.exchange(0, std::memory_order_relaxed);
  if (since == 0) return;
  // The window belongs to the worker holding the flag: a sample that finds another worker
  // polling is dropped (that one's wait will tell).
  if (polling_.exchange(true, std::memory_order_acquire)) return;
  window_.record(std::chrono::nanoseconds(since_epoch(Clock::now()) - since));
  polling_.store(false, std::memory_order_release);
}

}  // namespace ninep::fuse
