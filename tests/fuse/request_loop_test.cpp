// The FUSE request loop (fuse/request_loop.h): a FuseMount run in this process, without polling
// and with the default polling window. Concurrent work is served correctly, requests that block
// in the daemon do not hold up the others (more than one worker runs), and stopping or unmounting
// ends run() promptly whether the workers are idle or busy.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "fuse/fuse_mount.h"
#include "harness.h"
#include "inprocess_fixture.h"
#include "transport/poll_window.h"

namespace ninep::testing {
namespace {

using std::chrono::microseconds;
using namespace std::chrono_literals;

// How long run() may take to end once asked to (or once unmounted).
constexpr auto kPromptly = 5s;

class RequestLoopTest : public InProcessMountTest,
                        public ::testing::WithParamInterface<microseconds> {
 protected:
  void adjust(fuse::MountOptions& o) override { o.poll_max = GetParam(); }

  // Stops the mount and expects run() to end (successfully) within kPromptly.
  void stop_promptly() {
    auto t0 = std::chrono::steady_clock::now();
    mount_->stop();
    ASSERT_EQ(ended_.wait_for(kPromptly), std::future_status::ready) << "run() did not end";
    EXPECT_EQ(ended_.get(), 0);
    loop_.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, kPromptly);
  }

  std::string m(const std::string& name) const { return mnt_ + "/" + name; }
};

// Eight threads, each on its own file and all on a shared directory: every write is read back
// through the mount and the attributes follow, and the export holds the last contents.
TEST_P(RequestLoopTest, ConcurrentWorkloadIsServedCorrectly) {
  ASSERT_EQ(::mkdir(m("shared").c_str(), 0755), 0);
  constexpr int kThreads = 8, kRounds = 150;
  std::atomic<int> failures{0};
  std::vector<std::string> first_failure(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto fail = [&](const std::string& what) {
        if (first_failure[t].empty()) first_failure[t] = what + ": " + std::strerror(errno);
        ++failures;
      };
      const std::string path = m("shared/f" + std::to_string(t));
      for (int i = 0; i < kRounds; ++i) {
        const std::string data = std::to_string(t) + ":" + std::to_string(i) +
                                 std::string(static_cast<std::size_t>(i % 37) * 100, 'x');
        UniqueFd fd(::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0644));
        if (!fd) return fail("open");
        if (::pwrite(fd.get(), data.data(), data.size(), 0) != ssize_t(data.size()))
          return fail("pwrite");
        struct stat st;
        if (::stat(path.c_str(), &st) != 0 || st.st_size != off_t(data.size()))
          return fail("stat size");
        std::string got(data.size(), '\0');
        if (::pread(fd.get(), got.data(), got.size(), 0) != ssize_t(got.size()) || got != data)
          return fail("pread");
        fd.reset();
        if (read_file(path) != data) return fail("read back");
        if (::stat(m("shared").c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return fail("stat dir");
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_TRUE(first_failure[t].empty()) << first_failure[t];
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    const std::string last = std::to_string(t) + ":" + std::to_string(kRounds - 1) +
                             std::string(static_cast<std::size_t>((kRounds - 1) % 37) * 100, 'x');
    EXPECT_EQ(read_file(export_ + "/shared/f" + std::to_string(t)), last) << t;
  }
}

// A blocking flock() that has to wait keeps its worker busy in the daemon until the lock is
// granted (it retries on the server). Sixteen of them at once, and still the mount answers other
// requests; once the holder lets go, all sixteen are granted.
TEST_P(RequestLoopTest, BlockedRequestsDoNotHoldUpTheOthers) {
  write_file(m("lockfile"), "x");
  write_file(m("other"), "other data");
  UniqueFd holder(::open(m("lockfile").c_str(), O_RDWR));
  ASSERT_TRUE(holder);
  ASSERT_EQ(::flock(holder.get(), LOCK_EX), 0) << std::strerror(errno);

  constexpr int kWaiters = 16;
  std::atomic<int> started{0}, granted{0}, failed{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&] {
      // flock() locks belong to the open file: each waiter's own open conflicts with the holder.
      UniqueFd fd(::open(m("lockfile").c_str(), O_RDWR));
      ++started;
      if (!fd || ::flock(fd.get(), LOCK_SH) != 0) {
        ++failed;
        return;
      }
      ++granted;
      ::flock(fd.get(), LOCK_UN);
    });
  }
  while (started.load() < kWaiters) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(300ms);  // every waiter's request is in a worker by now
  EXPECT_EQ(granted.load(), 0) << "the lock is held";

  // Other work is served meanwhile (by more workers than the blocked ones).
  auto other = std::async(std::launch::async, [&] {
    struct stat st;
    return ::stat(m("other").c_str(), &st) == 0 && read_file(m("other")) == "other data";
  });
  if (other.wait_for(kPromptly) != std::future_status::ready) {
    ADD_FAILURE() << "a stat and a read did not complete while flock()s wait";
    // Every worker is stuck, unlocking too would be: the server going away fails the blocked
    // requests, and the test ends.
    server_->kill();
    for (auto& w : waiters) w.join();
    return;
  }
  EXPECT_TRUE(other.get());

  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::flock(holder.get(), LOCK_UN), 0);
  for (auto& w : waiters) w.join();
  EXPECT_EQ(granted.load(), kWaiters);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, kPromptly);
}

TEST_P(RequestLoopTest, StopWhileIdleEndsRunPromptly) {
  write_file(m("f"), "data");
  EXPECT_EQ(read_file(m("f")), "data");
  std::this_thread::sleep_for(100ms);  // the workers are all waiting for a request
  stop_promptly();
  EXPECT_FALSE(is_fuse_mounted(mnt_));
}

// Eight threads keep the workers busy (and the mount busy: open files, so that it is detached
// lazily) while the mount is stopped.
TEST_P(RequestLoopTest, StopWhileBusyEndsRunPromptly) {
  for (int t = 0; t < 8; ++t) write_file(m("f" + std::to_string(t)), std::string(4096, 'a'));
  std::atomic<bool> done{false};
  std::atomic<long> ops{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string path = m("f" + std::to_string(t));
      UniqueFd fd(::open(path.c_str(), O_RDWR));
      char buf[4096];
      while (!done.load()) {
        // Errors are expected once the mount is going away: only the requests matter here.
        struct stat st;
        (void)::stat(path.c_str(), &st);
        if (fd) {
          (void)::pwrite(fd.get(), buf, sizeof buf, 0);
          (void)::pread(fd.get(), buf, sizeof buf, 0);
          (void)::fstat(fd.get(), &st);
        }
        ++ops;
      }
    });
  }
  while (ops.load() < 200) std::this_thread::sleep_for(1ms);
  stop_promptly();
  done = true;
  // Requests on files still open after the lazy detach fail (ENOTCONN) once the device is
  // closed: when the mount is destroyed.
  mount_.reset();
  for (auto& th : threads) th.join();
}

// Unmounting from outside ends the loop by itself: every worker's read fails with ENODEV.
TEST_P(RequestLoopTest, UnmountEndsRunPromptly) {
  // Some concurrent requests first, so that there are several workers to end.
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string path = m("f" + std::to_string(t));
      for (int i = 0; i < 20; ++i) write_file(path, std::to_string(i));
    });
  }
  for (auto& th : threads) th.join();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::umount2(mnt_.c_str(), 0), 0) << std::strerror(errno);
  ASSERT_EQ(ended_.wait_for(kPromptly), std::future_status::ready) << "run() did not end";
  EXPECT_EQ(ended_.get(), 0);
  loop_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, kPromptly);
  EXPECT_FALSE(is_fuse_mounted(mnt_));
}

INSTANTIATE_TEST_SUITE_P(PollMax, RequestLoopTest,
                         ::testing::Values(microseconds(0), transport::PollWindow::kDefaultMax),
                         [](const ::testing::TestParamInfo<microseconds>& info) {
                           return info.param.count() == 0
                                      ? std::string("NoPolling")
                                      : "Poll" + std::to_string(info.param.count()) + "us";
                         });

}  // namespace
}  // namespace ninep::testing
