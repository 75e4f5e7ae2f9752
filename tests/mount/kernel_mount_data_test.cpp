#include <gtest/gtest.h>

#include "mount/kernel.h"

namespace ninep::mount {
namespace {

TEST(KernelMountData, DefaultsArePodmans) {
  KernelMountOptions opts;
  EXPECT_EQ(kernel_mount_data(5, opts), "trans=fd,rfdno=5,wfdno=5,version=9p2000.L,msize=131096");
}

TEST(KernelMountData, CacheAnameAndMsize) {
  KernelMountOptions opts;
  opts.msize = 1048576;
  opts.cache = "loose";
  opts.aname = "home";
  EXPECT_EQ(kernel_mount_data(12, opts),
            "trans=fd,rfdno=12,wfdno=12,version=9p2000.L,msize=1048576,cache=loose,aname=home");
}

TEST(KernelMountData, UidSelectsSingleUserAccess) {
  KernelMountOptions opts;
  opts.uid = 1000;
  EXPECT_EQ(kernel_mount_data(3, opts),
            "trans=fd,rfdno=3,wfdno=3,version=9p2000.L,msize=131096,access=1000");
}

TEST(KernelMountData, ExtraOptionsGoLastVerbatimAndEmptyOnesAreSkipped) {
  KernelMountOptions opts;
  opts.extra = {"posixacl", "", "dfltuid=7"};
  EXPECT_EQ(kernel_mount_data(4, opts),
            "trans=fd,rfdno=4,wfdno=4,version=9p2000.L,msize=131096,posixacl,dfltuid=7");
}

TEST(ValidateKernelMountOptions, AcceptsDefaults) {
  EXPECT_TRUE(validate_kernel_mount_options({}).has_value());
}

TEST(ValidateKernelMountOptions, RejectsCommaInValues) {
  KernelMountOptions opts;
  opts.aname = "a,trans=tcp";
  auto r = validate_kernel_mount_options(opts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EINVAL);
  EXPECT_NE(r.error().message.find("aname"), std::string::npos);

  opts = {};
  opts.cache = "loose,rfdno=0";
  r = validate_kernel_mount_options(opts);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cache"), std::string::npos);
}

TEST(ValidateKernelMountOptions, RejectsTransportOverrides) {
  for (const char* bad : {"trans=tcp", "rfdno=0", "wfdno=1"}) {
    KernelMountOptions opts;
    opts.extra = {"cache=loose", bad};
    auto r = validate_kernel_mount_options(opts);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_NE(r.error().message.find(bad), std::string::npos);
  }
}

TEST(ValidateKernelMountOptions, RejectsTinyMsize) {
  KernelMountOptions opts;
  opts.msize = 4095;
  EXPECT_FALSE(validate_kernel_mount_options(opts));
  opts.msize = 4096;
  EXPECT_TRUE(validate_kernel_mount_options(opts));
}

}  // namespace
}  // namespace ninep::mount
