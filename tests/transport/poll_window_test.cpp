// transport::PollWindow, the adaptive polling window, driven with chosen wait durations (no clock,
// no sleep): it starts closed, opens when a wait could have been caught (to 1.5 times that wait,
// at least kStart, at least doubling, never above the maximum), halves when a wait exceeds the
// maximum, closes after a wait of kIdle or more, and stays closed when the maximum is zero.
#include "transport/poll_window.h"

#include <gtest/gtest.h>

#include <chrono>

namespace ninep::transport {
namespace {

using namespace std::chrono_literals;
using D = PollWindow::Duration;

// The rule's constants as the header documents them; a change to them should be a conscious one.
TEST(PollWindow, Constants) {
  EXPECT_EQ(PollWindow::kDefaultMax, 50us);
  EXPECT_EQ(PollWindow::kStart, D(4us));
  EXPECT_EQ(PollWindow::kIdle, D(2ms));
}

TEST(PollWindow, StartsClosedWithTheDefaultMaximum) {
  PollWindow w;
  EXPECT_EQ(w.window(), D::zero());
  EXPECT_EQ(w.max(), D(50us));
  PollWindow v(30us);
  EXPECT_EQ(v.window(), D::zero());
  EXPECT_EQ(v.max(), D(30us));
}

TEST(PollWindow, ANegativeMaximumIsZero) {
  PollWindow w(D(-5us));
  EXPECT_EQ(w.max(), D::zero());
  w.record(10us);
  EXPECT_EQ(w.window(), D::zero());
}

TEST(PollWindow, AZeroMaximumNeverPolls) {
  PollWindow w(D::zero());
  EXPECT_EQ(w.max(), D::zero());
  for (D waited : {D(1ns), D(1us), D(10us), D(50us), D(1ms), D(2ms), D(1s)}) {
    w.record(waited);
    EXPECT_EQ(w.window(), D::zero()) << waited.count() << " ns";
  }
}

TEST(PollWindow, AnInstantWaitDoesNotOpenIt) {
  PollWindow w;
  w.record(D::zero());  // not more than the (zero) window: caught
  EXPECT_EQ(w.window(), D::zero());
}

TEST(PollWindow, OpensToOneAndAHalfTimesTheWaitAtLeastKStart) {
  {
    PollWindow w;
    w.record(1ns);
    EXPECT_EQ(w.window(), PollWindow::kStart);
  }
  {
    PollWindow w;
    w.record(2us);  // 1.5 * 2 us = 3 us < kStart
    EXPECT_EQ(w.window(), D(4us));
  }
  {
    PollWindow w;
    w.record(10us);
    EXPECT_EQ(w.window(), D(15us));
  }
  {
    PollWindow w;
    w.record(D(3333));  // 3333 + 3333 / 2 = 4999 ns
    EXPECT_EQ(w.window(), D(4999));
  }
}

TEST(PollWindow, GrowsAtLeastDoublingUpToTheMaximum) {
  PollWindow w;  // max 50 us
  w.record(1us);
  ASSERT_EQ(w.window(), D(4us));
  w.record(5us);  // double 8 us > 1.5 * 5 us = 7.5 us
  EXPECT_EQ(w.window(), D(8us));
  w.record(9us);  // double 16 us > 13.5 us
  EXPECT_EQ(w.window(), D(16us));
  w.record(17us);  // double 32 us > 25.5 us
  EXPECT_EQ(w.window(), D(32us));
  w.record(33us);  // double 64 us, 49.5 us: capped at 50 us
  EXPECT_EQ(w.window(), D(50us));
}

TEST(PollWindow, GrowsToOneAndAHalfTimesALongerWait) {
  PollWindow w;
  w.record(1us);
  ASSERT_EQ(w.window(), D(4us));
  w.record(30us);  // 45 us > double 8 us
  EXPECT_EQ(w.window(), D(45us));
}

TEST(PollWindow, NeverExceedsTheMaximum) {
  PollWindow w(40us);
  w.record(39us);  // 58.5 us, capped
  EXPECT_EQ(w.window(), D(40us));
  // A wait of exactly the maximum is one the window could have caught: it grows (to the cap).
  PollWindow v(40us);
  v.record(20us);
  ASSERT_EQ(v.window(), D(30us));
  v.record(40us);
  EXPECT_EQ(v.window(), D(40us));
  // Every wait from 1 ns to the maximum, over and over: never above it.
  PollWindow u(40us);
  for (int round = 0; round < 3; ++round) {
    for (D waited = D(1ns); waited <= D(40us); waited += D(997)) {
      u.record(waited);
      ASSERT_LE(u.window(), D(40us));
    }
  }
  EXPECT_EQ(u.window(), D(40us));
}

TEST(PollWindow, AMaximumBelowKStartIsTheWindow) {
  PollWindow w(1us);
  w.record(500ns);
  EXPECT_EQ(w.window(), D(1us));
  w.record(2us);  // longer than the maximum: halved to 500 ns, below kStart: closed
  EXPECT_EQ(w.window(), D::zero());
}

TEST(PollWindow, AWaitTheWindowCaughtLeavesItAlone) {
  PollWindow w;
  w.record(10us);
  ASSERT_EQ(w.window(), D(15us));
  for (D waited : {D::zero(), D(1ns), D(1us), D(14999), D(15us)}) {
    w.record(waited);
    EXPECT_EQ(w.window(), D(15us)) << waited.count() << " ns";
  }
  w.record(D(15001));  // just longer: grows (double: 30 us)
  EXPECT_EQ(w.window(), D(30us));
}

TEST(PollWindow, HalvesWhenAWaitExceedsTheMaximumThenCloses) {
  PollWindow w;
  w.record(40us);
  ASSERT_EQ(w.window(), D(50us));
  w.record(D(50us) + D(1ns));  // just over the maximum
  EXPECT_EQ(w.window(), D(25us));
  w.record(100us);
  EXPECT_EQ(w.window(), D(12500));
  w.record(PollWindow::kIdle - D(1ns));  // the longest wait that is not idle
  EXPECT_EQ(w.window(), D(6250));
  w.record(1ms);  // 3125 ns < kStart: closed
  EXPECT_EQ(w.window(), D::zero());
  w.record(1ms);  // closed stays closed
  EXPECT_EQ(w.window(), D::zero());
}

TEST(PollWindow, HalvingToExactlyKStartKeepsItOpen) {
  PollWindow u(8us);
  u.record(8us);
  ASSERT_EQ(u.window(), D(8us));
  u.record(9us);  // halved to 4 us: kStart, still open
  EXPECT_EQ(u.window(), D(4us));
  u.record(9us);  // 2 us < kStart: closed
  EXPECT_EQ(u.window(), D::zero());
}

TEST(PollWindow, AWaitOfKIdleOrMoreClosesItAtOnce) {
  for (D idle : {PollWindow::kIdle, PollWindow::kIdle + D(1ns), D(1s), D(1h)}) {
    PollWindow w;
    w.record(40us);
    ASSERT_EQ(w.window(), D(50us));
    w.record(idle);
    EXPECT_EQ(w.window(), D::zero()) << idle.count() << " ns";
  }
}

TEST(PollWindow, ReopensWhenTrafficComesBack) {
  PollWindow w;
  w.record(40us);
  w.record(5ms);
  ASSERT_EQ(w.window(), D::zero());
  w.record(200us);  // longer than the maximum, not idle: stays closed (half of zero)
  EXPECT_EQ(w.window(), D::zero());
  w.record(10us);  // a wait polling could have caught: open again
  EXPECT_EQ(w.window(), D(15us));
}

// With a maximum above kIdle (--poll-us up to 1000000), the window can open past kIdle (growth
// only needs a wait shorter than kIdle). A wait of kIdle or more still means an idle peer and must
// close it, even one the window caught while polling; otherwise a peer that sends every 2.5 ms
// keeps a CPU spinning for good.
TEST(PollWindow, AWaitOfKIdleClosesItEvenWhenTheWindowCaughtIt) {
  PollWindow w(1s);
  w.record(1900us);
  ASSERT_EQ(w.window(), D(2850us));
  w.record(2500us);  // caught (<= 2.85 ms), yet idle
  EXPECT_EQ(w.window(), D::zero());
}

}  // namespace
}  // namespace ninep::transport
