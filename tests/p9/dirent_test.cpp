// ReaddirBuilder packs whole entries only and reports the resume cookie; DirentReader reads them
// back and rejects truncated data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "p9/dirent.h"

namespace ninep::p9 {
namespace {

using ::testing::HasSubstr;

Dirent entry(std::string_view name, std::uint64_t offset, std::uint8_t type = kDtReg) {
  return Dirent{Qid{type == kDtDir ? kQtDir : kQtFile, std::uint32_t(offset), 1000 + offset},
                offset, type, name};
}

TEST(ReaddirBuilder, EntrySizeIsTheWireSize) {
  EXPECT_EQ(ReaddirBuilder::entry_size(""), 24u);
  EXPECT_EQ(ReaddirBuilder::entry_size("abc"), 27u);
}

TEST(ReaddirBuilder, PacksOnlyWholeEntriesAndReportsTheLastCookie) {
  // Room for two 25-byte entries and 10 bytes more: the third does not fit and is not written.
  std::vector<std::uint8_t> buf(60, 0xEE);
  ReaddirBuilder b(buf);
  EXPECT_EQ(b.last_offset(), 0u);
  EXPECT_TRUE(b.add(entry(".", 10, kDtDir)));
  EXPECT_TRUE(b.add(entry("a", 20)));
  EXPECT_FALSE(b.add(entry("b", 30)));
  EXPECT_EQ(b.count(), 2u);
  EXPECT_EQ(b.size(), 50u);
  EXPECT_EQ(b.last_offset(), 20u);
  EXPECT_EQ(b.data().size(), 50u);
  for (std::size_t i = 50; i < buf.size(); ++i) EXPECT_EQ(buf[i], 0xEE) << "byte " << i;
  // A smaller entry may still fit after a larger one was refused.
  EXPECT_FALSE(b.add(entry("bbbbbbbbbbbbbbb", 40)));
  EXPECT_EQ(b.size(), 50u);
}

TEST(ReaddirBuilder, ExactFit) {
  std::vector<std::uint8_t> buf(25);
  ReaddirBuilder b(buf);
  EXPECT_TRUE(b.add(entry("x", 7)));
  EXPECT_FALSE(b.add(entry("", 8)));
  EXPECT_EQ(b.size(), 25u);
  EXPECT_EQ(b.last_offset(), 7u);
}

TEST(ReaddirBuilder, RefusesNamesTheWireCannotHold) {
  std::vector<std::uint8_t> buf(1 << 17);
  ReaddirBuilder b(buf);
  std::string too_long(0x10000, 'n');
  EXPECT_FALSE(b.add(entry(too_long, 1)));
  std::string longest(0xFFFF, 'n');
  EXPECT_TRUE(b.add(entry(longest, 2)));
}

TEST(DirentReader, ReadsBackWhatTheBuilderPacked) {
  std::vector<std::uint8_t> buf(4096);
  ReaddirBuilder b(buf);
  std::vector<std::string> names;
  for (int i = 0; i < 50; ++i) names.push_back("file-" + std::to_string(i));
  std::vector<Dirent> in;
  for (int i = 0; i < 50; ++i) {
    in.push_back(entry(names[i], ~0ull - i, i % 2 ? kDtReg : kDtDir));
    ASSERT_TRUE(b.add(in.back()));
  }
  DirentReader r(b.data());
  for (const Dirent& want : in) {
    auto got = r.next();
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(**got, want);
  }
  auto end = r.next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(DirentReader, EmptyDataIsTheEnd) {
  DirentReader r({});
  auto d = r.next();
  ASSERT_TRUE(d);
  EXPECT_FALSE(*d);
}

TEST(DirentReader, TruncatedDataIsAnError) {
  std::vector<std::uint8_t> buf(200);
  ReaddirBuilder b(buf);
  ASSERT_TRUE(b.add(entry("first", 1)));
  ASSERT_TRUE(b.add(entry("second", 2)));
  std::size_t first = ReaddirBuilder::entry_size("first");
  for (std::size_t len = 0; len < b.size(); ++len) {
    DirentReader r(b.data().first(len));
    std::size_t good = 0;
    Error err;
    while (true) {
      auto d = r.next();
      if (!d) {
        err = d.error();
        break;
      }
      if (!*d) break;
      ++good;
    }
    bool at_boundary = len == 0 || len == first;
    EXPECT_EQ(good, len >= first ? 1u : 0u) << len;
    if (at_boundary) {
      EXPECT_EQ(err.code, 0) << len;
    } else {
      EXPECT_EQ(err.code, EPROTO) << len;
      EXPECT_THAT(err.message, ::testing::AnyOf(HasSubstr("truncated dirent"),
                                                HasSubstr("longer than the data")));
    }
  }
}

TEST(DirentReader, NameLongerThanTheData) {
  std::vector<std::uint8_t> buf(100);
  ReaddirBuilder b(buf);
  ASSERT_TRUE(b.add(entry("abc", 1)));
  std::vector<std::uint8_t> bad(b.data().begin(), b.data().end());
  bad[22] = 4;  // name length 4, 3 bytes present
  DirentReader r(bad);
  auto d = r.next();
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("dirent name of 4 bytes at byte 22"));
}

}  // namespace
}  // namespace ninep::p9
