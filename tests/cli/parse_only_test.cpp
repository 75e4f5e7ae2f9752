// `ninep --parse-only CMD ...` and `cbpf --parse-only CMD ...`: the command line is parsed as it
// would run, and nothing else happens (no connection, no mount, no server, no file read).
#include <gtest/gtest.h>

#include <filesystem>

#include "run.h"
#include "temp_dir.h"

namespace ninep::clitest {
namespace {

Ran ninep(std::vector<std::string> args) {
  args.insert(args.begin(), NINEP_BINARY);
  return run(args);
}

Ran cbpf(std::vector<std::string> args) {
  args.insert(args.begin(), CBPF_BINARY);
  return run(args);
}

TEST(ParseOnly, ServeParsesAndServesNothing) {
  auto dir = testing::TempDir::create("ninep-cli-");
  ASSERT_TRUE(dir);
  const std::string sock = *dir / "s.sock";
  // Without --parse-only, this serves until killed (run() gives up after 10 s).
  auto r = ninep({"--parse-only", "serve", "--listen", "unix:" + sock, dir->path()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out + r.err, "");
  EXPECT_FALSE(std::filesystem::exists(sock));
  r = ninep({"--parse-only", "server9p", "--serve", dir->path() + ":5640", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(ParseOnly, ClientCommandsDoNotConnect) {
  // Run for real, each of these fails to connect (exit 1).
  for (std::vector<std::string> args : {std::vector<std::string>{"ls", "-l", "unix:/nonexistent"},
                                        {"stat", "unix:/nonexistent", "/a", "/b"},
                                        {"cat", "unix:/nonexistent", "/a"},
                                        {"get", "-r", "unix:/nonexistent", "/a", "b"},
                                        {"mkdir", "-p", "-m", "700", "unix:/nonexistent", "/d"},
                                        {"xattr", "--get", "user.x", "unix:/nonexistent", "/a"}}) {
    args.insert(args.begin(), "--parse-only");
    auto r = ninep(args);
    EXPECT_EQ(r.code, 0) << args[1] << ": " << r.err;
    EXPECT_EQ(r.out + r.err, "") << args[1];
  }
}

TEST(ParseOnly, MountDoesNotMount) {
  auto dir = testing::TempDir::create("ninep-cli-");
  ASSERT_TRUE(dir);
  auto r = ninep({"--parse-only", "mount", "--via", "fuse", "unix:/nonexistent", dir->path()});
  EXPECT_EQ(r.code, 0) << r.err;
  r = ninep({"--parse-only", "umount", "-l", dir->path()});
  EXPECT_EQ(r.code, 0) << r.err;
  r = ninep({"--parse-only", "decode", "/nonexistent"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(ParseOnly, UsageErrorsExitTwoWithTheMessage) {
  auto r = ninep({"--parse-only", "serve", "--no-such-option"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--no-such-option"), std::string::npos) << r.err;
  r = ninep({"--parse-only", "mount", "--via", "nfs", "unix:/x", "/mnt"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nfs"), std::string::npos) << r.err;
  r = ninep({"--parse-only", "get", "unix:/x"});
  EXPECT_EQ(r.code, 2) << r.err;
  r = ninep({"--parse-only", "no-such-command"});
  EXPECT_EQ(r.code, 2) << r.err;
}

TEST(ParseOnly, HelpStillPrintsHelp) {
  auto r = ninep({"--parse-only", "ls", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--aname"), std::string::npos) << r.out;
}

TEST(ParseOnly, Cbpf) {
  // Run for real, these fail: the files do not exist.
  auto r = cbpf({"--parse-only", "run", "/nonexistent.asm", "--pcap", "/nonexistent.pcap"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out + r.err, "");
  r = cbpf({"--parse-only", "asm", "-f", "c", "/nonexistent.asm"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = cbpf({"--parse-only", "bench", "--runs", "0", "/p", "--pcap", "/x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--runs"), std::string::npos) << r.err;
  r = cbpf({"--parse-only", "dis"});
  EXPECT_EQ(r.code, 2) << r.err;
}

TEST(Completion, IsHidden) {
  auto r = ninep({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("serve"), std::string::npos);
  EXPECT_EQ(r.out.find("completion"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("parse-only"), std::string::npos) << r.out;
  r = cbpf({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("bench"), std::string::npos);
  EXPECT_EQ(r.out.find("completion"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("parse-only"), std::string::npos) << r.out;
}

TEST(Completion, OnlyBash) {
  auto r = ninep({"completion", "bash"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("complete -F _ninep ninep"), std::string::npos) << r.out;
  EXPECT_EQ(ninep({"completion", "zsh"}).code, 2);
  r = cbpf({"completion", "bash"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("complete -F _cbpf cbpf"), std::string::npos) << r.out;
  EXPECT_EQ(cbpf({"completion"}).code, 2);
}

}  // namespace
}  // namespace ninep::clitest
