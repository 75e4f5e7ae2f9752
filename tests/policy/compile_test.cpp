// The compiled program: valid for the kernel, linear in the rules, printable as bpf_asm.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "bpf/text.h"
#include "bpf/validate.h"
#include "policy/rules.h"

namespace ninep::policy {
namespace {

// N rules of the same shape (values of fixed width) and a last one: `full` uses every matcher.
std::string rules_of(int n, bool full) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    char buf[256];
    if (full)
      std::snprintf(buf, sizeof buf,
                    "deny EACCES write,create uid=%04d gid=%04d type=reg flags=wronly,trunc "
                    "name=n%04d,p%04d*,*s%04d path=d/%04d export=1\n",
                    i, i, i, i, i, i);
    else
      std::snprintf(buf, sizeof buf, "deny EACCES walk uid=%04d name=n%04d\n", i, i);
    text += buf;
  }
  return text + "allow all\n";
}

void expect_linear(bool full, const int (&counts)[3]) {
  std::size_t size[3];
  for (int i = 0; i < 3; ++i) {
    auto program = compile_rules(rules_of(counts[i], full));
    ASSERT_TRUE(program) << program.error().to_string();
    EXPECT_FALSE(bpf::find_rejection(*program)) << counts[i];
    size[i] = program->size();
  }
  const auto steps = static_cast<std::size_t>(counts[1] - counts[0]);
  const std::size_t per_rule = (size[1] - size[0]) / steps;
  std::printf(
      "policy program size (%s): %d rules %zu, %d rules %zu, %d rules %zu "
      "instructions (%zu per rule)\n",
      full ? "every matcher" : "class, uid, name", counts[0], size[0], counts[1], size[1],
      counts[2], size[2], per_rule);
  EXPECT_EQ(size[1] - size[0], steps * per_rule);
  EXPECT_EQ(size[2] - size[1], static_cast<std::size_t>(counts[2] - counts[1]) * per_rule);
  EXPECT_EQ(size[0], static_cast<std::size_t>(counts[0]) * per_rule + 1);  // + the last `ret`
}

TEST(PolicyCompile, SizeGrowsLinearlyWithTheRules) {
  expect_linear(false, {1, 10, 100});
  expect_linear(true, {1, 10, 40});
}

TEST(PolicyCompile, EachMatcherLoadsItsFieldOncePerValue) {
  // One rule: the uid is loaded once whatever the number of values, and compared once each.
  auto one = compile_rules("deny EPERM uid=1\nallow all");
  auto five = compile_rules("deny EPERM uid=1,2,3,4,5\nallow all");
  ASSERT_TRUE(one && five);
  EXPECT_EQ(one->size(), 4u);  // ld [4]; jeq #1; ret; ret
  EXPECT_EQ(five->size(), 8u);
}

TEST(PolicyCompile, PrintsAsAssemblerThatReadsBack) {
  auto program = compile_rules("deny ENOENT walk,readdir name=.ssh\nallow all\n");
  ASSERT_TRUE(program);
  const std::string text = bpf::print_assembler(*program);
  auto back = bpf::parse_assembler(text);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, *program);
  EXPECT_NE(text.find("ret #327682"), std::string::npos) << text;
}

TEST(PolicyCompile, RulesBuiltByHandWithoutACatchAllRefuse) {
  Rules rules;
  EXPECT_EQ(compile(rules), (bpf::Program{{0x06, 0, 0, kErrno | EACCES}}));
  Rule r;
  r.verdict = kAllow;
  r.types = {116};
  rules.rules.push_back(r);
  const auto program = compile(rules);
  EXPECT_FALSE(bpf::find_rejection(program));
  RequestRecord read;
  read.type = 116;
  EXPECT_EQ(evaluate(rules, read), kAllow);
  read.type = 118;
  EXPECT_EQ(evaluate(rules, read), kErrno | EACCES);
  EXPECT_FALSE(match(rules, read).rule);
}

}  // namespace
}  // namespace ninep::policy
