// The rule language's parser: what it accepts, and errors that say where (line and column).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "policy/rules.h"

namespace ninep::policy {
namespace {

using ::testing::HasSubstr;

std::string error_of(std::string_view text) {
  auto r = parse_rules(text);
  if (r) return "parsed";
  EXPECT_EQ(r.error().code, EINVAL);
  return r.error().message;
}

TEST(PolicyParse, RulesCommentsAndBlankLines) {
  auto r = parse_rules(
      "# a policy\n"
      "\n"
      "   deny ENOENT walk,readdir name=.ssh   # hide it\n"
      "\tdeny\tEROFS\twrite,create path=/.git/\n"
      "allow uid=1000,1001 write\n"
      "deny EPERM create type=chr,blk,fifo,sock\r\n"
      "log Tlopen flags=wronly,trunc gid=5 export=1\n"
      "deny 42 name=id_*,*.pem\n"
      "kill Tflush\n"
      "allow all\n");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->rules.size(), 8u);
  const auto& x = r->rules;
  EXPECT_EQ(x[0].line, 3u);
  EXPECT_EQ(x[0].verdict, kErrno | ENOENT);
  EXPECT_EQ(x[0].types, (std::vector<std::uint32_t>{40, 110}));
  EXPECT_EQ(x[0].names, (std::vector<NamePattern>{{NamePattern::Kind::Exact, ".ssh"}}));
  EXPECT_EQ(x[1].line, 4u);
  EXPECT_EQ(x[1].paths, std::vector<std::string>{".git"});
  EXPECT_EQ(x[1].verdict, kErrno | EROFS);
  EXPECT_EQ(x[2].uids, (std::vector<std::uint32_t>{1000, 1001}));
  EXPECT_EQ(x[2].verdict, kAllow);
  EXPECT_EQ(x[3].file_types, (std::vector<std::uint32_t>{0010000, 0020000, 0060000, 0140000}));
  EXPECT_EQ(x[3].types, (std::vector<std::uint32_t>{14, 16, 18, 70, 72}));
  EXPECT_EQ(x[4].verdict, kLog);
  EXPECT_TRUE(x[4].has_flags);
  EXPECT_EQ(x[4].flag_bits, 01000u);
  EXPECT_EQ(x[4].access_modes, std::vector<std::uint32_t>{1});
  EXPECT_EQ(x[4].gids, std::vector<std::uint32_t>{5});
  EXPECT_EQ(x[4].exports, std::vector<std::uint32_t>{1});
  EXPECT_EQ(x[5].verdict, kErrno | 42);
  EXPECT_EQ(x[5].names, (std::vector<NamePattern>{{NamePattern::Kind::Prefix, "id_"},
                                                  {NamePattern::Kind::Suffix, ".pem"}}));
  EXPECT_EQ(x[6].verdict, kKill);
  EXPECT_TRUE(x[7].matches_all());
  EXPECT_EQ(to_string(x[0]), "deny ENOENT Treaddir,Twalk name=.ssh");
  EXPECT_EQ(to_string(x[7]), "allow all");
}

TEST(PolicyParse, MatchersAndClassesInAnyOrder) {
  auto a = parse_rules("allow uid=1000 write\nallow all");
  auto b = parse_rules("allow write uid=1000\nallow all");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->rules[0], b->rules[0]);
  auto c = parse_rules("deny EACCES\n");  // no classes, no matchers: matches all
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->rules[0].verdict, kErrno | EACCES);
}

TEST(PolicyParse, ErrorsSayLineAndColumn) {
  struct Case {
    std::string text;
    const char* error;
  };
  const Case cases[] = {
      {"bogus all\nallow all", "line 1, column 1: unknown action 'bogus'"},
      {"allow all\n  deny\n", "line 2, column 3: this rule can never match: the rule on line 1"},
      {"deny\nallow all", "line 1, column 5: 'deny' needs an errno"},
      {"deny ENOPE read\nallow all", "line 1, column 6: unknown errno 'ENOPE'"},
      {"deny 0 read\nallow all", "line 1, column 6: errno 0 out of range"},
      {"deny 4096 read\nallow all", "line 1, column 6: errno 4096 out of range"},
      {"\n\nallow read,bogus\nallow all", "line 3, column 12: unknown operation class 'bogus'"},
      {"allow read,,write\nallow all", "line 1, column 12: empty value"},
      {"allow read,\nallow all", "line 1, column 12: empty value"},
      {"allow all,read\nallow all", "line 1, column 7: 'all' stands alone"},
      {"allow read write\nallow all", "line 1, column 12: operation classes given twice"},
      {"allow name=a*b\nallow all", "line 1, column 13: a name pattern has one '*'"},
      {"allow name=x,*a*\nallow all", "line 1, column 14: a name pattern has one '*'"},
      {"allow name=*\nallow all", "line 1, column 12: '*' alone matches any name"},
      {"allow name=a/b\nallow all", "line 1, column 13: a name has no '/'"},
      {"allow path=a/../b\nallow all", "line 1, column 12: bad path 'a/../b'"},
      {"allow path=a//b\nallow all", "line 1, column 12: bad path"},
      {"allow path=/\nallow all", "line 1, column 12: path= names a directory below"},
      {"allow uid=abc\nallow all", "line 1, column 11: 'abc' is not a number"},
      {"allow gid=1,-1\nallow all", "line 1, column 13: '-1' is not a number"},
      {"allow uid=4294967296\nallow all", "line 1, column 11: '4294967296' is not a number"},
      {"allow type=door\nallow all", "line 1, column 12: unknown file type 'door'"},
      {"allow flags=bogus\nallow all", "line 1, column 13: unknown open flag 'bogus'"},
      {"allow flags=0\nallow all", "line 1, column 13: unknown open flag '0'"},
      {"allow color=red\nallow all", "line 1, column 7: unknown matcher 'color='"},
      {"allow uid=1 read uid=2\nallow all", "line 1, column 18: 'uid=' given twice"},
      {"", "line 1, column 1: no rules"},
      {"# nothing\n\n", "line 3, column 1: no rules"},
      {"allow read\n", "line 1, column 1: the last rule must match every request"},
      {"allow all\ndeny EACCES read # x\n", "line 2, column 1: this rule can never match"},
      {"allow name=" + std::string(257, 'n') + "\nallow all",
       "line 1, column 12: name longer than 256 bytes"},
  };
  for (const auto& c : cases) EXPECT_THAT(error_of(c.text), HasSubstr(c.error)) << c.text;
}

TEST(PolicyParse, RefusesRulesThatCompileToMoreThanAProgramMayHave) {
  // Each 3000-byte path compiles to over 1500 instructions: the third rule goes past 4096.
  std::string text;
  for (int i = 0; i < 3; ++i) text += "deny EACCES path=" + std::string(3000, 'a' + i) + "\n";
  text += "allow all\n";
  EXPECT_THAT(error_of(text), HasSubstr("more than the 4096 a program may have"));
  EXPECT_THAT(error_of(text), HasSubstr("line 4, column 1"));
}

}  // namespace
}  // namespace ninep::policy
