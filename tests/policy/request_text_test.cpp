// Requests and verdicts as text (`ninep policy test`).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "policy/request_text.h"

namespace ninep::policy {
namespace {

using ::testing::HasSubstr;

TEST(PolicyRequestText, ParsesMessageAndFields) {
  auto t = parse_request(
      "Twalk name=.ssh uid=1000 gid=0x64 path=/home/u/ export=1 type=dir flags=wronly,trunc "
      "mode=0644 unlink=512 valid=9 depth=2 offset=0x100000000 count=10");
  ASSERT_TRUE(t) << t.error().to_string();
  const RequestRecord r = t->record();
  EXPECT_EQ(r.type, 110u);
  EXPECT_EQ(r.name, ".ssh");
  EXPECT_EQ(r.path, "home/u");
  EXPECT_EQ(r.uid, 1000u);
  EXPECT_EQ(r.gid, 100u);
  EXPECT_EQ(r.export_index, 1u);
  EXPECT_EQ(r.file_type, 0040000u);
  EXPECT_EQ(r.flags, 01001u);
  EXPECT_EQ(r.mode, 0644u);
  EXPECT_EQ(r.unlink, 512u);
  EXPECT_EQ(r.valid, 9u);
  EXPECT_EQ(r.depth, 2u);
  EXPECT_EQ(r.offset, 0x100000000u);
  EXPECT_EQ(r.count, 10u);
  auto n = parse_request("  12 ");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->record().type, 12u);
}

TEST(PolicyRequestText, ErrorsGiveTheColumn) {
  auto e = [](std::string_view text) {
    auto r = parse_request(text);
    return r ? std::string("parsed") : r.error().message;
  };
  EXPECT_THAT(e(""), HasSubstr("column 1: no message"));
  EXPECT_THAT(e("Tbogus"), HasSubstr("column 1: unknown message 'Tbogus'"));
  EXPECT_THAT(e("Twalk colour=red"), HasSubstr("column 7: unknown field 'colour'"));
  EXPECT_THAT(e("Twalk uid=x"), HasSubstr("column 11: 'x' is not a number"));
  EXPECT_THAT(e("Twalk uid=4294967296"), HasSubstr("column 11"));
  EXPECT_THAT(e("Tlopen flags=rdwr,bad"), HasSubstr("column 19: unknown open flag 'bad'"));
  EXPECT_THAT(e("Twalk name"), HasSubstr("column 7: 'name' is not FIELD=VALUE"));
  EXPECT_THAT(e("Twalk type=door"), HasSubstr("column 12: unknown file type"));
}

TEST(PolicyRequestText, DescribesTheVerdictAndTheRule) {
  auto rules = parse_rules("# hide\ndeny ENOENT walk name=.ssh\nallow all\n");
  ASSERT_TRUE(rules);
  auto t = parse_request("Twalk name=.ssh uid=1000 path=home");
  ASSERT_TRUE(t);
  EXPECT_EQ(describe(*rules, match(*rules, t->record())),
            "ERRNO ENOENT (2): rule 1, line 2: deny ENOENT Twalk name=.ssh");
  auto o = parse_request("Twalk name=.sshx");
  ASSERT_TRUE(o);
  EXPECT_EQ(describe(*rules, match(*rules, o->record())), "ALLOW: rule 2, line 3: allow all");
  EXPECT_EQ(verdict_name(kLog), "LOG");
  EXPECT_EQ(verdict_name(kKill), "KILL");
  EXPECT_EQ(verdict_name(kErrno | 4000), "ERRNO 4000");
  EXPECT_EQ(verdict_name(0), "0x0 (refuses with EACCES)");
  EXPECT_EQ(verdict_name(0x80000001), "0x80000001 (drops the connection)");
}

}  // namespace
}  // namespace ninep::policy
