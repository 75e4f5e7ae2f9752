// parse_mount_options: how `ninep mount -o ...` becomes mount(2) flags and v9fs options.
#include <sys/mount.h>

#include <gtest/gtest.h>

#include "mount/kernel.h"

namespace ninep::mount {
namespace {

TEST(ParseMountOptions, NosuidAndNodevByDefault) {
  auto w = parse_mount_options({});
  EXPECT_EQ(w.flags, MS_NOSUID | MS_NODEV);
  EXPECT_TRUE(w.extra.empty());
  EXPECT_EQ(KernelMountOptions{}.flags, MS_NOSUID | MS_NODEV);
}

TEST(ParseMountOptions, SuidAndDevOptBackInEachOnItsOwn) {
  EXPECT_EQ(parse_mount_options({"suid"}).flags, MS_NODEV);
  EXPECT_EQ(parse_mount_options({"dev"}).flags, MS_NOSUID);
  EXPECT_EQ(parse_mount_options({"suid", "dev"}).flags, 0ul);
}

TEST(ParseMountOptions, LastWordAboutAFlagWins) {
  EXPECT_EQ(parse_mount_options({"suid", "nosuid"}).flags, MS_NOSUID | MS_NODEV);
  EXPECT_EQ(parse_mount_options({"ro", "rw", "dev"}).flags, MS_NOSUID);
  EXPECT_EQ(parse_mount_options({"rw", "ro"}).flags, MS_NOSUID | MS_NODEV | MS_RDONLY);
}

TEST(ParseMountOptions, GenericFlags) {
  auto w = parse_mount_options({"ro", "noexec", "noatime", "nodiratime", "sync", "dirsync"});
  EXPECT_EQ(w.flags, MS_NOSUID | MS_NODEV | MS_RDONLY | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                         MS_SYNCHRONOUS | MS_DIRSYNC);
  EXPECT_TRUE(w.extra.empty());
  EXPECT_EQ(parse_mount_options({"exec", "atime", "async"}).flags, MS_NOSUID | MS_NODEV);
}

TEST(ParseMountOptions, EverythingElseIsAV9fsOptionInOrder) {
  auto w = parse_mount_options({"posixacl", "suid", "cache=loose", "nosuidx", "dfltuid=7"});
  EXPECT_EQ(w.flags, MS_NODEV);
  EXPECT_EQ(w.extra, (std::vector<std::string>{"posixacl", "cache=loose", "nosuidx", "dfltuid=7"}));
}

TEST(KernelMountData, UidZeroIsAccessZero) {
  KernelMountOptions opts;
  opts.uid = 0;
  EXPECT_EQ(kernel_mount_data(3, opts),
            "trans=fd,rfdno=3,wfdno=3,version=9p2000.L,msize=131096,access=0");
}

}  // namespace
}  // namespace ninep::mount
