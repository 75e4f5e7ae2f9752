// Mount orchestration without mounting (mount/mount.h, mount/unmount.h): the kernel-or-FUSE
// choice, the command line's words as either one's options, mount point checks, how a mount is
// undone.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "mount/mount.h"
#include "mount/unmount.h"
#include "temp_dir.h"

namespace ninep::mount {
namespace {

using Strings = std::vector<std::string>;

// A temporary directory from tests/support, or an empty path when it cannot be made.
ninep::testing::TempDir temp_dir() {
  auto t = ninep::testing::TempDir::create("ninep-mount-request-");
  return t ? std::move(*t) : ninep::testing::TempDir{};
}

TEST(ChooseVia, AutoIsKernelWhenItHas9p) {
  EXPECT_EQ(choose_via(Via::Auto, true), Via::Kernel);
  EXPECT_EQ(choose_via(Via::Auto, false), Via::Fuse);
  EXPECT_EQ(choose_via(Via::Fuse, true), Via::Fuse);
  EXPECT_EQ(choose_via(Via::Kernel, false), Via::Kernel);
}

TEST(ParseVia, Words) {
  EXPECT_EQ(parse_via("auto"), Via::Auto);
  EXPECT_EQ(parse_via("kernel"), Via::Kernel);
  EXPECT_EQ(parse_via("fuse"), Via::Fuse);
  EXPECT_EQ(parse_via("floppy").error().code, EINVAL);
}

TEST(ParseMsize, SameFormsAsServe) {
  EXPECT_EQ(parse_msize("4096"), 4096u);
  EXPECT_EQ(parse_msize("64K"), 65536u);
  EXPECT_EQ(parse_msize("1M"), 1u << 20);
  EXPECT_EQ(parse_msize("16M"), 16u << 20);
  EXPECT_EQ(parse_msize("512KiB"), 512u << 10);
  for (const char* bad : {"", "4095", "17M", "1G", "12Q", "-1", "K"}) {
    auto r = parse_msize(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_TRUE(r.error().message.starts_with("--msize: ")) << r.error().message;
  }
}

TEST(SplitOptionArgs, CommasAndRepeats) {
  EXPECT_EQ(split_option_args({"a,b", "c"}), (Strings{"a", "b", "c"}));
  EXPECT_EQ(split_option_args({",a,,b,", ""}), (Strings{"a", "b"}));
  EXPECT_EQ(split_option_args({}), Strings{});
}

TEST(KernelOptions, FromARequest) {
  MountRequest req;
  req.aname = "/export";
  req.msize = 65536;
  req.cache = "loose";
  req.uid = 7;
  req.options = {"ro", "suid", "posixacl"};
  KernelMountOptions ko = kernel_options(req);
  EXPECT_EQ(ko.aname, "/export");
  EXPECT_EQ(ko.msize, 65536u);
  EXPECT_EQ(ko.cache, "loose");
  EXPECT_EQ(ko.uid, 7u);
  EXPECT_EQ(ko.flags, MS_RDONLY | MS_NODEV);
  EXPECT_EQ(ko.extra, Strings{"posixacl"});
  // Unset: the kernel's defaults, nosuid,nodev.
  KernelMountOptions d = kernel_options(MountRequest{});
  EXPECT_EQ(d.msize, KernelMountOptions{}.msize);
  EXPECT_FALSE(d.uid);
  EXPECT_EQ(d.flags, MS_NOSUID | MS_NODEV);
  EXPECT_EQ(d.cache, "");
  // v9fs cannot follow change events: auto is its default mode.
  MountRequest a;
  a.cache = "auto";
  EXPECT_EQ(kernel_options(a).cache, "");
}

TEST(FuseOptions, FromARequest) {
  MountRequest req;
  req.address = "unix:/run/x.sock";
  req.aname = "home";
  req.msize = 65536;
  req.cache = "loose";
  req.uid = 7;
  req.options = {"allow_other", "ro"};
  req.reconnect = true;
  req.max_fids = 10;
  auto fo = fuse_options(req);
  ASSERT_TRUE(fo) << fo.error().to_string();
  EXPECT_EQ(fo->address.kind, transport::Address::Kind::Unix);
  EXPECT_EQ(fo->address.path, "/run/x.sock");
  EXPECT_EQ(fo->aname, "home");
  EXPECT_EQ(fo->msize, 65536u);
  EXPECT_EQ(fo->cache, fuse::CacheMode::Loose);
  EXPECT_EQ(fo->n_uname, 7u);
  EXPECT_EQ(fo->fuse_options, (Strings{"allow_other", "ro"}));
  EXPECT_TRUE(fo->reconnect);
  EXPECT_EQ(fo->max_fids, 10u);
  // Unset: FUSE's own defaults; each user as itself.
  MountRequest plain;
  plain.address = "tcp:127.0.0.1:564";
  auto d = fuse_options(plain);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->msize, fuse::MountOptions{}.msize);
  EXPECT_EQ(d->n_uname, fuse::MountOptions{}.n_uname);
  // The default follows the server's change events, and is none against a server without.
  EXPECT_EQ(d->cache, fuse::CacheMode::Auto);
  EXPECT_EQ(d->fallback, fuse::CacheMode::None);
  plain.cache = "auto";
  auto a = fuse_options(plain);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->cache, fuse::CacheMode::Auto);
  EXPECT_EQ(a->fallback, fuse::CacheMode::Loose);
}

TEST(FuseOptions, RefusesDevicesAndBadAddresses) {
  MountRequest req;
  req.address = "/dev/vport0p1";
  EXPECT_TRUE(is_device_path(req.address));
  auto dev = fuse_options(req);
  ASSERT_FALSE(dev);
  EXPECT_NE(dev.error().message.find("--via kernel"), std::string::npos);
  req.address = "bogus:address";
  EXPECT_FALSE(is_device_path(req.address));
  EXPECT_EQ(fuse_options(req).error().code, EINVAL);
  req.address = "unix:/x";
  req.cache = "bogus";
  EXPECT_EQ(fuse_options(req).error().code, EINVAL);
}

TEST(CheckMountPoint, MustBeAnUnmountedDirectory) {
  ninep::testing::TempDir t = temp_dir();
  ASSERT_FALSE(t.path().empty());
  std::string file = t.path() + "/file", dir = t.path() + "/dir";
  std::ofstream(file) << "x";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  EXPECT_EQ(check_mount_point(t.path() + "/missing").error().code, ENOENT);
  EXPECT_EQ(check_mount_point(file).error().code, ENOTDIR);
  auto ok = check_mount_point(t.path() + "/dir/../dir/");
  ASSERT_TRUE(ok) << ok.error().to_string();
  char* real = ::realpath(dir.c_str(), nullptr);
  EXPECT_EQ(*ok, real);
  std::free(real);
  // "/" is always a mount point.
  auto root = check_mount_point("/");
  ASSERT_FALSE(root);
  EXPECT_EQ(root.error().code, EBUSY);
  EXPECT_TRUE(root.error().message.starts_with("already mounted (")) << root.error().message;
}

TEST(MountExport, ErrorsNameTheMountPoint) {
  ninep::testing::TempDir t = temp_dir();
  MountRequest req;
  req.address = "unix:" + t.path() + "/nobody.sock";
  req.dir = t.path() + "/missing";
  auto r = mount_export(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), req.dir + ": No such file or directory");
}

TEST(Unmount, Method) {
  EXPECT_EQ(unmount_method("fuse.ninep", false), UnmountMethod::Fusermount);
  EXPECT_EQ(unmount_method("fuse", false), UnmountMethod::Fusermount);
  EXPECT_EQ(unmount_method("fuse.ninep", true), UnmountMethod::Umount2);
  EXPECT_EQ(unmount_method("9p", false), UnmountMethod::Umount2);
  EXPECT_EQ(unmount_method("9p", true), UnmountMethod::Umount2);
}

TEST(Unmount, FusermountArgs) {
  EXPECT_EQ(fusermount_args("/mnt/x", {}), (Strings{"fusermount3", "-u", "--", "/mnt/x"}));
  UnmountOptions lazy;
  lazy.lazy = true;
  EXPECT_EQ(fusermount_args("/mnt/-x", lazy),
            (Strings{"fusermount3", "-u", "-z", "--", "/mnt/-x"}));
}

TEST(Unmount, AbsoluteWithoutFollowingTheLastComponent) {
  ninep::testing::TempDir t = temp_dir();
  std::string sub = t.path() + "/sub";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  char* real = ::realpath(t.path().c_str(), nullptr);
  std::string base = real;
  std::free(real);
  // The last component is never resolved (a dead FUSE mount point cannot be stat'ed), even when
  // it does not exist; the rest is.
  EXPECT_EQ(absolute_without_following(sub + "/../sub/gone"), base + "/sub/gone");
  EXPECT_EQ(absolute_without_following(sub + "//"), base + "/sub");
  EXPECT_EQ(absolute_without_following(sub + "/.."), base);
  EXPECT_EQ(absolute_without_following("/tmp"), "/tmp");
}

TEST(Unmount, NotAMountPoint) {
  ninep::testing::TempDir t = temp_dir();
  auto r = unmount(t.path(), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EINVAL);
  EXPECT_NE(r.error().message.find("not mounted"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ninep::mount
