// Data integrity (fsx-style): random writes, reads, truncates, renames and reopens on several
// files from several threads for a bounded time, mirrored on a local copy. Every read is
// compared at once, and all contents at the end. NINEP_FSX_SECONDS overrides the duration.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "mounted_fixture.h"

namespace ninep::testing {
namespace {

constexpr int kFiles = 6;
constexpr int kThreads = 4;
constexpr off_t kMaxSize = 1 << 20;

struct MirroredFile {
  std::mutex mu;
  std::string name;
  UniqueFd mounted, local;
  int renames = 0;
};

class IntegrityTest : public MountedTest {
 protected:
  std::chrono::seconds duration() const {
    if (const char* s = std::getenv("NINEP_FSX_SECONDS")) return std::chrono::seconds(std::atoi(s));
    return std::chrono::seconds(GetParam() == ServerKind::Ours ? 20 : 8);
  }
};

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

TEST_P(IntegrityTest, RandomOperationsMatchALocalMirror) {
  std::vector<MirroredFile> files(kFiles);
  for (int i = 0; i < kFiles; ++i) {
    auto& f = files[i];
    f.name = "file" + std::to_string(i);
    f.mounted.reset(::open((mnt_ + "/" + f.name).c_str(), O_CREAT | O_RDWR, 0644));
    f.local.reset(::open((local_ + "/" + f.name).c_str(), O_CREAT | O_RDWR, 0644));
    ASSERT_TRUE(f.mounted && f.local);
  }
  std::atomic<bool> stop{false};
  std::atomic<long> ops{0};
  std::mutex fail_mu;
  std::string failure;
  auto fail_with = [&](const std::string& what) {
    std::lock_guard lk(fail_mu);
    if (failure.empty()) failure = what;
    stop = true;
  };
  auto deadline = std::chrono::steady_clock::now() + duration();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1000 + t);
      std::string buf;
      while (!stop && std::chrono::steady_clock::now() < deadline) {
        auto& f = files[rng() % kFiles];
        std::lock_guard lk(f.mu);
        int op = int(rng() % 100);
        std::string where = f.name + " op " + std::to_string(op);
        if (op < 40) {  // write
          off_t off = off_t(rng() % kMaxSize);
          std::size_t len = 1 + rng() % (op < 5 ? 300000 : 65536);
          buf.resize(len);
          for (auto& c : buf) c = static_cast<char>(rng());
          ssize_t a = ::pwrite(f.mounted.get(), buf.data(), len, off);
          ssize_t b = ::pwrite(f.local.get(), buf.data(), len, off);
          if (a != b)
            fail_with(where + ": write returned " + std::to_string(a) + " (" +
                      std::strerror(errno) + ") locally " + std::to_string(b));
        } else if (op < 75) {  // read and compare
          off_t off = off_t(rng() % kMaxSize);
          std::size_t len = 1 + rng() % 200000;
          int ea = 0, eb = 0;
          std::string a = read_range(f.mounted.get(), off, len, &ea);
          std::string b = read_range(f.local.get(), off, len, &eb);
          if (ea || a != b)
            fail_with(where + ": read at " + std::to_string(off) + " len " + std::to_string(len) +
                      " differs (got " + std::to_string(a.size()) + " bytes, want " +
                      std::to_string(b.size()) + ", errno " + std::to_string(ea) + ")");
        } else if (op < 85) {  // truncate
          off_t size = off_t(rng() % kMaxSize);
          if (::ftruncate(f.mounted.get(), size) != 0 || ::ftruncate(f.local.get(), size) != 0)
            fail_with(where + ": truncate: " + std::strerror(errno));
        } else if (op < 92) {  // rename
          std::string to =
              "file" + std::to_string(&f - files.data()) + "-r" + std::to_string(++f.renames);
          if (::rename((mnt_ + "/" + f.name).c_str(), (mnt_ + "/" + to).c_str()) != 0 ||
              ::rename((local_ + "/" + f.name).c_str(), (local_ + "/" + to).c_str()) != 0)
            fail_with(where + ": rename to " + to + ": " + std::strerror(errno));
          f.name = to;
        } else if (op < 97) {  // reopen under the current name
          f.mounted.reset(::open((mnt_ + "/" + f.name).c_str(), O_RDWR));
          f.local.reset(::open((local_ + "/" + f.name).c_str(), O_RDWR));
          if (!f.mounted || !f.local) fail_with(where + ": reopen: " + std::strerror(errno));
        } else {  // size check and fsync
          struct stat a {
          }, b{};
          if (::fstat(f.mounted.get(), &a) != 0 || ::fstat(f.local.get(), &b) != 0 ||
              a.st_size != b.st_size)
            fail_with(where + ": size " + std::to_string(a.st_size) + " want " +
                      std::to_string(b.st_size));
          if (::fsync(f.mounted.get()) != 0) fail_with(where + ": fsync: " + std::strerror(errno));
        }
        ++ops;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(failure.empty()) << failure << " after " << ops.load() << " operations";
  EXPECT_GT(ops.load(), 100);
  for (auto& f : files) {
    f.mounted.reset();
    std::string want = read_file(local_ + "/" + f.name);
    EXPECT_TRUE(read_file(mnt_ + "/" + f.name) == want) << f.name << " differs on the mount";
    EXPECT_TRUE(read_file(export_ + "/" + f.name) == want) << f.name << " differs on the host";
  }
  RecordProperty("operations", std::to_string(ops.load()));
  std::printf("%ld operations\n", ops.load());
}

INSTANTIATE_TEST_SUITE_P(Servers, IntegrityTest,
                         ::testing::Values(ServerKind::Ours, ServerKind::Diod), ServerKindName);

}  // namespace
}  // namespace ninep::testing
