// A FUSE mount with --reconnect whose server is killed (SIGKILL) and restarted on the same socket:
//  - an fsx-style run (random writes, truncates, reads, reopens on a few files, every read checked
//    against an in-memory model) carries on across 5 kills without a single failed operation, and
//    the files end up equal to the model byte for byte on the mount and on the host;
//  - what a reconnect loses, as the README states it: POSIX and flock() locks are not taken again
//    on the new server, and a file that was open but unlinked cannot be opened again (ESTALE),
//    while other open files and open directories carry on where they were.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "mounted_fixture.h"

namespace ninep::testing {
namespace {

class ReconnectFsxTest : public MountedTest {
 protected:
  std::vector<std::string> mount_args() override { return {"--reconnect"}; }
};

constexpr int kKills = 5;
constexpr int kThreads = 2;
constexpr int kFilesPerThread = 2;
// Operations each thread runs between two kills (and after the last).
constexpr long kOpsPerRound = 300;
constexpr std::size_t kMaxSize = 384 * 1024;

// One file of the run: its descriptor on the mount and what it must contain.
struct ModelFile {
  std::string name;
  UniqueFd fd;
  std::string model;
};

// Reads [off, off + len) through `fd` the way a program would (until EOF or an error).
std::string read_range(int fd, off_t off, std::size_t len, int* err) {
  std::string s(len, '\0');
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, s.data() + done, len - done, off + off_t(done));
    if (n < 0) {
      *err = errno;
      break;
    }
    if (n == 0) break;
    done += std::size_t(n);
  }
  s.resize(done);
  return s;
}

// What the model holds at [off, off + len).
std::string model_range(const std::string& m, std::size_t off, std::size_t len) {
  if (off >= m.size()) return {};
  return m.substr(off, std::min(len, m.size() - off));
}

TEST_P(ReconnectFsxTest, RandomOperationsSurviveFiveServerKills) {
  std::vector<std::vector<ModelFile>> files(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kFilesPerThread; ++i) {
      ModelFile f;
      f.name = "fsx" + std::to_string(t) + "-" + std::to_string(i);
      f.fd.reset(::open((mnt_ + "/" + f.name).c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
      ASSERT_TRUE(f.fd) << f.name << ": " << std::strerror(errno);
      files[t].push_back(std::move(f));
    }
  }

  std::atomic<bool> stop{false};
  std::vector<std::atomic<long>> ops(kThreads);
  std::atomic<long> max_op_us{0};
  std::mutex fail_mu;
  std::string failure;
  auto fail_with = [&](const std::string& what) {
    std::lock_guard lk(fail_mu);
    if (failure.empty()) failure = what;
    stop = true;
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(4242 + t);
      std::string buf;
      while (!stop) {
        auto& f = files[t][rng() % kFilesPerThread];
        const int op = int(rng() % 100);
        const std::string where = f.name + " op " + std::to_string(ops[t].load());
        const auto t0 = std::chrono::steady_clock::now();
        if (op < 40) {  // write at a random offset (past the end too: a hole)
          const std::size_t off = rng() % kMaxSize;
          const std::size_t len = 1 + rng() % (op < 4 ? 200000 : 32768);
          buf.resize(len);
          for (auto& c : buf) c = static_cast<char>(rng());
          ssize_t n = ::pwrite(f.fd.get(), buf.data(), len, off_t(off));
          if (n != ssize_t(len)) {
            fail_with(where + ": write of " + std::to_string(len) + " at " + std::to_string(off) +
                      " returned " + std::to_string(n) + " (" + std::strerror(errno) + ")");
            break;
          }
          if (f.model.size() < off + len) f.model.resize(off + len, '\0');
          f.model.replace(off, len, buf);
        } else if (op < 75) {  // read a random range and compare with the model
          const std::size_t off = rng() % kMaxSize;
          const std::size_t len = 1 + rng() % 100000;
          int err = 0;
          std::string got = read_range(f.fd.get(), off_t(off), len, &err);
          std::string want = model_range(f.model, off, len);
          if (err != 0 || got != want) {
            std::size_t at = 0;
            while (at < std::min(got.size(), want.size()) && got[at] == want[at]) ++at;
            fail_with(where + ": read of " + std::to_string(len) + " at " + std::to_string(off) +
                      " got " + std::to_string(got.size()) + " bytes, want " +
                      std::to_string(want.size()) + ", first difference at +" + std::to_string(at) +
                      (err ? std::string(", ") + std::strerror(err) : ""));
            break;
          }
        } else if (op < 87) {  // truncate (grow or shrink)
          const std::size_t size = rng() % kMaxSize;
          if (::ftruncate(f.fd.get(), off_t(size)) != 0) {
            fail_with(where + ": truncate to " + std::to_string(size) + ": " +
                      std::strerror(errno));
            break;
          }
          f.model.resize(size, '\0');
        } else if (op < 93) {  // size as the server sees it
          struct stat st {};
          if (::fstat(f.fd.get(), &st) != 0 || std::size_t(st.st_size) != f.model.size()) {
            fail_with(where + ": fstat size " + std::to_string(st.st_size) + " want " +
                      std::to_string(f.model.size()) + " (" + std::strerror(errno) + ")");
            break;
          }
        } else if (op < 97) {  // close and open again by name
          f.fd.reset(::open((mnt_ + "/" + f.name).c_str(), O_RDWR | O_CLOEXEC));
          if (!f.fd) {
            fail_with(where + ": reopen: " + std::strerror(errno));
            break;
          }
        } else if (::fsync(f.fd.get()) != 0) {
          fail_with(where + ": fsync: " + std::strerror(errno));
          break;
        }
        const long us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - t0)
                            .count();
        long seen = max_op_us.load();
        while (us > seen && !max_op_us.compare_exchange_weak(seen, us)) {
        }
        ++ops[t];
      }
    });
  }

  // Kill the server whenever every thread has done another round of operations: they are in the
  // middle of their next ones. Restart it after a pause of 20-300 ms, while they wait.
  auto all_reached = [&](long n) {
    for (auto& o : ops)
      if (o.load() < n) return false;
    return true;
  };
  std::mt19937 rng(7);
  int kills = 0;
  std::string restart_error;
  for (int k = 1; k <= kKills + 1 && !stop; ++k) {
    while (!stop && !all_reached(k * kOpsPerRound))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (stop || k > kKills) break;
    server_->kill();
    ++kills;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 280));
    auto r = server_->restart();
    if (!r) {
      restart_error = r.error().to_string();
      break;
    }
  }
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_TRUE(restart_error.empty()) << restart_error << "\n" << server_->log();
  long total = 0;
  for (auto& o : ops) total += o.load();
  ASSERT_TRUE(failure.empty()) << failure << " (after " << total << " operations, " << kills
                               << " kills)\nmount log: " << mount_->log();
  EXPECT_EQ(kills, kKills);

  // The files, closed and read whole, equal the model on the mount and on the host.
  for (auto& per_thread : files) {
    for (auto& f : per_thread) {
      f.fd.reset();
      EXPECT_TRUE(read_file(mnt_ + "/" + f.name) == f.model) << f.name << " differs on the mount";
      EXPECT_TRUE(read_file(export_ + "/" + f.name) == f.model) << f.name << " differs on the host";
    }
  }
  std::printf("%ld operations across %d server kills; slowest operation %.1f ms\n", total, kills,
              max_op_us.load() / 1000.0);
  RecordProperty("operations", std::to_string(total));
}

// ---- what a reconnect loses ----

class ReconnectLossTest : public MountedTest {
 protected:
  std::vector<std::string> mount_args() override { return {"--reconnect"}; }

  // Kills the server, starts it again, and waits until the mount works again (a stat through it
  // succeeds: that request found the connection dead and waited for the new one).
  void restart_server() {
    server_->kill();
    auto r = server_->restart();
    ASSERT_TRUE(r) << r.error().to_string();
    struct stat st {};
    ASSERT_EQ(::stat(mnt_.c_str(), &st), 0) << std::strerror(errno);
  }
};

// A child process that opens `path` through the mount and tries to take a whole-file POSIX write
// lock: it reports the errno of F_SETLK (0: taken) on `report`, and keeps the lock until `hold`
// is closed.
pid_t lock_in_child(const std::string& path, int report, int hold, int parent_end) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::close(parent_end);  // the parent's end of `hold`: closing it is the signal to let go
  int result = 0;
  int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) {
    result = errno;
  } else {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &fl) != 0) result = errno;
  }
  [[maybe_unused]] auto w = ::write(report, &result, sizeof result);
  char c;
  [[maybe_unused]] auto r = ::read(hold, &c, 1);  // until the parent closes its end
  ::_exit(0);
}

// Runs lock_in_child; returns its F_SETLK errno, and leaves it holding what it got until
// release() is called.
class LockingChild {
 public:
  explicit LockingChild(const std::string& path) {
    int report[2], hold[2];
    if (::pipe(report) != 0 || ::pipe(hold) != 0) return;
    pid_ = lock_in_child(path, report[1], hold[0], hold[1]);
    ::close(report[1]);
    ::close(hold[0]);
    hold_ = hold[1];
    if (::read(report[0], &result_, sizeof result_) != sizeof result_) result_ = -1;
    ::close(report[0]);
  }
  ~LockingChild() { release(); }
  int result() const { return result_; }
  void release() {
    if (hold_ >= 0) ::close(hold_);
    hold_ = -1;
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int hold_ = -1;
  int result_ = -1;
};

TEST_P(ReconnectLossTest, LocksAreNotTakenAgainOnTheNewServer) {
  const std::string path = mnt_ + "/locked";
  write_file(path, "locked data");
  UniqueFd holder(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(holder);
  struct flock wr {};
  wr.l_type = F_WRLCK;
  wr.l_whence = SEEK_SET;
  ASSERT_EQ(::fcntl(holder.get(), F_SETLK, &wr), 0) << std::strerror(errno);
  // flock() locks too: one open file holds it, another cannot take it. (A separate file: over
  // 9P, flock() is a whole-file lock of the same kind as fcntl()'s, and the two would conflict.)
  const std::string flocked = mnt_ + "/flocked";
  write_file(flocked, "");
  UniqueFd flocker(::open(flocked.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd flock_rival(::open(flocked.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(flocker && flock_rival);
  ASSERT_EQ(::flock(flocker.get(), LOCK_EX | LOCK_NB), 0) << std::strerror(errno);
  {
    // Before the kill the locks work: another process cannot take the POSIX lock.
    ASSERT_EQ(::flock(flock_rival.get(), LOCK_EX | LOCK_NB), -1);
    EXPECT_EQ(errno, EWOULDBLOCK);
    LockingChild other(path);
    EXPECT_EQ(other.result(), EAGAIN) << std::strerror(other.result());
  }

  ASSERT_NO_FATAL_FAILURE(restart_server());

  // After the reconnect nobody holds them on the server: another process takes the POSIX lock,
  // another open file the flock() lock.
  LockingChild other(path);
  EXPECT_EQ(other.result(), 0) << "the lock is still held after the reconnect: "
                               << std::strerror(other.result());
  EXPECT_EQ(::flock(flock_rival.get(), LOCK_EX | LOCK_NB), 0) << std::strerror(errno);
  // The original holders are not told: their descriptors work as before, and only trying to
  // take the lock again (or F_GETLK) shows that someone else holds it now.
  char buf[16] = {};
  EXPECT_EQ(::pread(holder.get(), buf, sizeof buf, 0), 11) << std::strerror(errno);
  EXPECT_EQ(::pwrite(holder.get(), "LOCKED", 6, 0), 6) << std::strerror(errno);
  struct flock probe = wr;
  ASSERT_EQ(::fcntl(holder.get(), F_GETLK, &probe), 0) << std::strerror(errno);
  EXPECT_EQ(probe.l_type, F_WRLCK) << "F_GETLK does not show the other process's lock";
  EXPECT_EQ(::fcntl(holder.get(), F_SETLK, &wr), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(::flock(flocker.get(), LOCK_EX | LOCK_NB), -1);
  EXPECT_EQ(errno, EWOULDBLOCK);
  // Once the other process lets go, the original holder can take its lock again.
  other.release();
  EXPECT_EQ(::fcntl(holder.get(), F_SETLK, &wr), 0) << std::strerror(errno);
  EXPECT_EQ(read_file(export_ + "/locked"), "LOCKED data");
}

TEST_P(ReconnectLossTest, UnlinkedOpenFileFailsWithEstaleAndOthersCarryOn) {
  write_file(mnt_ + "/doomed", "doomed data");
  write_file(mnt_ + "/kept", "kept data");
  UniqueFd doomed(::open((mnt_ + "/doomed").c_str(), O_RDWR | O_CLOEXEC));
  UniqueFd kept(::open((mnt_ + "/kept").c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(doomed && kept);
  ASSERT_EQ(::unlink((mnt_ + "/doomed").c_str()), 0) << std::strerror(errno);
  // A new file under the old name: a reconnect must not take it for the unlinked one.
  write_file(mnt_ + "/doomed", "a different file");
  // Before the kill the unlinked file still works (the server keeps it open).
  char buf[32] = {};
  ASSERT_EQ(::pread(doomed.get(), buf, sizeof buf, 0), 11) << std::strerror(errno);
  EXPECT_STREQ(buf, "doomed data");

  ASSERT_NO_FATAL_FAILURE(restart_server());

  // It cannot be opened again by any path: reading, writing and fstat() fail with ESTALE.
  std::memset(buf, 0, sizeof buf);
  EXPECT_EQ(::pread(doomed.get(), buf, sizeof buf, 0), -1) << "read " << buf;
  EXPECT_EQ(errno, ESTALE) << std::strerror(errno);
  EXPECT_EQ(::pwrite(doomed.get(), "x", 1, 0), -1);
  EXPECT_EQ(errno, ESTALE) << std::strerror(errno);
  struct stat st {};
  EXPECT_EQ(::fstat(doomed.get(), &st), -1);
  EXPECT_EQ(errno, ESTALE) << std::strerror(errno);
  // Other open files carry on, and so does the mount; the new file under that name is untouched.
  std::memset(buf, 0, sizeof buf);
  EXPECT_EQ(::pread(kept.get(), buf, sizeof buf, 0), 9) << std::strerror(errno);
  EXPECT_STREQ(buf, "kept data");
  EXPECT_EQ(::pwrite(kept.get(), "KEPT", 4, 0), 4) << std::strerror(errno);
  EXPECT_EQ(read_file(export_ + "/kept"), "KEPT data");
  EXPECT_EQ(read_file(mnt_ + "/doomed"), "a different file");
  EXPECT_EQ(read_file(export_ + "/doomed"), "a different file");
  // Closing the stale descriptor is not an error.
  EXPECT_EQ(::close(doomed.release()), 0) << std::strerror(errno);
}

// getdents64 on `fd` with a small buffer: the names of one batch ("" entries skipped).
std::vector<std::string> next_names(int fd, int* err) {
  alignas(8) char buf[2048];
  long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
  std::vector<std::string> names;
  if (n < 0) {
    *err = errno;
    return names;
  }
  for (long at = 0; at < n;) {
    auto* d = reinterpret_cast<struct dirent64*>(buf + at);
    names.emplace_back(d->d_name);
    at += d->d_reclen;
  }
  return names;
}

TEST_P(ReconnectLossTest, OpenDirectoryContinuesWhereItWas) {
  ASSERT_EQ(::mkdir((export_ + "/dir").c_str(), 0755), 0);
  std::set<std::string> want = {".", ".."};
  for (int i = 0; i < 600; ++i) {
    std::string name = "entry-with-a-longish-name-" + std::to_string(i);
    write_file(export_ + "/dir/" + name, "");
    want.insert(name);
  }
  UniqueFd dir(::open((mnt_ + "/dir").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir) << std::strerror(errno);
  std::multiset<std::string> seen;
  int err = 0;
  for (int batch = 0; batch < 3; ++batch)
    for (auto& n : next_names(dir.get(), &err)) seen.insert(n);
  ASSERT_EQ(err, 0) << std::strerror(err);
  const std::size_t before = seen.size();
  ASSERT_LT(before, want.size()) << "the listing did not take several batches";

  ASSERT_NO_FATAL_FAILURE(restart_server());

  for (;;) {
    auto names = next_names(dir.get(), &err);
    ASSERT_EQ(err, 0) << std::strerror(err);
    if (names.empty()) break;
    for (auto& n : names) seen.insert(n);
  }
  // Every entry exactly once: the listing went on from its position, neither restarting nor
  // skipping.
  EXPECT_EQ(seen.size(), want.size()) << before << " entries before the reconnect";
  EXPECT_TRUE(std::set<std::string>(seen.begin(), seen.end()) == want);
}

INSTANTIATE_TEST_SUITE_P(Servers, ReconnectFsxTest,
                         ::testing::Values(ServerKind::Ours, ServerKind::Diod), ServerKindName);
INSTANTIATE_TEST_SUITE_P(Servers, ReconnectLossTest,
                         ::testing::Values(ServerKind::Ours, ServerKind::Diod), ServerKindName);

}  // namespace
}  // namespace ninep::testing
