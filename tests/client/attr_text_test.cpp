// How the client commands show attributes (client/attr_text.h): plain values in, text out.
#include "client/attr_text.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <ctime>

namespace ninep::client {
namespace {

// Times are shown in local time: pin it.
class AttrTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_ = tz ? std::optional<std::string>(tz) : std::nullopt;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  void TearDown() override {
    if (saved_)
      ::setenv("TZ", saved_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }
  std::optional<std::string> saved_;
};

Attr file_attr() {
  Attr a;
  a.mode = S_IFREG | 0644;
  a.nlink = 2;
  a.uid = 1000;
  a.gid = 100;
  a.size = 12345;
  a.blocks = 32;
  a.blksize = 4096;
  a.qid = p9::Qid{0, 7, 99};
  a.atime_sec = 1'000'000'000;
  a.atime_nsec = 5;
  a.mtime_sec = 1'600'000'000;
  a.mtime_nsec = 123456789;
  a.ctime_sec = 1'600'000'001;
  return a;
}

TEST(ModeString, TypesAndPermissions) {
  EXPECT_EQ(mode_string(S_IFREG | 0644), "-rw-r--r--");
  EXPECT_EQ(mode_string(S_IFDIR | 0755), "drwxr-xr-x");
  EXPECT_EQ(mode_string(S_IFLNK | 0777), "lrwxrwxrwx");
  EXPECT_EQ(mode_string(S_IFCHR | 0600), "crw-------");
  EXPECT_EQ(mode_string(S_IFBLK | 0660), "brw-rw----");
  EXPECT_EQ(mode_string(S_IFIFO | 0600), "prw-------");
  EXPECT_EQ(mode_string(S_IFSOCK | 0700), "srwx------");
}

TEST(ModeString, SetIdAndStickyBits) {
  EXPECT_EQ(mode_string(S_IFREG | 04755), "-rwsr-xr-x");
  EXPECT_EQ(mode_string(S_IFREG | 04644), "-rwSr--r--");
  EXPECT_EQ(mode_string(S_IFREG | 02755), "-rwxr-sr-x");
  EXPECT_EQ(mode_string(S_IFREG | 02745), "-rwxr-Sr-x");
  EXPECT_EQ(mode_string(S_IFDIR | 01777), "drwxrwxrwt");
  EXPECT_EQ(mode_string(S_IFDIR | 01776), "drwxrwxrwT");
}

TEST(TypeName, EveryType) {
  EXPECT_STREQ(type_name(S_IFREG), "regular file");
  EXPECT_STREQ(type_name(S_IFDIR), "directory");
  EXPECT_STREQ(type_name(S_IFLNK), "symbolic link");
  EXPECT_STREQ(type_name(S_IFCHR), "character device");
  EXPECT_STREQ(type_name(S_IFBLK), "block device");
  EXPECT_STREQ(type_name(S_IFIFO), "fifo");
  EXPECT_STREQ(type_name(S_IFSOCK), "socket");
  EXPECT_STREQ(type_name(0), "unknown");
}

TEST(HumanSize, PowersOf1024) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1024), "1.0 KiB");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(3.0 * (1 << 20)), "3.0 MiB");
  EXPECT_EQ(human_size(double(1ull << 40)), "1.0 TiB");
  EXPECT_EQ(human_size(double(1ull << 60)), "1024.0 PiB");  // no unit beyond PiB
}

TEST_F(AttrTextTest, FormatTime) {
  EXPECT_EQ(format_time(0, 0, false), "1970-01-01 00:00");
  EXPECT_EQ(format_time(1'600'000'000, 0, false), "2020-09-13 12:26");
  EXPECT_EQ(format_time(1'600'000'000, 123456789, true), "2020-09-13 12:26:40.123456789");
  EXPECT_EQ(format_time(1'600'000'000, 5, true), "2020-09-13 12:26:40.000000005");
}

TEST_F(AttrTextTest, LongListingLine) {
  Attr a = file_attr();
  EXPECT_EQ(long_listing_line(a, "f", ""),
            "-rw-r--r--   2  1000   100      12345 2020-09-13 12:26 f");
  a.mode = S_IFLNK | 0777;
  a.size = 3;
  EXPECT_EQ(long_listing_line(a, "l", "a/b"),
            "lrwxrwxrwx   2  1000   100          3 2020-09-13 12:26 l -> a/b");
}

TEST_F(AttrTextTest, StatBlock) {
  EXPECT_EQ(stat_text(file_attr(), "dir/f"),
            "  File: dir/f\n"
            "  Size: 12345        Blocks: 32         IO Block: 4096   regular file\n"
            "  Qid: type 0x00 version 7 path 99   Links: 2\n"
            "Access: (0644/-rw-r--r--)  Uid: 1000  Gid: 100\n"
            "Access: 2001-09-09 01:46:40.000000005\n"
            "Modify: 2020-09-13 12:26:40.123456789\n"
            "Change: 2020-09-13 12:26:41.000000000\n");
}

StatFs statfs_of(std::uint64_t blocks, std::uint64_t bfree, std::uint64_t bavail) {
  StatFs s;
  s.bsize = 4096;
  s.blocks = blocks;
  s.bfree = bfree;
  s.bavail = bavail;
  s.files = 1000;
  s.ffree = 900;
  return s;
}

TEST(DfText, OneKBlocks) {
  // 400 MiB, 100 MiB used, 250 MiB available (50 MiB reserved): 100 / 350 rounds up to 29%.
  EXPECT_EQ(
      df_text(statfs_of(102400, 76800, 64000), "/", false),
      "Export          1K-blocks           Used      Available  Use%     Inodes      IFree\n"
      "/                  409600         102400         256000   29%       1000        900\n");
}

TEST(DfText, HumanReadable) {
  EXPECT_EQ(df_text(statfs_of(102400, 76800, 64000), "/x", true),
            "Export           Size       Used      Avail  Use%     Inodes      IFree\n"
            "/x          400.0 MiB  100.0 MiB  250.0 MiB   29%       1000        900\n");
}

TEST(DfText, EmptyAndInconsistentFileSystems) {
  EXPECT_NE(df_text(statfs_of(0, 0, 0), "/", false).find("    0%"), std::string::npos);
  // A server claiming more free than total blocks shows nothing used, not 2^64 blocks.
  std::string t = df_text(statfs_of(10, 20, 10), "/", false);
  EXPECT_NE(t.find("             0 "), std::string::npos) << t;
}

TEST(XattrValueText, TextAndBinary) {
  auto bytes = [](std::string_view s) { return std::vector<std::uint8_t>(s.begin(), s.end()); };
  EXPECT_EQ(xattr_value_text(bytes("blue")), "\"blue\"");
  EXPECT_EQ(xattr_value_text(bytes(std::string_view("blue\0", 5))), "\"blue\"");
  EXPECT_EQ(xattr_value_text({}), "\"\"");
  EXPECT_EQ(xattr_value_text({0x01, 0x02, 0xff}), "0x0102ff");
  EXPECT_EQ(xattr_value_text(bytes(std::string_view("a\0b", 3))), "0x610062");
}

}  // namespace
}  // namespace ninep::client
