// StopOnSignals: the callback runs once on the first signal of the set, the set is blocked while
// the helper lives (in threads started meanwhile too), and the previous mask comes back after.
#include "common/stop_on_signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace ninep {
namespace {

using namespace std::chrono_literals;

sigset_t current_mask() {
  sigset_t m;
  pthread_sigmask(SIG_BLOCK, nullptr, &m);
  return m;
}

bool pending(int sig) {
  sigset_t p;
  sigpending(&p);
  return sigismember(&p, sig) == 1;
}

// Counts the callback's calls; waits for the first.
struct Calls {
  std::mutex mu;
  std::condition_variable cv;
  int n = 0;
  std::function<void()> callback() {
    return [this] {
      std::lock_guard lk(mu);
      ++n;
      cv.notify_all();
    };
  }
  bool wait_first() {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, 10s, [&] { return n > 0; });
  }
  int count() {
    std::lock_guard lk(mu);
    return n;
  }
};

TEST(StopOnSignals, CallsBackOnceOnTheFirstSignal) {
  Calls calls;
  {
    StopOnSignals stop({SIGUSR1}, calls.callback());
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
    ASSERT_TRUE(calls.wait_first());
    // A second one is not reported, and does not reach the default action (which would end
    // this process) once the helper is gone.
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(calls.count(), 1);
  EXPECT_FALSE(pending(SIGUSR1));
  const sigset_t after = current_mask();
  EXPECT_EQ(sigismember(&after, SIGUSR1), 0);
}

TEST(StopOnSignals, AnySignalOfTheSetCallsBack) {
  Calls calls;
  {
    StopOnSignals stop({SIGUSR1, SIGUSR2}, calls.callback());
    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
    ASSERT_TRUE(calls.wait_first());
  }
  EXPECT_EQ(calls.count(), 1);
}

TEST(StopOnSignals, NoSignalNoCallback) {
  Calls calls;
  { StopOnSignals stop({SIGUSR1}, calls.callback()); }
  EXPECT_EQ(calls.count(), 0);
}

TEST(StopOnSignals, BlocksTheSetInThreadsStartedMeanwhileAndRestoresThePreviousMask) {
  // SIGUSR2 was blocked before: it stays so; SIGUSR1 was not: it is unblocked again.
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigset_t before;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &usr2, &before), 0);
  {
    Calls calls;
    StopOnSignals stop({SIGUSR1, SIGUSR2}, calls.callback());
    sigset_t mine = current_mask(), theirs;
    std::thread([&] { theirs = current_mask(); }).join();
    EXPECT_EQ(sigismember(&mine, SIGUSR1), 1);
    EXPECT_EQ(sigismember(&theirs, SIGUSR1), 1);
    EXPECT_EQ(sigismember(&theirs, SIGUSR2), 1);
  }
  sigset_t after = current_mask();
  EXPECT_EQ(sigismember(&after, SIGUSR1), 0);
  EXPECT_EQ(sigismember(&after, SIGUSR2), 1);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

}  // namespace
}  // namespace ninep
