// A full disk under a FUSE mount: the export is a 2 MiB tmpfs (mounted by the test, as root).
// Writes past the end fail with ENOSPC through the mount (cp, dd), the data written before stays
// intact byte for byte, the server keeps serving, and once space is freed writes work again.
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "mounted_fixture.h"

namespace ninep::testing {
namespace {

constexpr int kDiskKiB = 2048;

// `n` bytes that differ per `seed`.
std::string pattern(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class DiskFullTest : public MountedTest {
 protected:
  void prepare() override {
    const std::string opts = "size=" + std::to_string(kDiskKiB) + "k,mode=0755";
    ASSERT_EQ(::mount("ninep-test", export_.c_str(), "tmpfs", 0, opts.c_str()), 0)
        << "mount tmpfs: " << std::strerror(errno);
    tmpfs_mounted_ = true;
  }
  void TearDown() override {
    MountedTest::TearDown();
    if (tmpfs_mounted_) {
      EXPECT_EQ(::umount2(export_.c_str(), MNT_DETACH), 0) << std::strerror(errno);
    }
  }

  bool tmpfs_mounted_ = false;
};

TEST_P(DiskFullTest, WritesPastTheEndFailWithEnospcAndEarlierDataIsIntact) {
  // Half the disk, written through the mount, read back from the host.
  const std::string first = pattern(1000 * 1000, 1);
  write_file(local_ + "/first", first);
  auto cp = run_shell("cp " + shell_quote(local_ + "/first") + " " + shell_quote(mnt_ + "/first"));
  ASSERT_EQ(cp.status, 0) << cp.output;
  ASSERT_TRUE(read_file(export_ + "/first") == first);

  // More than the rest of the disk: dd and cp both fail, saying the disk is full.
  auto dd = run_shell("dd if=/dev/zero of=" + shell_quote(mnt_ + "/dd") + " bs=64k count=64 2>&1");
  EXPECT_NE(dd.status, 0) << dd.output;
  EXPECT_NE(dd.output.find("No space left on device"), std::string::npos) << dd.output;
  write_file(local_ + "/second", pattern(1500 * 1000, 2));
  cp = run_shell("cp " + shell_quote(local_ + "/second") + " " + shell_quote(mnt_ + "/second"));
  EXPECT_NE(cp.status, 0) << cp.output;
  EXPECT_NE(cp.output.find("No space left on device"), std::string::npos) << cp.output;

  // What was written before is intact, seen through the mount and on the host.
  EXPECT_TRUE(read_file(mnt_ + "/first") == first);
  EXPECT_TRUE(read_file(export_ + "/first") == first);

  // Free the space: the server still serves, and a write that fits now works.
  for (const char* name : {"/dd", "/second"}) {
    const std::string p = mnt_ + name;
    if (::access(p.c_str(), F_OK) == 0) {
      EXPECT_EQ(::unlink(p.c_str()), 0) << p << ": " << std::strerror(errno);
    }
  }
  const std::string third = pattern(800 * 1000, 3);
  write_file(local_ + "/third", third);
  cp = run_shell("cp " + shell_quote(local_ + "/third") + " " + shell_quote(mnt_ + "/third"));
  EXPECT_EQ(cp.status, 0) << cp.output;
  EXPECT_TRUE(read_file(export_ + "/third") == third);
  EXPECT_TRUE(read_file(mnt_ + "/third") == third);
  EXPECT_TRUE(read_file(mnt_ + "/first") == first);
}

INSTANTIATE_TEST_SUITE_P(Servers, DiskFullTest, ::testing::Values(ServerKind::Ours),
                         ServerKindName);

}  // namespace
}  // namespace ninep::testing
