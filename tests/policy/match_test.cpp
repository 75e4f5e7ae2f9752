// Each matcher and action of the rule language: records that match and records that do not, run
// through the compiled program in every engine (and checked against the direct evaluator).
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "policy_support.h"

namespace ninep::policy {
namespace {

using namespace testing;

constexpr std::uint32_t kDeny = kErrno | EACCES;

TEST(PolicyMatch, Actions) {
  auto c = compile_text(
      "allow Tread\n"
      "log Twrite\n"
      "deny ENOENT Twalk\n"
      "deny 99 Treaddir\n"
      "kill Tflush\n"
      "deny EROFS all\n");
  EXPECT_EQ(verdict(c, request(kTread)), kAllow);
  EXPECT_EQ(verdict(c, request(kTwrite)), kLog);
  EXPECT_EQ(verdict(c, request(kTwalk)), kErrno | ENOENT);
  EXPECT_EQ(verdict(c, request(kTreaddir)), kErrno | 99);
  EXPECT_EQ(verdict(c, request(kTflush)), kKill);
  EXPECT_EQ(verdict(c, request(kTgetattr)), kErrno | EROFS);
  EXPECT_EQ(decide(verdict(c, request(kTwalk))).error, ENOENT);
}

TEST(PolicyMatch, FirstMatchWinsAndSaysWhichRule) {
  auto c = compile_text("deny EPERM write uid=0\n\nallow write\ndeny EACCES all\n");
  RequestRecord r = request(kTwrite);
  EXPECT_EQ(verdict(c, r), kErrno | EPERM);
  EXPECT_EQ(match(c.rules, r).rule, 0u);
  EXPECT_EQ(match(c.rules, r).line, 1u);
  r.uid = 1;
  EXPECT_EQ(verdict(c, r), kAllow);
  EXPECT_EQ(match(c.rules, r).line, 3u);
  EXPECT_EQ(verdict(c, request(kTread)), kDeny);
  EXPECT_EQ(match(c.rules, request(kTread)).line, 4u);
}

TEST(PolicyMatch, Classes) {
  struct Case {
    const char* cls;
    std::vector<std::uint32_t> in;
  };
  const Case cases[] = {
      {"read", {kTread, kTreadlink}},
      {"write", {kTwrite}},
      {"open", {kTlopen}},
      {"create", {kTlcreate, kTmkdir, kTmknod, kTsymlink, kTlink}},
      {"remove", {kTunlinkat, kTremove}},
      {"rename", {kTrename, kTrenameat}},
      {"setattr", {kTsetattr}},
      {"getattr", {kTgetattr, kTstatfs}},
      {"xattr", {kTxattrwalk, kTxattrcreate}},
      {"lock", {kTlock, kTgetlock}},
      {"walk", {kTwalk}},
      {"readdir", {kTreaddir}},
      {"attach", {kTattach}},
      {"Tfsync,Tclunk", {kTfsync, kTclunk}},
      {"walk,Tlopen", {kTwalk, kTlopen}},
  };
  const std::uint32_t all[] = {
      kTstatfs,  kTlopen,   kTlcreate,   kTsymlink,     kTmknod,    kTrename, kTreadlink,
      kTgetattr, kTsetattr, kTxattrwalk, kTxattrcreate, kTreaddir,  kTfsync,  kTlock,
      kTgetlock, kTlink,    kTmkdir,     kTrenameat,    kTunlinkat, kTattach, kTflush,
      kTwalk,    kTread,    kTwrite,     kTclunk,       kTremove,   0,        255};
  for (const auto& k : cases) {
    auto c = compile_text(std::string("deny ENOENT ") + k.cls + "\nallow all");
    for (std::uint32_t t : all) {
      const bool in = std::find(k.in.begin(), k.in.end(), t) != k.in.end();
      EXPECT_EQ(verdict(c, request(t)), in ? kErrno | ENOENT : kAllow) << k.cls << " type " << t;
    }
  }
}

TEST(PolicyMatch, NameExactPrefixSuffixAtEveryLength) {
  // Patterns of 1 to 9 bytes exercise every mix of word, half-word and byte compares.
  const std::string base = "abcdefghi";
  for (std::size_t n = 1; n <= base.size(); ++n) {
    const std::string p = base.substr(0, n);
    auto exact = compile_text("deny ENOENT name=" + p + "\nallow all");
    auto prefix = compile_text("deny ENOENT name=" + p + "*\nallow all");
    auto suffix = compile_text("deny ENOENT name=*" + p + "\nallow all");
    std::string longer = p + "x", shorter = p.substr(0, n - 1), changed = p;
    changed[n - 1] = 'Z';
    std::string first_changed = p;
    first_changed[0] = 'Z';
    const std::string before = "xy" + p;
    auto v = [&](const Compiled& c, const std::string& name) {
      return verdict(c, request(kTwalk, "dir", name));
    };
    const std::uint32_t hit = kErrno | ENOENT;
    EXPECT_EQ(v(exact, p), hit) << p;
    EXPECT_EQ(v(exact, longer), kAllow) << p;
    EXPECT_EQ(v(exact, shorter), kAllow) << p;
    EXPECT_EQ(v(exact, changed), kAllow) << p;
    EXPECT_EQ(v(exact, first_changed), kAllow) << p;
    EXPECT_EQ(v(prefix, p), hit) << p;
    EXPECT_EQ(v(prefix, longer), hit) << p;
    EXPECT_EQ(v(prefix, shorter), kAllow) << p;
    EXPECT_EQ(v(prefix, changed), kAllow) << p;
    EXPECT_EQ(v(prefix, before), kAllow) << p;
    EXPECT_EQ(v(suffix, p), hit) << p;
    EXPECT_EQ(v(suffix, before), hit) << p;
    EXPECT_EQ(v(suffix, longer), kAllow) << p;
    EXPECT_EQ(v(suffix, shorter), kAllow) << p;
    EXPECT_EQ(v(suffix, first_changed), kAllow) << p;
  }
}

TEST(PolicyMatch, NamesAtTheLimitAndAnyOfSeveralPatterns) {
  const std::string big(kMaxName, 'q');
  auto c = compile_text("deny ENOENT name=" + big + ",*.pem,id_*\nallow all");
  EXPECT_EQ(verdict(c, request(kTwalk, "", big)), kErrno | ENOENT);
  EXPECT_EQ(verdict(c, request(kTwalk, "", big.substr(1) + "r")), kAllow);
  EXPECT_EQ(verdict(c, request(kTwalk, "", "key.pem")), kErrno | ENOENT);
  EXPECT_EQ(verdict(c, request(kTwalk, "", "id_ed25519")), kErrno | ENOENT);
  EXPECT_EQ(verdict(c, request(kTwalk, "", "pem")), kAllow);
  EXPECT_EQ(verdict(c, request(kTwalk, "", "")), kAllow);
  auto s = compile_text("deny ENOENT name=*" + big + "\nallow all");
  EXPECT_EQ(verdict(s, request(kTwalk, "", big)), kErrno | ENOENT);
  EXPECT_EQ(verdict(s, request(kTwalk, "", "q")), kAllow);
}

TEST(PolicyMatch, PathIsTheDirectoryItselfAnythingUnderItAndTheNameOfItInItsParent) {
  auto c = compile_text("deny EROFS path=.git\nallow all");
  const std::uint32_t hit = kErrno | EROFS;
  EXPECT_EQ(verdict(c, request(kTlopen, ".git")), hit);
  EXPECT_EQ(verdict(c, request(kTlopen, ".git/config")), hit);
  EXPECT_EQ(verdict(c, request(kTmkdir, ".git/objects", "aa")), hit);  // a create inside
  EXPECT_EQ(verdict(c, request(kTwalk, "", ".git")), hit);             // the walk into it
  EXPECT_EQ(verdict(c, request(kTunlinkat, "", ".git")), hit);         // its removal
  EXPECT_EQ(verdict(c, request(kTlopen, ".gitignore")), kAllow);
  EXPECT_EQ(verdict(c, request(kTlopen, ".github/x")), kAllow);
  EXPECT_EQ(verdict(c, request(kTlopen, "src/.git")), kAllow);  // another .git: not this one
  EXPECT_EQ(verdict(c, request(kTlopen, ".gi")), kAllow);
  EXPECT_EQ(verdict(c, request(kTlopen, "")), kAllow);
  EXPECT_EQ(verdict(c, request(kTwalk, "", ".gitx")), kAllow);
  EXPECT_EQ(verdict(c, request(kTwalk, "src", ".git")), kAllow);
  EXPECT_EQ(verdict(c, request(kTxattrwalk, "", ".git")), kAllow);  // an attribute's name

  auto n = compile_text("deny EROFS path=/home/u/,srv\nallow all");
  EXPECT_EQ(verdict(n, request(kTwalk, "home", "u")), hit);
  EXPECT_EQ(verdict(n, request(kTlcreate, "home/u", "f")), hit);
  EXPECT_EQ(verdict(n, request(kTlopen, "home/u/a/b/c")), hit);
  EXPECT_EQ(verdict(n, request(kTlopen, "srv")), hit);
  EXPECT_EQ(verdict(n, request(kTwalk, "", "srv")), hit);
  EXPECT_EQ(verdict(n, request(kTwalk, "home", "uu")), kAllow);
  EXPECT_EQ(verdict(n, request(kTwalk, "", "home")), kAllow);
  EXPECT_EQ(verdict(n, request(kTlopen, "home/uu")), kAllow);
  EXPECT_EQ(verdict(n, request(kTlopen, "home")), kAllow);
  EXPECT_EQ(verdict(n, request(kTwalk, "hom", "u")), kAllow);
}

TEST(PolicyMatch, LongPathsNeedFarJumps) {
  // A 2000-byte path compares over 1000 instructions: its jumps go through `ja`.
  std::string dir;
  for (int i = 0; i < 200; ++i) dir += "component" + std::to_string(i % 10) + "/";
  dir.pop_back();
  auto c = compile_text("deny EROFS path=" + dir + "\nallow all");
  EXPECT_GT(c.program.size(), 1000u);
  EXPECT_EQ(verdict(c, request(kTlopen, dir)), kErrno | EROFS);
  EXPECT_EQ(verdict(c, request(kTlopen, dir + "/x")), kErrno | EROFS);
  std::string other = dir;
  other[1500] = 'X';
  EXPECT_EQ(verdict(c, request(kTlopen, other)), kAllow);
  EXPECT_EQ(verdict(c, request(kTlopen, dir.substr(0, 100))), kAllow);
  const auto slash = dir.rfind('/');
  EXPECT_EQ(verdict(c, request(kTwalk, dir.substr(0, slash), dir.substr(slash + 1))),
            kErrno | EROFS);
}

TEST(PolicyMatch, UidGidExport) {
  auto c =
      compile_text("deny EPERM uid=0,1000\ndeny ENOENT gid=7\ndeny EROFS export=1,2\nallow all");
  RequestRecord r = request(kTread);
  r.uid = 0;
  EXPECT_EQ(verdict(c, r), kErrno | EPERM);
  r.uid = 1000;
  EXPECT_EQ(verdict(c, r), kErrno | EPERM);
  r.uid = 1001;
  EXPECT_EQ(verdict(c, r), kAllow);
  r.gid = 7;
  EXPECT_EQ(verdict(c, r), kErrno | ENOENT);
  r.gid = 8;
  r.export_index = 2;
  EXPECT_EQ(verdict(c, r), kErrno | EROFS);
  r.export_index = 3;
  EXPECT_EQ(verdict(c, r), kAllow);
}

TEST(PolicyMatch, TypeIsTheFileTypeOrTheCreatedType) {
  auto c = compile_text("deny EPERM type=chr,blk,fifo,sock\ndeny ENOENT type=dir\nallow all");
  RequestRecord r = request(kTmknod, "dev");
  r.file_type = 0040000;  // the directory it is made in does not count
  r.mode = 0020644;
  EXPECT_EQ(verdict(c, r), kErrno | EPERM);
  r.mode = 0010600;
  EXPECT_EQ(verdict(c, r), kErrno | EPERM);
  r.mode = 0100644;
  EXPECT_EQ(verdict(c, r), kAllow);
  r.type = kTmkdir;
  r.mode = 0755;  // no S_IFMT bits: still a directory
  EXPECT_EQ(verdict(c, r), kErrno | ENOENT);
  r.type = kTlcreate;
  EXPECT_EQ(verdict(c, r), kAllow);
  r.type = kTsymlink;
  EXPECT_EQ(verdict(c, r), kAllow);
  r.type = kTlopen;
  r.mode = 0;
  r.file_type = 0060000;
  EXPECT_EQ(verdict(c, r), kErrno | EPERM);
  r.file_type = 0040000;
  EXPECT_EQ(verdict(c, r), kErrno | ENOENT);
  r.file_type = 0120000;
  EXPECT_EQ(verdict(c, r), kAllow);
  auto l = compile_text("deny ELOOP type=lnk\nallow all");
  EXPECT_EQ(verdict(l, request(kTsymlink)), kErrno | ELOOP);
  EXPECT_EQ(verdict(l, request(kTlcreate)), kAllow);
}

TEST(PolicyMatch, FlagsAnyOfAccessModesAndBits) {
  auto w = compile_text("deny EROFS open flags=wronly,rdwr,trunc\nallow all");
  auto r = request(kTlopen, "f");
  auto v = [&](const Compiled& c, std::uint32_t flags) {
    r.flags = flags;
    return verdict(c, r);
  };
  EXPECT_EQ(v(w, 0), kAllow);
  EXPECT_EQ(v(w, 1), kErrno | EROFS);
  EXPECT_EQ(v(w, 2), kErrno | EROFS);
  EXPECT_EQ(v(w, 3), kAllow);  // O_ACCMODE 3: none of the three
  EXPECT_EQ(v(w, 01000), kErrno | EROFS);
  EXPECT_EQ(v(w, 02000000), kAllow);
  auto ro = compile_text("deny EPERM flags=rdonly\nallow all");
  EXPECT_EQ(v(ro, 0), kErrno | EPERM);
  EXPECT_EQ(v(ro, 0100), kErrno | EPERM);
  EXPECT_EQ(v(ro, 1), kAllow);
  auto b = compile_text("deny EPERM flags=creat,4096\nallow all");
  EXPECT_EQ(v(b, 0100), kErrno | EPERM);
  EXPECT_EQ(v(b, 4096 | 2), kErrno | EPERM);
  EXPECT_EQ(v(b, 2), kAllow);
}

TEST(PolicyMatch, AllMatchersOfARuleMustHold) {
  auto c = compile_text("deny EACCES write uid=1000 path=data name=*.db\nallow all");
  RequestRecord r = request(kTwrite, "data/x");
  r.uid = 1000;
  r.name = "";
  EXPECT_EQ(verdict(c, r), kAllow);  // name= fails: a Twrite has no name
  r.type = kTlcreate;
  r.name = "a.db";
  EXPECT_EQ(verdict(c, r), kAllow);  // not a write
  auto d = compile_text("deny EACCES create uid=1000 path=data name=*.db\nallow all");
  EXPECT_EQ(verdict(d, r), kErrno | EACCES);
  r.uid = 1;
  EXPECT_EQ(verdict(d, r), kAllow);
  r.uid = 1000;
  r.path = "date";
  EXPECT_EQ(verdict(d, r), kAllow);
}

}  // namespace
}  // namespace ninep::policy
