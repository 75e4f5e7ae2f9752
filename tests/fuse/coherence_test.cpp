// cache=auto through a FUSE mount: what the kernel caches for long is dropped by the server's
// change events, so a change made on the host is seen through the mount once its event arrived.
// The mount runs in this process so that the tests know when it has applied an event
// (MountStats::events).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "inprocess_fixture.h"

namespace ninep::testing {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> list(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool listed(const std::string& dir, const std::string& name) {
  auto l = list(dir);
  return std::find(l.begin(), l.end(), name) != l.end();
}

off_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

class AutoCacheTest : public InProcessMountTest {
 protected:
  ServerKind server_kind() override { return ServerKind::Ours; }
  void adjust(fuse::MountOptions& o) override {
    o.cache = fuse::CacheMode::Auto;
    o.reconnect = true;
  }
  void SetUp() override {
    InProcessMountTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_EQ(mount_->cache_mode(), fuse::CacheMode::Auto) << mount_->events_error().to_string();
    ASSERT_TRUE(mount_->stats().following_events);
  }

  std::uint64_t events() { return mount_->stats().events; }
  // Waits until the mount has applied more than `before` events.
  bool applied_after(std::uint64_t before, std::chrono::milliseconds limit = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (events() <= before) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }
  // Waits until the events of the test's own setup are applied (none for 100 ms): a reply sent
  // while an event is applied is not cached at all, which would hide what a test looks for.
  void quiet() {
    auto seen = events();
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(100ms);
      auto now = events();
      if (now == seen) return;
      seen = now;
    }
    FAIL() << "events never stop";
  }
  std::string host(const std::string& rel) { return export_ + "/" + rel; }
  std::string mnt(const std::string& rel) { return mnt_ + "/" + rel; }
};

TEST_F(AutoCacheTest, AHostWriteIsReadBackAfterItsEvent) {
  write_file(host("f"), "first");
  // Held open: its reads come from the page cache, and no open checks the version.
  quiet();
  int fd = ::open(mnt("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  char buf[64] = {};
  ASSERT_EQ(::pread(fd, buf, sizeof buf, 0), 5);
  EXPECT_EQ(size_of(mnt("f")), 5);
  auto before = events();
  write_file(host("f"), "second, longer");
  ASSERT_TRUE(applied_after(before));
  EXPECT_EQ(size_of(mnt("f")), 14);
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "second, longer");
  ::close(fd);
  EXPECT_EQ(read_file(mnt("f")), "second, longer");
}

TEST_F(AutoCacheTest, AHostCreatedEntryIsListedAndFound) {
  ASSERT_EQ(::mkdir(host("d").c_str(), 0755), 0);
  write_file(host("d/old"), "x");
  quiet();
  EXPECT_EQ(list(mnt("d")), std::vector<std::string>{"old"});  // the listing is cached
  EXPECT_EQ(size_of(mnt("d/new")), -1);                        // and so is "no such file"
  auto before = events();
  write_file(host("d/new"), "hello");
  ASSERT_TRUE(applied_after(before));
  EXPECT_EQ(size_of(mnt("d/new")), 5);
  EXPECT_EQ(list(mnt("d")), (std::vector<std::string>{"new", "old"}));
}

TEST_F(AutoCacheTest, AHostDeletedFileIsGone) {
  write_file(host("gone"), "x");
  write_file(host("kept"), "y");
  quiet();
  EXPECT_EQ(size_of(mnt("gone")), 1);
  EXPECT_TRUE(listed(mnt_, "gone"));
  auto before = events();
  ASSERT_EQ(::unlink(host("gone").c_str()), 0);
  ASSERT_TRUE(applied_after(before));
  EXPECT_EQ(size_of(mnt("gone")), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(list(mnt_), std::vector<std::string>{"kept"});
}

TEST_F(AutoCacheTest, AHostRenameAcrossDirectoriesMovesTheEntry) {
  ASSERT_EQ(::mkdir(host("a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(host("b").c_str(), 0755), 0);
  write_file(host("a/f"), "moved");
  quiet();
  EXPECT_EQ(size_of(mnt("a/f")), 5);
  EXPECT_EQ(list(mnt("b")), std::vector<std::string>{});
  EXPECT_EQ(size_of(mnt("b/g")), -1);
  auto before = events();
  ASSERT_EQ(::rename(host("a/f").c_str(), host("b/g").c_str()), 0);
  ASSERT_TRUE(applied_after(before));
  EXPECT_EQ(size_of(mnt("a/f")), -1);
  EXPECT_EQ(list(mnt("a")), std::vector<std::string>{});
  EXPECT_EQ(list(mnt("b")), std::vector<std::string>{"g"});
  EXPECT_EQ(read_file(mnt("b/g")), "moved");
}

TEST_F(AutoCacheTest, AHostAttributeChangeIsSeen) {
  write_file(host("m"), "x");
  ASSERT_EQ(::chmod(host("m").c_str(), 0644), 0);
  struct stat st {};
  quiet();
  ASSERT_EQ(::stat(mnt("m").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  auto before = events();
  ASSERT_EQ(::chmod(host("m").c_str(), 0600), 0);
  ASSERT_TRUE(applied_after(before));
  ASSERT_EQ(::stat(mnt("m").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// A change made while the mount was not following (its connection was lost) has no event: the
// new subscription drops everything cached.
TEST_F(AutoCacheTest, LosingTheStreamDropsTheCaches) {
  write_file(host("f"), "12345");
  ASSERT_EQ(::mkdir(host("d").c_str(), 0755), 0);
  quiet();
  EXPECT_EQ(size_of(mnt("f")), 5);
  EXPECT_EQ(list(mnt("d")), std::vector<std::string>{});
  server_->kill();
  write_file(host("f"), "1234567890");
  write_file(host("d/new"), "x");
  auto r = server_->restart();
  ASSERT_TRUE(r) << r.error().to_string();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  // Any request makes the mount reconnect; the subscription follows.
  while (!(mount_->stats().reconnects > 0 && mount_->stats().following_events) &&
         std::chrono::steady_clock::now() < deadline) {
    (void)size_of(mnt("d"));
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(mount_->stats().following_events);
  EXPECT_EQ(size_of(mnt("f")), 10);
  EXPECT_EQ(list(mnt("d")), std::vector<std::string>{"new"});
}

// A directory the server stopped watching (its watch budget) is dropped and not cached again
// until a walk has it watched: a change the server did not report is still seen.
class AutoCacheWatchBudgetTest : public AutoCacheTest {
 protected:
  ExportOptions export_options() override {
    ExportOptions o;
    o.server_args = {"--max-watches", "2"};  // the root and one directory
    return o;
  }
};

TEST_F(AutoCacheWatchBudgetTest, AnUnwatchedDirectoryIsNotServedStale) {
  ASSERT_EQ(::mkdir(host("a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(host("b").c_str(), 0755), 0);
  write_file(host("a/f"), "1");
  write_file(host("b/g"), "2");
  quiet();
  EXPECT_EQ(size_of(mnt("a/f")), 1);  // watches a
  auto before = events();
  EXPECT_EQ(size_of(mnt("b/g")), 1);  // watches b: a is dropped (UNWATCHED a)
  ASSERT_TRUE(applied_after(before));
  write_file(host("a/f"), "1234");  // not reported: a is not watched
  EXPECT_EQ(size_of(mnt("a/f")), 4);
}

// 30 s of a host writer and a mount reader: once the event of a write has been applied, no read
// returns older data, through a file held open (page cache) or opened anew.
TEST_F(AutoCacheTest, NoStaleReadAfterTheEventUnderLoad) {
  constexpr std::size_t kSize = 4096;
  write_file(host("hot"), std::string(kSize, '0'));
  int wfd = ::open(host("hot").c_str(), O_WRONLY);
  ASSERT_GE(wfd, 0);
  quiet();
  int rfd = ::open(mnt("hot").c_str(), O_RDONLY);
  ASSERT_GE(rfd, 0);
  std::atomic<long> acked{0};
  std::atomic<bool> done{false};
  std::atomic<long> reads{0}, stale{0}, first_stale{-1}, stale_seen{-1};
  std::thread reader([&] {
    std::string path = mnt("hot");
    char buf[kSize + 1];
    for (bool held = true; !done.load(); held = !held) {
      long floor = acked.load();
      ssize_t n;
      if (held) {
        n = ::pread(rfd, buf, kSize, 0);
      } else {
        int fd = ::open(path.c_str(), O_RDONLY);
        n = fd < 0 ? -1 : ::pread(fd, buf, kSize, 0);
        if (fd >= 0) ::close(fd);
      }
      buf[n > 0 ? n : 0] = 0;
      long v = std::strtol(buf, nullptr, 10);
      ++reads;
      if (n != static_cast<ssize_t>(kSize) || v < floor) {
        if (stale++ == 0) {
          first_stale = floor;
          stale_seen = v;
        }
      }
    }
  });
  auto end = std::chrono::steady_clock::now() + 30s;
  long k = 0, unapplied = 0;
  while (std::chrono::steady_clock::now() < end) {
    ++k;
    std::string data = std::to_string(k);
    data.resize(kSize, ' ');
    auto before = events();
    ASSERT_EQ(::pwrite(wfd, data.data(), kSize, 0), static_cast<ssize_t>(kSize));
    if (!applied_after(before)) ++unapplied;
    acked = k;
  }
  done = true;
  reader.join();
  ::close(rfd);
  ::close(wfd);
  std::printf("%ld host writes, %ld mount reads\n", k, reads.load());
  EXPECT_EQ(unapplied, 0);
  EXPECT_GT(k, 100);
  EXPECT_GT(reads.load(), 1000);
  EXPECT_EQ(stale.load(), 0) << "first stale read: " << stale_seen << " after " << first_stale
                             << "'s event";
}

// Against a server without change events (diod), auto caches like loose.
class AutoCacheFallbackTest : public InProcessMountTest {
 protected:
  ServerKind server_kind() override { return ServerKind::Diod; }
  void adjust(fuse::MountOptions& o) override { o.cache = fuse::CacheMode::Auto; }
};

TEST_F(AutoCacheFallbackTest, AServerWithoutEventsGetsTheFallback) {
  EXPECT_EQ(mount_->cache_mode(), fuse::CacheMode::Loose);
  EXPECT_NE(mount_->events_error().code, 0);
  EXPECT_FALSE(mount_->stats().following_events);
  write_file(export_ + "/f", "x");
  EXPECT_EQ(read_file(mnt_ + "/f"), "x");
}

}  // namespace
}  // namespace ninep::testing
