// Directory and link operations against diod, checked against the host file system.
#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>

#include <map>
#include <set>

#include "diod_fixture.h"
#include "p9/dirent.h"

namespace ninep::client {
namespace {

std::map<std::string, unsigned char> host_listing(const std::string& dir) {
  std::map<std::string, unsigned char> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) out[e->d_name] = e->d_type;
  ::closedir(d);
  return out;
}

TEST_F(DiodTest, ReaddirListsEveryEntryExactlyOnce) {
  ASSERT_EQ(::mkdir(host("big").c_str(), 0755), 0);
  // Enough entries for many Rreaddir replies at msize 64 KiB, with long names.
  for (int i = 0; i < 3000; ++i)
    write_host_file(host("big/entry-with-a-fairly-long-name-" + std::to_string(i)), "");
  ASSERT_EQ(::mkdir(host("big/sub").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("target", host("big/link").c_str()), 0);
  auto d = root_.walk({"big"});
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->lopen(p9::kORdonly | p9::kODirectory));
  auto entries = d->readdir_all();
  ASSERT_TRUE(entries) << entries.error().to_string();
  auto want = host_listing(host("big"));
  std::map<std::string, unsigned char> got;
  for (const auto& e : *entries) {
    EXPECT_TRUE(got.emplace(e.name, e.type).second) << "duplicate entry " << e.name;
  }
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [name, type] : want) {
    ASSERT_TRUE(got.count(name)) << "missing " << name;
    EXPECT_EQ(got[name], type) << name;
  }
  // Resuming from a cookie in the middle continues right after that entry.
  const auto& mid = (*entries)[entries->size() / 2];
  std::vector<std::uint8_t> buf(4096);
  auto n = d->readdir_some(mid.offset, buf);
  ASSERT_TRUE(n);
  ASSERT_GT(*n, 0u);
  p9::DirentReader rd(std::span<const std::uint8_t>(buf.data(), *n));
  auto first = rd.next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->name, (*entries)[entries->size() / 2 + 1].name);
}

TEST_F(DiodTest, MkdirCreatesDirectoryWithMode) {
  auto q = root_.mkdir("dir", 0750, ::getgid());
  ASSERT_TRUE(q) << q.error().to_string();
  struct stat st = host_lstat(host("dir"));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  EXPECT_EQ(q->path, st.st_ino);
  EXPECT_EQ(q->type, p9::kQtDir);
  auto again = root_.mkdir("dir", 0750, ::getgid());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, EEXIST);
}

TEST_F(DiodTest, SymlinkAndReadlink) {
  auto q = root_.symlink("ln", "some/target", ::getgid());
  ASSERT_TRUE(q) << q.error().to_string();
  char buf[256];
  ssize_t n = ::readlink(host("ln").c_str(), buf, sizeof buf);
  ASSERT_EQ(std::string(buf, n), "some/target");
  EXPECT_EQ(q->type, p9::kQtSymlink);
  ASSERT_EQ(::symlink("/elsewhere/x", host("hostlink").c_str()), 0);
  auto f = root_.walk({"hostlink"});
  ASSERT_TRUE(f);
  auto t = f->readlink();
  ASSERT_TRUE(t) << t.error().to_string();
  EXPECT_EQ(*t, "/elsewhere/x");
}

TEST_F(DiodTest, LinkCreatesHardLink) {
  write_host_file(host("orig"), "data");
  auto f = root_.walk({"orig"});
  ASSERT_TRUE(f);
  auto r = root_.link(*f, "hard");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(host_lstat(host("hard")).st_ino, host_lstat(host("orig")).st_ino);
  EXPECT_EQ(host_lstat(host("orig")).st_nlink, 2u);
}

TEST_F(DiodTest, MknodCreatesFifoAndDevice) {
  auto q = root_.mknod("fifo", S_IFIFO | 0640, 0, 0, ::getgid());
  ASSERT_TRUE(q) << q.error().to_string();
  struct stat st = host_lstat(host("fifo"));
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  auto c = root_.mknod("null", S_IFCHR | 0666, 1, 3, ::getgid());
  ASSERT_TRUE(c) << c.error().to_string();
  st = host_lstat(host("null"));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
}

TEST_F(DiodTest, RenameMovesFileBetweenDirectories) {
  write_host_file(host("a"), "content");
  ASSERT_EQ(::mkdir(host("dir").c_str(), 0755), 0);
  auto f = root_.walk({"a"});
  auto d = root_.walk({"dir"});
  ASSERT_TRUE(f && d);
  auto r = f->rename(*d, "b");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(host_exists(host("a")));
  EXPECT_EQ(read_host_file(host("dir/b")), "content");
}

TEST_F(DiodTest, RenameatWorksWithFallback) {
  write_host_file(host("x"), "1");
  ASSERT_EQ(::mkdir(host("dir").c_str(), 0755), 0);
  auto d = root_.walk({"dir"});
  ASSERT_TRUE(d);
  auto r = root_.renameat("x", *d, "y");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(host_exists(host("x")));
  EXPECT_EQ(read_host_file(host("dir/y")), "1");
  // diod has no Trenameat: the session remembers and goes straight to the fallback.
  EXPECT_TRUE(session_->renameat_unsupported());
  auto again = d->renameat("y", root_, "z");
  ASSERT_TRUE(again);
  EXPECT_EQ(read_host_file(host("z")), "1");
  auto missing = root_.renameat("nope", *d, "q");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(DiodTest, UnlinkatFallsBackToRemoveAndKeepsSemantics) {
  write_host_file(host("file"), "");
  ASSERT_EQ(::mkdir(host("dir").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(host("full").c_str(), 0755), 0);
  write_host_file(host("full/x"), "");
  auto r = root_.unlinkat("file");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(host_exists(host("file")));
  EXPECT_TRUE(session_->unlinkat_unsupported());
  // unlink of a directory and rmdir of a file are refused, and nothing is removed.
  auto isdir = root_.unlinkat("dir");
  ASSERT_FALSE(isdir);
  EXPECT_EQ(isdir.error().code, EISDIR);
  write_host_file(host("file2"), "");
  auto notdir = root_.unlinkat("file2", p9::kAtRemovedir);
  ASSERT_FALSE(notdir);
  EXPECT_EQ(notdir.error().code, ENOTDIR);
  EXPECT_TRUE(host_exists(host("dir")));
  EXPECT_TRUE(host_exists(host("file2")));
  ASSERT_TRUE(root_.unlinkat("dir", p9::kAtRemovedir));
  EXPECT_FALSE(host_exists(host("dir")));
  auto nonempty = root_.unlinkat("full", p9::kAtRemovedir);
  ASSERT_FALSE(nonempty);
  EXPECT_EQ(nonempty.error().code, ENOTEMPTY);
  auto missing = root_.unlinkat("missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
  session_->wait_idle();
  EXPECT_EQ(session_->stats().fids_in_use, 1u);
}

TEST_F(DiodTest, RemoveDeletesAndConsumesTheFid) {
  write_host_file(host("f"), "");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  auto r = f->remove();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(*f);
  EXPECT_FALSE(host_exists(host("f")));
  // A failing remove clunks the fid too.
  ASSERT_EQ(::mkdir(host("d").c_str(), 0755), 0);
  write_host_file(host("d/x"), "");
  auto d = root_.walk({"d"});
  ASSERT_TRUE(d);
  auto fail = d->remove();
  ASSERT_FALSE(fail);
  EXPECT_EQ(fail.error().code, ENOTEMPTY);
  EXPECT_EQ(session_->stats().fids_in_use, 1u);
}

TEST_F(DiodTest, ClunkReportsAndRecyclesFid) {
  auto f = root_.clone();
  ASSERT_TRUE(f);
  EXPECT_EQ(session_->stats().fids_in_use, 2u);
  ASSERT_TRUE(f->clunk());
  EXPECT_FALSE(*f);
  EXPECT_EQ(session_->stats().fids_in_use, 1u);
  auto again = f->clunk();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, EBADF);
}

}  // namespace
}  // namespace ninep::client
