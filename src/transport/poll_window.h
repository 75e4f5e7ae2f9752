// How long a wait for input polls before it sleeps: an adaptive window, one per waiter (a
// connection's reader, a FUSE worker).
//
// On a VM an idle vCPU halts, and waking it costs tens of microseconds: far more than a small
// request or reply takes to arrive from a busy peer. A wait that first polls its descriptor for a
// few microseconds catches the data with the CPU still running. Polling costs CPU, so the window
// adapts (as QEMU's event loop does with poll-max-ns): each wait reports how long it took in all;
// a wait the window would have caught had it been longer grows it (to 1.5 times that wait, at
// least doubling, up to the maximum), a wait longer than the maximum shrinks it (halving), and a
// wait longer than kIdle closes it: an idle connection polls nothing until traffic comes back.
//
// Pure logic (no clock, no descriptor): the caller measures; the tests need no timing.
#pragma once

#include <algorithm>
#include <chrono>

#include <sched.h>

namespace ninep::transport {

// What a polling loop does between two tries: gives the CPU to any other thread that is ready to
// run on it (sched_yield). With no such thread it costs a system call and the loop goes on; with
// one (on a machine with few CPUs: the peer whose data we wait for, or a caller our last reply
// woke) that thread runs now instead of waiting for this one's window to end. Measured on 2
// vCPUs: a FUSE stat through the mount and a polling server took 70 us spinning on `pause` and
// 30 us yielding, as the stat caller, the FUSE daemon and the server shared the two CPUs; a
// two-party ping-pong costs the same either way (bench/latency).
inline void poll_pause() {
  ::sched_yield();
}

class PollWindow {
 public:
  using Duration = std::chrono::nanoseconds;

  // The default maximum (--poll-us): a little more than a round trip through a busy peer here.
  static constexpr std::chrono::microseconds kDefaultMax{50};
  // The window the first wait that could have been caught opens with.
  static constexpr Duration kStart = std::chrono::microseconds(4);
  // A wait at least this long means the peer is idle: stop polling altogether.
  static constexpr Duration kIdle = std::chrono::milliseconds(2);

  // A zero maximum turns polling off: window() is always zero.
  explicit PollWindow(Duration max = kDefaultMax)
      : max_(max < Duration::zero() ? Duration{} : max) {}

  // How long the next wait polls before it sleeps.
  Duration window() const { return window_; }
  Duration max() const { return max_; }

  // A wait is over: it took `waited` in all (polling and sleeping), from its start until its data
  // came.
  void record(Duration waited) {
    if (max_ == Duration::zero()) return;
    // Idle first: with a maximum above kIdle the window can be open past it, and a wait that
    // long is an idle peer even when polling caught it.
    if (waited >= kIdle) {
      window_ = Duration::zero();
    } else if (waited <= window_) {
      return;  // caught while polling: the window is right
    } else if (waited > max_) {
      window_ /= 2;
      if (window_ < kStart) window_ = Duration::zero();
    } else {
      // Polling longer would have caught it: open the window to half as much again as this
      // wait took (at least double), so that the next one like it is caught.
      window_ = std::min(max_, std::max({kStart, window_ * 2, waited + waited / 2}));
    }
  }

 private:
  Duration max_;
  Duration window_{0};
};

}  // namespace ninep::transport
