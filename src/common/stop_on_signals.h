// StopOnSignals: while it lives, the given signals are blocked in the thread that made it (and in
// the threads it starts afterwards, which inherit the mask) and taken by a thread of its own,
// which calls a callback on the first of them. It is destroyed by the thread that made it.
#pragma once

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <thread>
#include <utility>

#include "common/unique_fd.h"

namespace ninep {

class StopOnSignals {
 public:
  // Should a descriptor fail, nothing is blocked: the signals keep their usual action.
  StopOnSignals(std::initializer_list<int> signals, std::function<void()> on_signal) {
    sigemptyset(&set_);
    for (int sig : signals) sigaddset(&set_, sig);
    signal_fd_.reset(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
    wake_fd_.reset(::eventfd(0, EFD_CLOEXEC));
    if (!signal_fd_ || !wake_fd_) return;
    pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
    thread_ = std::thread([this, on_signal = std::move(on_signal)] {
      pollfd p[2] = {{signal_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
      for (;;) {
        if (::poll(p, 2, -1) < 0) {
          if (errno == EINTR) continue;
          return;
        }
        if (p[1].revents) return;
        signalfd_siginfo si;
        if (p[0].revents && ::read(signal_fd_.get(), &si, sizeof si) == sizeof si) {
          on_signal();
          return;
        }
      }
    });
  }

  // Wakes and joins the thread, takes the signals that came meanwhile (they asked for the same
  // stop) and restores the thread's previous mask.
  ~StopOnSignals() {
    if (!thread_.joinable()) return;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_.get(), &one, sizeof one);
    thread_.join();
    signalfd_siginfo si;
    while (::read(signal_fd_.get(), &si, sizeof si) == sizeof si) {
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }

  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  sigset_t set_{};
  sigset_t old_mask_{};
  UniqueFd signal_fd_;
  UniqueFd wake_fd_;
  std::thread thread_;
};

}  // namespace ninep
