// Fid lifetime follows the kernel's lookup counts: a FuseMount run in this process, a long run of
// creating, looking up, renaming and removing files, and the client session's fid count at the
// end (every fid held is an inode the kernel still references or an open file).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "inprocess_fixture.h"

namespace ninep::testing {
namespace {

TEST_F(FidsTest, NoFidLeakOverALongRun) {
  auto base = settled();
  EXPECT_EQ(base.fids_in_use, base.inodes + base.open_files);
  ASSERT_EQ(::mkdir((mnt_ + "/d").c_str(), 0755), 0);
  for (int i = 0; i < 3000; ++i) {
    std::string a = mnt_ + "/d/f" + std::to_string(i), b = a + ".renamed";
    {
      std::ofstream out(a);
      out << i;
    }
    struct stat st;
    ASSERT_EQ(::stat(a.c_str(), &st), 0);
    ASSERT_EQ(::rename(a.c_str(), b.c_str()), 0);
    ASSERT_EQ(::symlink("target", (a + ".link").c_str()), 0);
    ASSERT_EQ(::unlink((a + ".link").c_str()), 0);
    if (i % 100 == 0) {
      DIR* d = ::opendir((mnt_ + "/d").c_str());
      ASSERT_NE(d, nullptr);
      while (::readdir(d)) {
      }
      ::closedir(d);
    }
    ASSERT_EQ(::unlink(b.c_str()), 0);
  }
  ASSERT_EQ(::rmdir((mnt_ + "/d").c_str()), 0);
  auto after = settled();
  // Every fid is accounted for: one per inode the kernel references, one per open file.
  EXPECT_EQ(after.fids_in_use, after.inodes + after.open_files);
  EXPECT_EQ(after.open_files, 0u);
  // Removed files are forgotten by the kernel: only a handful of inodes remain.
  EXPECT_LT(after.inodes, 50u);
  EXPECT_EQ(after.tags_in_use, 0u);
}

// A mount with a small fid budget: the kernel references far more inodes than fids are kept.
class FidBudgetTest : public FidsTest {
 protected:
  static constexpr std::size_t kBudget = 64;
  void adjust(fuse::MountOptions& o) override { o.max_fids = kBudget; }
};

TEST_F(FidBudgetTest, ATreeLargerThanTheBudgetStaysUsable) {
  ASSERT_EQ(::mkdir((export_ + "/d").c_str(), 0755), 0);
  const int n = 600;
  for (int i = 0; i < n; ++i) write_file(export_ + "/d/f" + std::to_string(i), std::to_string(i));
  struct stat st;
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(::stat((mnt_ + "/d/f" + std::to_string(i)).c_str(), &st), 0) << i;
  auto held = settled();
  EXPECT_GT(held.inodes, kBudget * 2) << "the kernel still references them all";
  EXPECT_LE(held.fids_in_use, kBudget + 1 + held.open_files) << "the root's fid and the budget";
  // Files whose fids were let go are walked to again: attributes, contents, changes.
  for (int i = 0; i < n; i += 7) {
    std::string f = mnt_ + "/d/f" + std::to_string(i);
    ASSERT_EQ(::stat(f.c_str(), &st), 0) << i;
    EXPECT_EQ(read_file(f), std::to_string(i));
    ASSERT_EQ(::chmod(f.c_str(), 0600), 0) << i;
    ASSERT_EQ(::lstat((export_ + "/d/f" + std::to_string(i)).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  ASSERT_EQ(::rename((mnt_ + "/d/f0").c_str(), (mnt_ + "/d/renamed").c_str()), 0);
  EXPECT_EQ(read_file(mnt_ + "/d/renamed"), "0");
  for (int i = 1; i < n; ++i) ASSERT_EQ(::unlink((mnt_ + "/d/f" + std::to_string(i)).c_str()), 0);
  auto after = settled();
  EXPECT_LE(after.fids_in_use, kBudget + 1 + after.open_files);
  EXPECT_EQ(after.tags_in_use, 0u);
}

// A mount made by root with per-user attachments (the default): every user that walks to a file
// gets a fid of its own, and all of them share one budget.
class PerUserFidBudgetTest : public FidsTest {
 protected:
  static constexpr std::size_t kBudget = 64;
  void adjust(fuse::MountOptions& o) override {
    o.n_uname = 0xFFFFFFFF;
    o.max_fids = kBudget;
  }
};

TEST_F(PerUserFidBudgetTest, UsersShareTheBudget) {
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);  // other users reach the mount point
  ASSERT_EQ(::mkdir((export_ + "/d").c_str(), 0755), 0);
  const int n = 300;
  std::vector<std::string> paths;
  for (int i = 0; i < n; ++i) {
    write_file(export_ + "/d/f" + std::to_string(i), std::to_string(i));
    paths.push_back(mnt_ + "/d/f" + std::to_string(i));
  }
  struct stat st;
  for (const auto& p : paths) ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
  EXPECT_EQ(settled().users, 1u);
  // Another user walks to every file (each a fid of its own), and reads some of them.
  int rc = run_as_user(1000, [&] {
    char buf[16];
    for (std::size_t i = 0; i < paths.size(); ++i) {
      struct stat s;
      if (::stat(paths[i].c_str(), &s) != 0) return errno;
      if (i % 7 != 0) continue;
      int fd = ::open(paths[i].c_str(), O_RDONLY);
      if (fd < 0) return errno;
      ssize_t r = ::read(fd, buf, sizeof buf);
      ::close(fd);
      if (r <= 0) return r < 0 ? errno : EIO;
    }
    return 0;
  });
  EXPECT_EQ(rc, 0) << std::strerror(rc);
  auto held = settled();
  EXPECT_EQ(held.users, 2u);
  EXPECT_LE(held.inode_fids, kBudget);
  EXPECT_LE(held.fids_in_use, kBudget + held.users + held.open_files);
  // Root's fids were let go for the other user's: walked again, still usable.
  for (int i = 0; i < n; i += 5) EXPECT_EQ(read_file(paths[i]), std::to_string(i));
  auto after = settled();
  EXPECT_LE(after.inode_fids, kBudget);
  EXPECT_EQ(after.tags_in_use, 0u);
}

}  // namespace
}  // namespace ninep::testing
