// `ninep policy check|compile|test` through the built program.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "run.h"
#include "temp_dir.h"

namespace ninep::clitest {
namespace {

class PolicyCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = testing::TempDir::create("ninep-policy-");
    ASSERT_TRUE(d);
    dir_ = std::move(*d);
    std::ofstream(rules()) << "# hide it\n"
                              "deny ENOENT walk,readdir name=.ssh\n"
                              "deny EROFS write path=.git\n"
                              "allow all\n";
    std::ofstream(bad()) << "deny EROFS write path=.git\nallow read\n";
  }
  std::string rules() const { return dir_.path() + "/rules"; }
  std::string bad() const { return dir_.path() + "/bad"; }

  testing::TempDir dir_;
};

TEST_F(PolicyCommand, Check) {
  auto r = run({NINEP_BINARY, "policy", "check", rules()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(": 3 rules, "), std::string::npos) << r.out;
  auto b = run({NINEP_BINARY, "policy", "check", bad()});
  EXPECT_EQ(b.code, 1);
  EXPECT_NE(b.err.find("line 2, column 1: the last rule must match every request"),
            std::string::npos)
      << b.err;
  auto missing = run({NINEP_BINARY, "policy", "check", dir_.path() + "/none"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(run({NINEP_BINARY, "policy", "frobnicate", rules()}).code, 2);
}

TEST_F(PolicyCommand, Compile) {
  auto a = run({NINEP_BINARY, "policy", "compile", rules()});
  EXPECT_EQ(a.code, 0) << a.err;
  EXPECT_NE(a.out.find("ld [52]"), std::string::npos) << a.out;          // name_len
  EXPECT_NE(a.out.find("ret #2147418112"), std::string::npos) << a.out;  // ALLOW
  auto d = run({NINEP_BINARY, "policy", "compile", "--ddd", rules()});
  EXPECT_EQ(d.code, 0) << d.err;
  // tcpdump -ddd: the count, then one "op jt jf k" line per instruction.
  const auto count = std::stoul(d.out);
  EXPECT_EQ(static_cast<std::size_t>(std::count(d.out.begin(), d.out.end(), '\n')), count + 1);
}

TEST_F(PolicyCommand, TestSaysTheVerdictAndTheRule) {
  auto r = run({NINEP_BINARY, "policy", "test", rules(), "Twalk name=.ssh uid=1000 path=home"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "ERRNO ENOENT (2): rule 1, line 2: deny ENOENT Treaddir,Twalk name=.ssh\n");
  r = run({NINEP_BINARY, "policy", "test", rules(), "Twrite path=.git/index"});
  EXPECT_EQ(r.out, "ERRNO EROFS (30): rule 2, line 3: deny EROFS Twrite path=.git\n");
  r = run({NINEP_BINARY, "policy", "test", rules(), "Tread path=.git/index"});
  EXPECT_EQ(r.out, "ALLOW: rule 3, line 4: allow all\n");
  auto bad = run({NINEP_BINARY, "policy", "test", rules(), "Twalk colour=red"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("column 7: unknown field 'colour'"), std::string::npos) << bad.err;
  EXPECT_EQ(run({NINEP_BINARY, "policy", "test", rules()}).code, 2);
}

}  // namespace
}  // namespace ninep::clitest
