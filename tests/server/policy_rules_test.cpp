// The rule language (policy/rules.h, docs/policy.md) in the server: each matcher and action,
// and the worked examples of docs/policy.md, judging requests to an export served in process
// and reached through the client library.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

#include "policy_served.h"

namespace ninep::servertest {
namespace {

std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

std::set<std::string> listed(const client::Fid& root, std::initializer_list<std::string_view> dir) {
  std::set<std::string> names;
  auto d = root.walk(dir);
  EXPECT_TRUE(d);
  if (!d) return names;
  EXPECT_TRUE(d->lopen(p9::kORdonly));
  auto all = d->readdir_all();
  EXPECT_TRUE(all) << all.error().to_string();
  if (all)
    for (const auto& e : *all) names.insert(e.name);
  return names;
}

// The errno of a failed result, or 0 when it succeeded.
template <typename R>
int code(const R& r) {
  return r ? 0 : r.error().code;
}

// Attached as `uid` on a new connection.
struct As {
  As(InProcessServer& srv, std::uint32_t uid) {
    auto s = srv.connect();
    EXPECT_TRUE(s);
    if (!s) return;
    session = *s;
    root = attach_as(session, uid);
  }
  std::shared_ptr<client::Session> session;
  client::Fid root;
};

TEST(PolicyRules, NameMatchesExactlyByPrefixAndBySuffixAndHidesFromListings) {
  Served s("deny ENOENT walk name=exact,pre*,*.suf\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  for (const char* n : {"exact", "exactly", "prefix", "pre", "xpre", "a.suf", "a.sufx", ".suf"})
    write_file(e + "/" + n, "x");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  for (const char* hidden : {"exact", "prefix", "pre", "a.suf", ".suf"}) {
    auto w = root.walk({hidden});
    EXPECT_EQ(code(w), ENOENT) << hidden;
  }
  for (const char* seen : {"exactly", "xpre", "a.sufx"}) EXPECT_TRUE(root.walk({seen})) << seen;
  auto names = listed(root, {});
  for (const char* hidden : {"exact", "prefix", "pre", "a.suf", ".suf"})
    EXPECT_FALSE(names.contains(hidden)) << hidden << " listed";
  for (const char* seen : {"exactly", "xpre", "a.sufx"})
    EXPECT_TRUE(names.contains(seen)) << seen << " not listed";
  // Other requests name no walk: creating a matching name is not refused by a walk rule.
  EXPECT_TRUE(root.mkdir("pre-made", 0755, 0));
  EXPECT_TRUE(exists(e + "/pre-made"));
}

// Listings run the program only for names some rule mentions (policy::NameScreen); every other
// name shares one verdict. Names and paths of rules interleaved with thousands of plain names,
// over several replies, and a listing whose shared verdict is a refusal.
TEST(PolicyRules, ListingsHideExactlyTheEntriesAWalkWouldBeRefused) {
  Served s("deny ENOENT walk name=.env,id_*,*.pem\ndeny ENOENT walk path=vault\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  std::set<std::string> hidden = {".env", "id_rsa", "id_", "key.pem", ".pem", "vault"};
  std::set<std::string> seen = {".envx", "xid_rsa", "key.pemx", "vaults", "avault", "i", "m"};
  for (int i = 0; i < 3000; ++i) seen.insert("plain" + std::to_string(i));
  for (const auto& n : hidden) write_file(e + "/" + n, "x");
  for (const auto& n : seen) write_file(e + "/" + n, "x");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  auto names = listed(root, {});
  names.erase(".");
  names.erase("..");
  EXPECT_EQ(names, seen);
  for (const auto& n : hidden) EXPECT_EQ(code(root.walk({n})), ENOENT) << n;
}

TEST(PolicyRules, AListingWhoseEveryEntryIsRefusedIsEmpty) {
  // A walk's file type is that of the directory walked from: every walk is refused.
  Served s("deny ENOENT walk type=dir\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  for (int i = 0; i < 3000; ++i) write_file(e + "/f" + std::to_string(i), "x");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  EXPECT_EQ(code(root.walk({"f1"})), ENOENT);
  auto names = listed(root, {});
  names.erase(".");
  names.erase("..");
  EXPECT_TRUE(names.empty()) << names.size() << " listed, first " << *names.begin();
}

TEST(PolicyRules, PathMatchesInsideTheDirectoryAndTheWalkIntoItNotASibling) {
  Served s("deny EPERM create path=box\ndeny ENOENT walk path=vault\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  for (const char* d : {"box", "box/sub", "box-other", "vault", "vault-other"})
    ASSERT_EQ(::mkdir((e + "/" + d).c_str(), 0755), 0) << d;
  write_file(e + "/vault/gold", "x");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);

  // A create inside box (or below it) is refused; the walk into box is not.
  for (auto where : {std::initializer_list<std::string_view>{"box"}, {"box", "sub"}}) {
    auto d = root.walk(where);
    ASSERT_TRUE(d);
    EXPECT_EQ(code(d->mkdir("new", 0755, 0)), EPERM);
    auto f = d->clone();
    ASSERT_TRUE(f);
    EXPECT_EQ(code(f->lcreate("new-file", p9::kORdwr, 0644, 0)), EPERM);
  }
  EXPECT_FALSE(exists(e + "/box/new"));
  EXPECT_FALSE(exists(e + "/box/new-file"));
  EXPECT_FALSE(exists(e + "/box/sub/new"));
  // Creating box itself (its name in its parent) is caught too.
  ASSERT_EQ(::rename((e + "/box").c_str(), (e + "/box-moved").c_str()), 0);
  EXPECT_EQ(code(root.mkdir("box", 0755, 0)), EPERM);
  EXPECT_FALSE(exists(e + "/box"));
  // A sibling whose name starts the same is another directory.
  auto other = root.walk({"box-other"});
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->mkdir("new", 0755, 0));
  EXPECT_TRUE(exists(e + "/box-other/new"));

  // The walk into vault is refused, and vault is not listed; vault-other is reached and listed.
  EXPECT_EQ(code(root.walk({"vault"})), ENOENT);
  EXPECT_EQ(code(root.walk({"vault", "gold"})), ENOENT);
  EXPECT_TRUE(root.walk({"vault-other"}));
  auto top = listed(root, {});
  EXPECT_FALSE(top.contains("vault"));
  EXPECT_TRUE(top.contains("vault-other"));
}

TEST(PolicyRules, UidAndGidMatchTheAttachingIdentity) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (the server switches users only as root)";
  // Unknown to the host's user database: gid = uid.
  constexpr std::uint32_t kA = 43210, kB = 43211;
  Served s("deny EPERM create uid=" + std::to_string(kB) +
           "\ndeny EXDEV remove gid=" + std::to_string(kA) + "\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  ASSERT_EQ(::chmod(e.c_str(), 0777), 0);
  As a(*s.srv, kA), b(*s.srv, kB);
  ASSERT_TRUE(a.session && b.session);
  EXPECT_TRUE(a.root.mkdir("by-a", 0755, kA));
  EXPECT_TRUE(exists(e + "/by-a"));
  EXPECT_EQ(code(b.root.mkdir("by-b", 0755, kB)), EPERM);
  EXPECT_FALSE(exists(e + "/by-b"));
  write_file(e + "/f", "x");
  EXPECT_EQ(code(a.root.unlinkat("f")), EXDEV);
  EXPECT_TRUE(exists(e + "/f"));
  EXPECT_TRUE(b.root.unlinkat("f"));
  EXPECT_FALSE(exists(e + "/f"));
}

TEST(PolicyRules, TypeMatchesTheCreatedTypeOfMknod) {
  Served s("deny EPERM create type=chr,fifo\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  EXPECT_EQ(code(root.mknod("null", S_IFCHR | 0666, 1, 3, 0)), EPERM);
  EXPECT_EQ(code(root.mknod("pipe", S_IFIFO | 0644, 0, 0, 0)), EPERM);
  EXPECT_FALSE(exists(e + "/null"));
  EXPECT_FALSE(exists(e + "/pipe"));
  EXPECT_TRUE(root.mknod("plain", S_IFREG | 0644, 0, 0, 0));
  EXPECT_TRUE(S_ISREG(lstat_of(e + "/plain").st_mode));
  auto dir = root.clone();
  ASSERT_TRUE(dir);
  EXPECT_TRUE(dir->lcreate("file", p9::kORdwr, 0644, 0));
  EXPECT_TRUE(root.mkdir("dir", 0755, 0));
  EXPECT_TRUE(exists(e + "/file"));
  EXPECT_TRUE(exists(e + "/dir"));
}

TEST(PolicyRules, TypeOfAnExistingFileComesFromItsQid) {
  // The qid tells directories and symlinks; devices, fifos and sockets look like files.
  Served s("deny EPERM getattr type=lnk\ndeny EXDEV getattr type=fifo\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  ASSERT_EQ(::symlink("target", (e + "/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((e + "/fifo").c_str(), 0644), 0);
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  auto link = root.walk({"link"});
  ASSERT_TRUE(link);
  EXPECT_EQ(code(link->getattr()), EPERM);
  auto fifo = root.walk({"fifo"});
  ASSERT_TRUE(fifo);
  auto attr = fifo->getattr();
  ASSERT_TRUE(attr) << "a fifo's qid says file, so type=fifo does not match it";
  EXPECT_TRUE(S_ISFIFO(attr->mode));
  EXPECT_TRUE(root.getattr());
}

TEST(PolicyRules, FlagsMatchTheOpenFlags) {
  Served s("deny EACCES open flags=wronly,rdwr,trunc\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  write_file(e + "/f", "content");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  for (std::uint32_t flags : {p9::kOWronly, p9::kORdwr, p9::kORdonly | p9::kOTrunc}) {
    auto f = root.walk({"f"});
    ASSERT_TRUE(f);
    EXPECT_EQ(code(f->lopen(flags)), EACCES) << flags;
  }
  EXPECT_EQ(read_file(e + "/f"), "content");
  auto f = root.walk({"f"});
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->lopen(p9::kORdonly));
  std::vector<std::uint8_t> buf(64);
  auto n = f->read(0, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + static_cast<long>(*n)), "content");
}

TEST(PolicyRules, DenyAnswersItsErrnoAndLeavesTheHostAsItWas) {
  Served s(
      "deny EROFS write,setattr path=frozen\ndeny EBUSY remove,rename name=keep\n"
      "deny EDQUOT create name=*.tmp\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  write_file(e + "/frozen", "cold");
  write_file(e + "/keep", "kept");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  auto f = root.walk({"frozen"});
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->lopen(p9::kORdwr));
  EXPECT_EQ(code(f->write(0, bytes_of("HOT!"))), EROFS);
  client::SetAttr truncate;
  truncate.valid = p9::kSetattrSize;
  EXPECT_EQ(code(f->setattr(truncate)), EROFS);
  EXPECT_EQ(read_file(e + "/frozen"), "cold");
  EXPECT_EQ(code(root.unlinkat("keep")), EBUSY);
  EXPECT_EQ(code(root.renameat("keep", root, "moved")), EBUSY);
  EXPECT_EQ(read_file(e + "/keep"), "kept");
  EXPECT_FALSE(exists(e + "/moved"));
  auto d = root.clone();
  ASSERT_TRUE(d);
  EXPECT_EQ(code(d->lcreate("x.tmp", p9::kORdwr, 0644, 0)), EDQUOT);
  EXPECT_FALSE(exists(e + "/x.tmp"));
  // What no rule refuses works.
  EXPECT_TRUE(root.unlinkat("frozen"));
  EXPECT_FALSE(exists(e + "/frozen"));
}

TEST(PolicyRules, LogServesTheRequestAndLogsIt) {
  Served s("log create name=logged*\nallow all\n");
  ASSERT_TRUE(s.srv);
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  ASSERT_TRUE(root.mkdir("logged-dir", 0755, 0));
  ASSERT_TRUE(root.mkdir("quiet-dir", 0755, 0));
  EXPECT_TRUE(exists(s.srv->export_dir() + "/logged-dir"));
  const std::string log = s.logged();
  std::printf("logged: %s", log.c_str());
  EXPECT_NE(log.find("Tmkdir"), std::string::npos) << log;
  EXPECT_NE(log.find("name 'logged-dir'"), std::string::npos) << log;
  EXPECT_NE(log.find("allowed, logged"), std::string::npos) << log;
  EXPECT_EQ(log.find("quiet-dir"), std::string::npos) << log;
}

TEST(PolicyRules, KillDropsTheConnectionAndOthersAreStillServed) {
  Served s("kill remove name=boom\nallow all\n");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  write_file(e + "/boom", "x");
  write_file(e + "/other", "x");
  auto bystander = s.srv->connect();
  ASSERT_TRUE(bystander);
  auto other_root = attach(*bystander);
  auto victim = s.srv->connect();
  ASSERT_TRUE(victim);
  auto root = attach(*victim);
  EXPECT_FALSE(root.unlinkat("boom"));
  EXPECT_TRUE(exists(e + "/boom"));
  EXPECT_FALSE(root.getattr()) << "the connection is still served";
  EXPECT_TRUE(other_root.getattr());
  EXPECT_TRUE(other_root.unlinkat("other"));
  EXPECT_FALSE(exists(e + "/other"));
  EXPECT_NE(s.logged().find("dropping the connection"), std::string::npos) << s.logged();
}

// ---- The worked examples of docs/policy.md, as the document spells them ----

// The fenced block that follows `title` in docs/policy.md.
std::string example(const std::string& title) {
  std::ifstream in(NINEP_SOURCE_DIR "/docs/policy.md");
  EXPECT_TRUE(in) << "docs/policy.md";
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  const auto at = text.find("**" + title + ".**");
  EXPECT_NE(at, std::string::npos) << title;
  if (at == std::string::npos) return {};
  const auto open = text.find("```\n", at);
  const auto close = open == std::string::npos ? open : text.find("```", open + 4);
  EXPECT_NE(close, std::string::npos) << title;
  if (close == std::string::npos) return {};
  return text.substr(open + 4, close - open - 4);
}

TEST(PolicyRulesExamples, HideSecrets) {
  Served s(example("Hide secrets"));
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  ASSERT_EQ(::mkdir((e + "/.ssh").c_str(), 0700), 0);
  write_file(e + "/.ssh/id_ed25519", "key");
  write_file(e + "/id_rsa", "key");
  write_file(e + "/server.pem", "cert");
  write_file(e + "/notes", "notes");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  for (const char* secret : {".ssh", "id_rsa", "server.pem"})
    EXPECT_EQ(code(root.walk({secret})), ENOENT) << secret;
  EXPECT_EQ(code(root.walk({".ssh", "id_ed25519"})), ENOENT);
  auto names = listed(root, {});
  for (const char* secret : {".ssh", "id_rsa", "server.pem"})
    EXPECT_FALSE(names.contains(secret)) << secret << " listed";
  EXPECT_TRUE(names.contains("notes"));
  auto d = root.clone();
  ASSERT_TRUE(d);
  EXPECT_EQ(code(d->lcreate("stolen.key", p9::kORdwr, 0600, 0)), EACCES);
  EXPECT_EQ(code(root.mkdir(".gnupg", 0700, 0)), EACCES);
  EXPECT_EQ(code(root.renameat("notes", root, "id_ecdsa")), EACCES);
  EXPECT_FALSE(exists(e + "/stolen.key"));
  EXPECT_FALSE(exists(e + "/.gnupg"));
  EXPECT_FALSE(exists(e + "/id_ecdsa"));
  EXPECT_EQ(read_file(e + "/notes"), "notes");
  EXPECT_EQ(read_file(e + "/id_rsa"), "key");
}

TEST(PolicyRulesExamples, ReadOnlyGit) {
  Served s(example("A read-only `.git`"));
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  ASSERT_EQ(::mkdir((e + "/.git").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((e + "/.git/refs").c_str(), 0755), 0);
  write_file(e + "/.git/HEAD", "ref: refs/heads/main\n");
  write_file(e + "/.gitignore", "build/\n");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  // Reading, walking and listing work.
  auto head = root.walk({".git", "HEAD"});
  ASSERT_TRUE(head);
  ASSERT_TRUE(head->lopen(p9::kORdonly));
  std::vector<std::uint8_t> buf(64);
  auto n = head->read(0, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + static_cast<long>(*n)),
            "ref: refs/heads/main\n");
  auto names = listed(root, {".git"});
  EXPECT_TRUE(names.contains("HEAD"));
  EXPECT_TRUE(names.contains("refs"));
  // Changing anything in it does not.
  for (std::uint32_t flags : {p9::kOWronly, p9::kORdwr, p9::kORdonly | p9::kOTrunc}) {
    auto w = root.walk({".git", "HEAD"});
    ASSERT_TRUE(w);
    EXPECT_EQ(code(w->lopen(flags)), EROFS) << flags;
  }
  auto git = root.walk({".git"});
  ASSERT_TRUE(git);
  auto lock = git->clone();
  ASSERT_TRUE(lock);
  EXPECT_EQ(code(lock->lcreate("index.lock", p9::kORdwr, 0644, 0)), EROFS);
  EXPECT_EQ(code(git->walk({"refs"})->mkdir("heads", 0755, 0)), EROFS);
  EXPECT_EQ(code(git->unlinkat("HEAD")), EROFS);
  EXPECT_EQ(code(root.renameat(".git", root, "git-moved")), EROFS);
  EXPECT_EQ(code(root.unlinkat(".git", p9::kAtRemovedir)), EROFS);
  EXPECT_EQ(read_file(e + "/.git/HEAD"), "ref: refs/heads/main\n");
  EXPECT_FALSE(exists(e + "/.git/index.lock"));
  EXPECT_FALSE(exists(e + "/.git/refs/heads"));
  EXPECT_FALSE(exists(e + "/git-moved"));
  // Beside it, everything works.
  auto ignore = root.walk({".gitignore"});
  ASSERT_TRUE(ignore);
  ASSERT_TRUE(ignore->lopen(p9::kORdwr));
  EXPECT_TRUE(ignore->write(0, bytes_of("dists/\n")));
  EXPECT_EQ(read_file(e + "/.gitignore"), "dists/\n");
  EXPECT_TRUE(root.mkdir("src", 0755, 0));
}

TEST(PolicyRulesExamples, OneWriter) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (the server switches users only as root)";
  Served s(example("One writer"));
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  ASSERT_EQ(::chmod(e.c_str(), 0777), 0);
  write_file(e + "/f", "data");
  ASSERT_EQ(::chmod((e + "/f").c_str(), 0666), 0);
  As writer(*s.srv, 1000), reader(*s.srv, 1001);
  ASSERT_TRUE(writer.session && reader.session);
  // Everyone reads.
  for (As* who : {&writer, &reader}) {
    auto f = who->root.walk({"f"});
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->lopen(p9::kORdonly));
    std::vector<std::uint8_t> buf(16);
    auto n = f->read(0, buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 4u);
    EXPECT_TRUE(who->root.getattr());
  }
  // Only uid 1000 changes anything.
  EXPECT_EQ(code(reader.root.mkdir("d", 0755, 1001)), EROFS);
  EXPECT_EQ(code(reader.root.unlinkat("f")), EROFS);
  auto rw = reader.root.walk({"f"});
  ASSERT_TRUE(rw);
  EXPECT_EQ(code(rw->lopen(p9::kORdwr)), EROFS);
  EXPECT_FALSE(exists(e + "/d"));
  EXPECT_EQ(read_file(e + "/f"), "data");
  EXPECT_TRUE(writer.root.mkdir("d", 0755, 1000));
  EXPECT_TRUE(exists(e + "/d"));
  auto ww = writer.root.walk({"f"});
  ASSERT_TRUE(ww);
  ASSERT_TRUE(ww->lopen(p9::kORdwr));
  EXPECT_TRUE(ww->write(0, bytes_of("DATA")));
  EXPECT_EQ(read_file(e + "/f"), "DATA");
  EXPECT_TRUE(writer.root.unlinkat("f"));
  EXPECT_FALSE(exists(e + "/f"));
}

}  // namespace
}  // namespace ninep::servertest
