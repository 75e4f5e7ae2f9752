// The worked examples of docs/policy.md: each is quoted there verbatim, and behaves as it says.
#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "policy_support.h"

namespace ninep::policy {
namespace {

using namespace testing;

const std::string kHideSecrets =
    "# Secrets cannot be reached or made: SSH and GnuPG directories, keys, certificates.\n"
    "deny ENOENT walk name=.ssh,.gnupg,*.pem,*.key,id_*\n"
    "deny EACCES create,rename name=.ssh,.gnupg,*.pem,*.key,id_*\n"
    "allow all\n";

const std::string kReadOnlyGit =
    "# .git (at the export's root) is read-only: it and everything under it.\n"
    "deny EROFS write,create,remove,rename,setattr,Txattrcreate path=.git\n"
    "deny EROFS open flags=wronly,rdwr,trunc,append path=.git\n"
    "allow all\n";

const std::string kOneWriter =
    "# Only uid 1000 changes anything; everyone else reads.\n"
    "allow uid=1000\n"
    "deny EROFS write,create,remove,rename,setattr,Txattrcreate\n"
    "deny EROFS open flags=wronly,rdwr,trunc,append\n"
    "allow all\n";

TEST(PolicyExamples, AreQuotedInTheDocs) {
  std::ifstream in(NINEP_SOURCE_DIR "/docs/policy.md");
  ASSERT_TRUE(in) << "docs/policy.md";
  std::stringstream doc;
  doc << in.rdbuf();
  for (const auto* example : {&kHideSecrets, &kReadOnlyGit, &kOneWriter})
    EXPECT_NE(doc.str().find(*example), std::string::npos) << *example;
}

TEST(PolicyExamples, HideSecrets) {
  auto c = compile_text(kHideSecrets);
  const std::uint32_t hidden = kErrno | ENOENT, refused = kErrno | EACCES;
  EXPECT_EQ(verdict(c, request(kTwalk, "home/u", ".ssh")), hidden);
  EXPECT_EQ(verdict(c, request(kTwalk, "home/u", ".gnupg")), hidden);
  EXPECT_EQ(verdict(c, request(kTwalk, "etc/tls", "server.pem")), hidden);
  EXPECT_EQ(verdict(c, request(kTwalk, "home/u/.config", "id_ed25519")), hidden);
  EXPECT_EQ(verdict(c, request(kTwalk, "", "id_rsa.pub")), hidden);
  EXPECT_EQ(verdict(c, request(kTwalk, "home/u", ".sshrc")), kAllow);
  EXPECT_EQ(verdict(c, request(kTwalk, "home/u", "notes.key.txt")), kAllow);
  EXPECT_EQ(verdict(c, request(kTwalk, "home/u", "my_id_rsa")), kAllow);
  EXPECT_EQ(verdict(c, request(kTlcreate, "home/u", "stolen.key")), refused);
  EXPECT_EQ(verdict(c, request(kTmkdir, "home/u", ".ssh")), refused);
  EXPECT_EQ(verdict(c, request(kTrenameat, "home/u", "id_rsa")), refused);
  EXPECT_EQ(verdict(c, request(kTlcreate, "home/u", "notes.txt")), kAllow);
  EXPECT_EQ(verdict(c, request(kTreaddir, "home/u")), kAllow);
}

TEST(PolicyExamples, ReadOnlyGit) {
  auto c = compile_text(kReadOnlyGit);
  const std::uint32_t ro = kErrno | EROFS;
  auto open = [](std::string_view path, std::uint32_t flags) {
    RequestRecord r = request(kTlopen, path);
    r.flags = flags;
    return r;
  };
  EXPECT_EQ(verdict(c, request(kTwalk, "", ".git")), kAllow);
  EXPECT_EQ(verdict(c, request(kTread, ".git/HEAD")), kAllow);
  EXPECT_EQ(verdict(c, open(".git/HEAD", 0)), kAllow);
  EXPECT_EQ(verdict(c, request(kTreaddir, ".git/refs")), kAllow);
  EXPECT_EQ(verdict(c, open(".git/HEAD", 1)), ro);
  EXPECT_EQ(verdict(c, open(".git/index", 2)), ro);
  EXPECT_EQ(verdict(c, open(".git/config", 01000)), ro);
  EXPECT_EQ(verdict(c, request(kTwrite, ".git/index")), ro);
  EXPECT_EQ(verdict(c, request(kTmkdir, ".git/objects", "ab")), ro);
  EXPECT_EQ(verdict(c, request(kTlcreate, ".git", "index.lock")), ro);
  EXPECT_EQ(verdict(c, request(kTunlinkat, "", ".git")), ro);
  EXPECT_EQ(verdict(c, request(kTrenameat, "", ".git")), ro);
  EXPECT_EQ(verdict(c, request(kTsetattr, ".git/config")), ro);
  EXPECT_EQ(verdict(c, request(kTxattrcreate, ".git", "user.x")), ro);
  EXPECT_EQ(verdict(c, request(kTwrite, "src/main.c")), kAllow);
  EXPECT_EQ(verdict(c, open(".gitignore", 2)), kAllow);
  EXPECT_EQ(verdict(c, request(kTlcreate, "", ".gitattributes")), kAllow);
  EXPECT_EQ(verdict(c, request(kTwrite, "vendor/lib/.git/index")), kAllow);
}

TEST(PolicyExamples, OneWriter) {
  auto c = compile_text(kOneWriter);
  auto as = [](std::uint32_t uid, RequestRecord r, std::uint32_t flags = 0) {
    r.uid = uid;
    r.flags = flags;
    return r;
  };
  const std::uint32_t ro = kErrno | EROFS;
  EXPECT_EQ(verdict(c, as(1000, request(kTwrite, "f"))), kAllow);
  EXPECT_EQ(verdict(c, as(1000, request(kTmkdir, "", "d"))), kAllow);
  EXPECT_EQ(verdict(c, as(1000, request(kTlopen, "f"), 2)), kAllow);
  EXPECT_EQ(verdict(c, as(1001, request(kTwrite, "f"))), ro);
  EXPECT_EQ(verdict(c, as(0, request(kTmkdir, "", "d"))), ro);
  EXPECT_EQ(verdict(c, as(1001, request(kTunlinkat, "", "f"))), ro);
  EXPECT_EQ(verdict(c, as(1001, request(kTlopen, "f"), 2)), ro);
  EXPECT_EQ(verdict(c, as(1001, request(kTlopen, "f"), 01000)), ro);
  EXPECT_EQ(verdict(c, as(1001, request(kTlopen, "f"), 0)), kAllow);
  EXPECT_EQ(verdict(c, as(1001, request(kTread, "f"))), kAllow);
  EXPECT_EQ(verdict(c, as(1001, request(kTwalk, "", "f"))), kAllow);
  EXPECT_EQ(verdict(c, as(1001, request(kTxattrwalk, "f", "user.a"))), kAllow);
}

}  // namespace
}  // namespace ninep::policy
