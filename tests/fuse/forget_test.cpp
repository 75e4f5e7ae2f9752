// The kernel forgetting inodes releases their fids. Dropping the kernel's dentry and inode caches
// is machine-wide: this runs alone (RUN_SERIAL), or it would make the kernel forget the inodes
// other mount tests count on it holding.
#include <fstream>

#include "inprocess_fixture.h"

namespace ninep::testing {
namespace {

TEST_F(FidsTest, ForgottenInodesReleaseTheirFids) {
  for (int i = 0; i < 2000; ++i) write_file(export_ + "/f" + std::to_string(i), "x");
  struct stat st;
  for (int i = 0; i < 2000; ++i)
    ASSERT_EQ(::stat((mnt_ + "/f" + std::to_string(i)).c_str(), &st), 0);
  auto held = settled();
  EXPECT_EQ(held.fids_in_use, held.inodes + held.open_files);
  // Ask the kernel to drop its dentry and inode caches: it forgets, we clunk.
  std::ofstream drop("/proc/sys/vm/drop_caches");
  drop << "2" << std::endl;
  if (!drop.good()) GTEST_SKIP() << "cannot drop caches here";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  fuse::MountStats after = settled();
  while (after.inodes > 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = settled();
  }
  EXPECT_LE(after.inodes, 10u);
  EXPECT_EQ(after.fids_in_use, after.inodes + after.open_files);
}

}  // namespace
}  // namespace ninep::testing
