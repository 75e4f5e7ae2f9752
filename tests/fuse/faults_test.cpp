// The server going away under a FUSE mount: processes reading and writing get errors within 2 s
// (never hang), `ninep umount` releases the mount; with --reconnect a restarted server lets them
// carry on with their open files.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/unique_fd.h"
#include "mounted_fixture.h"

namespace ninep::testing {
namespace {

std::int64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// What a worker process reports when its first operation fails.
struct Failure {
  int err = 0;
  int work = 0;
  std::uint64_t iterations = 0;
  std::int64_t at_ns = 0;
};

enum class Work { Write, Read, Stat };

// A child process that loops `work` on the mount until an operation fails, then reports.
pid_t start_worker(Work work, const std::string& path, int report_fd) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  std::string buf(65536, 'w');
  int fd = ::open(path.c_str(), O_RDWR);
  Failure f;
  for (std::uint64_t i = 0;; ++i) {
    bool ok = true;
    off_t off = off_t((i % 64) * buf.size());
    if (work == Work::Write) {
      // A write cut short by the connection dying reports what got through; the next fails.
      ok = fd >= 0 && ::pwrite(fd, buf.data(), buf.size(), off) >= 0;
    } else if (work == Work::Read) {
      ok = fd >= 0 && ::pread(fd, buf.data(), buf.size(), off) >= 0;
      if (ok) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // keep asking the server
    } else {
      struct stat st;
      ok = ::stat(path.c_str(), &st) == 0;
    }
    if (!ok) {
      f.err = errno;
      f.at_ns = now_ns();
      f.work = int(work);
      f.iterations = i;
      break;
    }
  }
  [[maybe_unused]] auto n = ::write(report_fd, &f, sizeof f);
  ::_exit(0);
}

class FaultsTest : public MountedTest {};

TEST_P(FaultsTest, ServerDeathFailsEveryOperationWithin2sAndUnmountReleases) {
  std::string path = mnt_ + "/data";
  write_file(path, std::string(4 << 20, 'd'));
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::vector<pid_t> workers;
  for (Work w : {Work::Write, Work::Read, Work::Stat, Work::Write, Work::Read})
    workers.push_back(start_worker(w, path, p[1]));
  ::close(p[1]);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let them get going

  std::int64_t killed = now_ns();
  server_->kill();
  std::vector<Failure> failures;
  while (failures.size() < workers.size()) {
    pollfd pfd{p[0], POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0) break;
    Failure f;
    if (::read(p[0], &f, sizeof f) != sizeof f) break;
    failures.push_back(f);
  }
  ::close(p[0]);
  EXPECT_EQ(failures.size(), workers.size()) << "some processes did not get an error";
  for (const auto& f : failures) {
    EXPECT_TRUE(f.err == EIO || f.err == ENOTCONN || f.err == ECONNABORTED)
        << std::strerror(f.err) << " in worker " << f.work << " after " << f.iterations
        << " operations, " << (f.at_ns - killed) / 1e6 << " ms after the kill";
    EXPECT_LT(f.at_ns - killed, 2'000'000'000)
        << "error came after " << (f.at_ns - killed) / 1e6 << " ms";
  }
  // Later operations fail at once too.
  auto t0 = now_ns();
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), -1);
  EXPECT_EQ(::open((mnt_ + "/new").c_str(), O_CREAT | O_WRONLY, 0644), -1);
  EXPECT_LT(now_ns() - t0, 2'000'000'000);
  // No process is stuck: all exit.
  for (pid_t w : workers) {
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (::waitpid(w, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "worker " << w << " did not exit";
        ::kill(w, SIGKILL);
        ::waitpid(w, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // The mount is released by `ninep umount`, and the mount process ends.
  auto r = mount_->unmount();
  EXPECT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(is_fuse_mounted(mnt_));
  mount_.reset();
}

class ReconnectTest : public MountedTest {
 protected:
  std::vector<std::string> mount_args() override { return {"--reconnect"}; }
};

TEST_P(ReconnectTest, RestartedServerIsInvisibleToOpenFiles) {
  std::string path = mnt_ + "/log";
  write_file(mnt_ + "/existing", "still here");
  ASSERT_EQ(::mkdir((mnt_ + "/sub").c_str(), 0755), 0);
  write_file(mnt_ + "/sub/nested", "nested data");
  UniqueFd writer(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
  UniqueFd reader(::open((mnt_ + "/sub/nested").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(writer && reader);

  // A writer thread appends numbered records all along.
  std::atomic<bool> stop{false};
  std::atomic<int> records{0}, errors{0};
  std::thread t([&] {
    char rec[64];
    while (!stop) {
      int i = records.load();
      std::snprintf(rec, sizeof rec, "record %08d\n", i);
      if (::pwrite(writer.get(), rec, 16, off_t(i) * 16) != 16) {
        ++errors;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      records = i + 1;
    }
  });
  while (records < 50) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto r = server_->restart();
  ASSERT_TRUE(r) << r.error().to_string();
  int after_restart = records.load();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (records < after_restart + 100 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  t.join();
  EXPECT_EQ(errors.load(), 0) << "the writer saw errors across the restart";
  EXPECT_GE(records.load(), after_restart + 100) << "the writer did not carry on";

  // Everything written is on the host, in order.
  std::string want;
  for (int i = 0; i < records.load(); ++i) {
    char rec[64];
    std::snprintf(rec, sizeof rec, "record %08d\n", i);
    want += rec;
  }
  EXPECT_TRUE(read_file(export_ + "/log") == want);
  // A file opened before the restart still reads, through a re-walked path.
  char buf[32] = {};
  EXPECT_EQ(::pread(reader.get(), buf, sizeof buf, 0), 11) << std::strerror(errno);
  EXPECT_STREQ(buf, "nested data");
  EXPECT_EQ(read_file(mnt_ + "/existing"), "still here");
  write_file(mnt_ + "/sub/after", "new");
  EXPECT_EQ(read_file(export_ + "/sub/after"), "new");
  writer.reset();
  reader.reset();
}

INSTANTIATE_TEST_SUITE_P(Servers, FaultsTest, ::testing::Values(ServerKind::Ours, ServerKind::Diod),
                         ServerKindName);
INSTANTIATE_TEST_SUITE_P(Servers, ReconnectTest,
                         ::testing::Values(ServerKind::Ours, ServerKind::Diod), ServerKindName);

}  // namespace
}  // namespace ninep::testing
