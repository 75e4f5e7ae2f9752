// The request record's layout (record.h) as a program reads it, and what verdicts mean.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "bpf/vm.h"
#include "p9/message.h"
#include "policy/record.h"
#include "policy/rules.h"

namespace ninep::policy {
namespace {

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 |
         std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}

TEST(PolicyRecord, EncodesEveryFieldBigEndianAtItsOffset) {
  RequestRecord r;
  r.type = 110;
  r.uid = 1000;
  r.gid = 100;
  r.export_index = 2;
  r.file_type = 0040000;
  r.flags = 01102;
  r.mode = 0100644;
  r.unlink = 0x200;
  r.valid = 0x9;
  r.depth = 3;
  r.offset = 0x0102030405060708;
  r.count = 8192;
  r.name = ".ssh";
  r.path = "home/u";
  std::vector<std::uint8_t> b;
  ASSERT_TRUE(encode(r, b));
  ASSERT_EQ(b.size(), 320u + 6);
  EXPECT_EQ(be32(b, offsets::kType), 110u);
  EXPECT_EQ(be32(b, offsets::kUid), 1000u);
  EXPECT_EQ(be32(b, offsets::kGid), 100u);
  EXPECT_EQ(be32(b, offsets::kExport), 2u);
  EXPECT_EQ(be32(b, offsets::kFileType), 0040000u);
  EXPECT_EQ(be32(b, offsets::kFlags), 01102u);
  EXPECT_EQ(be32(b, offsets::kMode), 0100644u);
  EXPECT_EQ(be32(b, offsets::kUnlink), 0x200u);
  EXPECT_EQ(be32(b, offsets::kValid), 9u);
  EXPECT_EQ(be32(b, offsets::kDepth), 3u);
  EXPECT_EQ(be32(b, offsets::kOffset), 0x01020304u);
  EXPECT_EQ(be32(b, offsets::kOffset + 4), 0x05060708u);
  EXPECT_EQ(be32(b, offsets::kCount), 8192u);
  EXPECT_EQ(be32(b, offsets::kNameLen), 4u);
  EXPECT_EQ(be32(b, offsets::kPathLen), 6u);
  EXPECT_EQ(be32(b, 60), 0u);
  EXPECT_EQ(std::string(b.begin() + 64, b.begin() + 68), ".ssh");
  for (std::size_t i = 68; i < 320; ++i) ASSERT_EQ(b[i], 0) << i;
  EXPECT_EQ(std::string(b.begin() + 320, b.end()), "home/u");
}

TEST(PolicyRecord, RefusesNamesAndPathsLongerThanTheRecordHolds) {
  std::vector<std::uint8_t> b = {1, 2, 3};
  const std::string name(kMaxName + 1, 'n'), path(kMaxPath + 1, 'p');
  RequestRecord r;
  r.name = name;
  EXPECT_FALSE(encode(r, b));
  EXPECT_EQ(b.size(), 3u);
  r.name = std::string_view(name).substr(0, kMaxName);
  r.path = path;
  EXPECT_FALSE(encode(r, b));
  r.path = std::string_view(path).substr(0, kMaxPath);
  EXPECT_TRUE(encode(r, b));
  EXPECT_EQ(b.size(), 320u + kMaxPath);
}

TEST(PolicyRecord, SetNameGivesTheRecordEncodeWouldHaveWritten) {
  RequestRecord r;
  r.type = 110;
  r.uid = 1000;
  r.path = "a/b";
  r.name = "a-rather-long-name";
  std::vector<std::uint8_t> patched, fresh;
  ASSERT_TRUE(encode(r, patched));
  for (std::string_view name : {"short", "", "a-name-longer-than-the-first-one", "x"}) {
    ASSERT_TRUE(set_name(patched, name));
    r.name = name;
    ASSERT_TRUE(encode(r, fresh));
    EXPECT_EQ(patched, fresh) << name;
  }
  const std::string too_long(kMaxName + 1, 'n');
  EXPECT_FALSE(set_name(patched, too_long));
  EXPECT_EQ(patched, fresh) << "a refused name changes nothing";
}

TEST(PolicyRecord, ALoadPastThePathRefuses) {
  // `ld [320]` over a record with an empty path: verdict 0, which refuses with EACCES.
  const bpf::RawInstruction program[] = {{0x20, 0, 0, 320}, {0x06, 0, 0, kAllow}};
  auto vm = bpf::Vm::create(program);
  ASSERT_TRUE(vm);
  std::vector<std::uint8_t> b;
  ASSERT_TRUE(encode(RequestRecord{}, b));
  const auto v = vm->run(b);
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(decide(v).action, Decision::Action::Refuse);
  EXPECT_EQ(decide(v).error, EACCES);
}

TEST(PolicyRecord, Verdicts) {
  EXPECT_EQ(decide(kAllow).action, Decision::Action::Allow);
  EXPECT_EQ(decide(kLog).action, Decision::Action::Log);
  EXPECT_EQ(decide(kKill).action, Decision::Action::Kill);
  EXPECT_EQ(decide(kErrno | ENOENT).action, Decision::Action::Refuse);
  EXPECT_EQ(decide(kErrno | ENOENT).error, ENOENT);
  EXPECT_EQ(decide(kErrno).error, EACCES);  // ERRNO 0 would be success: refused instead
  EXPECT_EQ(decide(0x12345678).error, EACCES);
}

TEST(PolicyRecord, MessageNamesAreThoseOfTheProtocol) {
  for (auto t :
       {p9::Type::Tstatfs,  p9::Type::Tlopen,     p9::Type::Tlcreate,     p9::Type::Tsymlink,
        p9::Type::Tmknod,   p9::Type::Trename,    p9::Type::Treadlink,    p9::Type::Tgetattr,
        p9::Type::Tsetattr, p9::Type::Txattrwalk, p9::Type::Txattrcreate, p9::Type::Treaddir,
        p9::Type::Tfsync,   p9::Type::Tlock,      p9::Type::Tgetlock,     p9::Type::Tlink,
        p9::Type::Tmkdir,   p9::Type::Trenameat,  p9::Type::Tunlinkat,    p9::Type::Tversion,
        p9::Type::Tauth,    p9::Type::Tattach,    p9::Type::Tflush,       p9::Type::Twalk,
        p9::Type::Topen,    p9::Type::Tcreate,    p9::Type::Tread,        p9::Type::Twrite,
        p9::Type::Tclunk,   p9::Type::Tremove,    p9::Type::Tstat,        p9::Type::Twstat}) {
    const std::string name(p9::type_name(t));
    auto v = message_type(name);
    ASSERT_TRUE(v) << name;
    EXPECT_EQ(*v, static_cast<std::uint32_t>(t)) << name;
    EXPECT_EQ(message_name(*v), name);
  }
  EXPECT_FALSE(message_type("Rwalk"));
}

}  // namespace
}  // namespace ninep::policy
