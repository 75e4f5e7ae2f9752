// One-line rendering of messages, and the small mappings in message.h.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "p9/dirent.h"
#include "p9/format.h"

namespace ninep::p9 {
namespace {

TEST(Format, WalkAsInTheIssue) {
  Twalk w{0, 1, 2, {"a", "b"}};
  EXPECT_EQ(to_string(Fcall{1, w}), "Twalk tag=1 fid=0 newfid=1 wnames=[a b]");
}

TEST(Format, ErrorWithSymbolAndText) {
  EXPECT_EQ(to_string(Fcall{2, Rlerror{2}}),
            "Rlerror tag=2 ecode=2 (ENOENT: No such file or directory)");
  EXPECT_EQ(to_string(Fcall{2, Rlerror{99999}}), "Rlerror tag=2 ecode=99999 (?: unknown error)");
}

TEST(Format, OpenFlagsAreSymbolic) {
  EXPECT_EQ(to_string(Fcall{3, Tlopen{4, kORdwr | kOCreate | kOTrunc | kOCloexec}}),
            "Tlopen tag=3 fid=4 flags=O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC");
  EXPECT_EQ(to_string(Fcall{3, Tlopen{4, 0}}), "Tlopen tag=3 fid=4 flags=O_RDONLY");
  EXPECT_EQ(to_string(Fcall{3, Tlopen{4, kOWronly | 0x80000000u}}),
            "Tlopen tag=3 fid=4 flags=O_WRONLY|0x80000000");
}

TEST(Format, MasksAreHexAndModesOctal) {
  EXPECT_EQ(to_string(Fcall{5, Tgetattr{1, kGetattrBasic}}),
            "Tgetattr tag=5 fid=1 request_mask=0x7ff");
  EXPECT_EQ(to_string(Fcall{5, Tmkdir{1, "d", 0755, 0}}),
            "Tmkdir tag=5 dfid=1 name=d mode=0755 gid=0");
}

TEST(Format, QidsAndNoTagNoFid) {
  EXPECT_EQ(to_string(Qid{kQtDir, 1, 1234}), "(80 1 1234)");
  EXPECT_EQ(to_string(Fcall{kNoTag, Tversion{8192, kVersion}}),
            "Tversion tag=NOTAG msize=8192 version=9P2000.L");
  EXPECT_EQ(to_string(Fcall{1, Tattach{0, kNoFid, "root", "", kNoUid}}),
            "Tattach tag=1 fid=0 afid=NOFID uname=root aname=\"\" n_uname=NONUNAME");
}

TEST(Format, StringsAreQuotedWhenNeeded) {
  std::string odd("a b\"\\\n\xff", 7);
  EXPECT_EQ(to_string(Fcall{1, Rreadlink{odd}}),
            "Rreadlink tag=1 target=\"a b\\\"\\\\\\x0a\\xff\"");
  EXPECT_EQ(to_string(Fcall{1, Twalk{0, 1, 2, {"x]", ""}}}),
            "Twalk tag=1 fid=0 newfid=1 wnames=[\"x]\" \"\"]");
}

TEST(Format, PayloadsShowCountAndAShortPreview) {
  std::vector<std::uint8_t> data(40);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::uint8_t(i);
  EXPECT_EQ(to_string(Fcall{3, Rread{data}}),
            "Rread tag=3 count=40 data=000102030405060708090a0b0c0d0e0f...");
  EXPECT_EQ(to_string(Fcall{3, Rread{}}), "Rread tag=3 count=0");
  EXPECT_EQ(to_string(Fcall{3, Twrite{1, 2, Bytes(data).first(2)}}),
            "Twrite tag=3 fid=1 offset=2 count=2 data=0001");
}

TEST(Format, ReaddirShowsEntries) {
  std::vector<std::uint8_t> buf(200);
  ReaddirBuilder b(buf);
  ASSERT_TRUE(b.add(Dirent{Qid{kQtDir, 0, 2}, 1, kDtDir, "."}));
  ASSERT_TRUE(b.add(Dirent{Qid{kQtFile, 3, 9}, 2, kDtReg, "f g"}));
  EXPECT_EQ(
      to_string(Fcall{4, Rreaddir{b.data()}}),
      "Rreaddir tag=4 count=52 entries=[{. (80 0 2) off=1 dir} {\"f g\" (00 3 9) off=2 reg}]");
  std::vector<std::uint8_t> bad(b.data().begin(), b.data().end() - 1);
  std::string line = to_string(Fcall{4, Rreaddir{bad}});
  EXPECT_NE(line.find("<malformed: "), std::string::npos) << line;
}

TEST(Format, LockFields) {
  EXPECT_EQ(to_string(Fcall{6, Tlock{1, kLockWrlck, kLockFlagBlock, 0, 0, 42, "h"}}),
            "Tlock tag=6 fid=1 type=WRLCK flags=BLOCK start=0 length=0 proc_id=42 client_id=h");
  EXPECT_EQ(to_string(Fcall{6, Rlock{kLockGrace}}), "Rlock tag=6 status=GRACE");
  EXPECT_EQ(to_string(Fcall{6, Tunlinkat{1, "d", kAtRemovedir}}),
            "Tunlinkat tag=6 dirfid=1 name=d flags=AT_REMOVEDIR");
}

TEST(Message, TypeNamesAndDirections) {
  EXPECT_EQ(type_name(Type::Twalk), "Twalk");
  EXPECT_EQ(type_name(Type::Rlerror), "Rlerror");
  EXPECT_EQ(type_name(Type::Tstat), "Tstat");
  EXPECT_EQ(type_name(Type(200)), "unknown");
  EXPECT_EQ(type_of(Message(Tclunk{})), Type::Tclunk);
  EXPECT_EQ(type_of(Message(Rremove{})), Type::Rremove);
  EXPECT_TRUE(is_request(Type::Tversion));
  EXPECT_FALSE(is_request(Type::Rversion));
}

TEST(Message, ModeMappings) {
  EXPECT_EQ(dt_from_mode(kSIfdir | 0755), kDtDir);
  EXPECT_EQ(dt_from_mode(kSIfreg | 0644), kDtReg);
  EXPECT_EQ(dt_from_mode(kSIflnk | 0777), kDtLnk);
  EXPECT_EQ(dt_from_mode(kSIfchr), kDtChr);
  EXPECT_EQ(dt_from_mode(kSIfblk), kDtBlk);
  EXPECT_EQ(dt_from_mode(kSIfifo), kDtFifo);
  EXPECT_EQ(dt_from_mode(kSIfsock), kDtSock);
  EXPECT_EQ(dt_from_mode(0), kDtUnknown);
  EXPECT_EQ(qid_type_from_mode(kSIfdir | 0755), kQtDir);
  EXPECT_EQ(qid_type_from_mode(kSIflnk), kQtSymlink);
  EXPECT_EQ(qid_type_from_mode(kSIfreg), kQtFile);
  EXPECT_EQ(qid_type_from_mode(kSIfsock), kQtFile);
}

}  // namespace
}  // namespace ninep::p9
