// Conformance: attributes, open/create/read/write, names (mkdir, symlink, mknod, link, rename,
// unlink, remove), statfs, fsync.
#include <fcntl.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cstring>
#include <random>

#include "conformance.h"

namespace ninep::servertest {
namespace {

std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

TEST_P(Conformance, GetattrMatchesTheHost) {
  write_file(host("f"), "0123456789");
  ASSERT_EQ(::chmod(host("f").c_str(), 0640), 0);
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  auto a = f->getattr(p9::kGetattrAll);
  ASSERT_TRUE(a) << a.error().to_string();
  struct stat st = lstat_of(host("f"));
  EXPECT_EQ(a->valid & p9::kGetattrBasic, p9::kGetattrBasic);
  EXPECT_EQ(a->mode, st.st_mode);
  EXPECT_EQ(a->uid, st.st_uid);
  EXPECT_EQ(a->gid, st.st_gid);
  EXPECT_EQ(a->nlink, st.st_nlink);
  EXPECT_EQ(a->size, 10u);
  EXPECT_EQ(a->blocks, static_cast<std::uint64_t>(st.st_blocks));
  EXPECT_EQ(a->atime_sec, static_cast<std::uint64_t>(st.st_atim.tv_sec));
  EXPECT_EQ(a->mtime_sec, static_cast<std::uint64_t>(st.st_mtim.tv_sec));
  EXPECT_EQ(a->mtime_nsec, static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  EXPECT_EQ(a->ctime_nsec, static_cast<std::uint64_t>(st.st_ctim.tv_nsec));
  EXPECT_EQ(a->qid.path, st.st_ino);
  EXPECT_EQ(a->qid.type, p9::kQtFile);
}

TEST_P(Conformance, QidVersionFollowsTheData) {
  write_file(host("f"), "one");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  auto a1 = f->getattr();
  ASSERT_TRUE(a1);
  DIOD_DIFFERS_IF(a1->qid.version == 0,
                  "diod reports qid.version 0, so the Linux client bypasses its page cache");
  EXPECT_NE(a1->qid.version, 0u);
  write_file(host("f"), "two, longer");
  auto a2 = f->getattr();
  ASSERT_TRUE(a2);
  EXPECT_NE(a2->qid.version, 0u);
  EXPECT_NE(a2->qid.version, a1->qid.version);
}

TEST_P(Conformance, SetattrModeSizeAndOwner) {
  write_file(host("f"), "0123456789");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  client::SetAttr sa;
  sa.valid = p9::kSetattrMode;
  sa.mode = 0604;
  ASSERT_TRUE(f->setattr(sa));
  EXPECT_EQ(lstat_of(host("f")).st_mode & 07777, 0604u);
  sa.valid = p9::kSetattrSize;
  sa.size = 4;
  ASSERT_TRUE(f->setattr(sa));
  EXPECT_EQ(read_file(host("f")), "0123");
  sa.size = 100;
  ASSERT_TRUE(f->setattr(sa));
  EXPECT_EQ(lstat_of(host("f")).st_size, 100);
  if (::getuid() == 0) {
    sa.valid = p9::kSetattrUid | p9::kSetattrGid;
    sa.uid = 1234;
    sa.gid = 5678;
    ASSERT_TRUE(f->setattr(sa));
    struct stat st = lstat_of(host("f"));
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
  }
}

TEST_P(Conformance, SetattrExplicitTimes) {
  write_file(host("f"), "x");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  client::SetAttr sa;
  sa.valid = p9::kSetattrAtime | p9::kSetattrAtimeSet | p9::kSetattrMtime | p9::kSetattrMtimeSet;
  sa.atime_sec = 1000;
  sa.atime_nsec = 500;
  sa.mtime_sec = 2000;
  sa.mtime_nsec = 250;
  ASSERT_TRUE(f->setattr(sa));
  struct stat st = lstat_of(host("f"));
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(st.st_atim.tv_nsec, 500);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 250);
}

TEST_P(Conformance, SetattrTimeWithoutSetMeansNowOnTheServer) {
  write_file(host("f"), "x");
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, host("f").c_str(), old, 0), 0);
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  client::SetAttr sa;
  sa.valid = p9::kSetattrMtime;  // no kSetattrMtimeSet: "now"
  sa.mtime_sec = 5;              // must be ignored
  ASSERT_TRUE(f->setattr(sa));
  struct stat st = lstat_of(host("f"));
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  EXPECT_LE(std::abs(st.st_mtim.tv_sec - now), 5) << "mtime " << st.st_mtim.tv_sec;
  EXPECT_EQ(st.st_atim.tv_sec, 1000) << "atime was not asked for";
}

TEST_P(Conformance, CreateWriteAndReadBack) {
  auto dir = root_.clone();
  ASSERT_TRUE(dir);
  auto oi = dir->lcreate("new", p9::kORdwr, 0640, ::getgid());
  ASSERT_TRUE(oi) << oi.error().to_string();
  EXPECT_EQ(oi->qid.path, lstat_of(host("new")).st_ino);
  EXPECT_EQ(lstat_of(host("new")).st_mode & 07777, 0640u);
  auto data = pattern(3 * 1024 * 1024 + 17, 1);
  auto w = dir->write(0, data);
  ASSERT_TRUE(w) << w.error().to_string();
  EXPECT_EQ(*w, data.size());
  std::string host_data = read_file(host("new"));
  ASSERT_EQ(host_data.size(), data.size());
  EXPECT_EQ(std::memcmp(data.data(), host_data.data(), data.size()), 0);
  std::vector<std::uint8_t> back(data.size() + 100);
  auto r = dir->read(0, back);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, data.size());
  back.resize(*r);
  EXPECT_EQ(back, data);
  std::vector<std::uint8_t> tail(10);
  auto eof = dir->read_some(data.size() + 5, tail);
  ASSERT_TRUE(eof);
  EXPECT_EQ(*eof, 0u);
}

TEST_P(Conformance, CreateExclusiveOfAnExistingNameFails) {
  write_file(host("f"), "x");
  auto dir = root_.clone();
  ASSERT_TRUE(dir);
  auto oi = dir->lcreate("f", p9::kORdwr | p9::kOCreate | p9::kOExcl, 0644, ::getgid());
  ASSERT_FALSE(oi);
  EXPECT_EQ(oi.error().code, EEXIST);
}

TEST_P(Conformance, OpenTruncatesAndAppends) {
  write_file(host("f"), "0123456789");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->lopen(p9::kOWronly | p9::kOTrunc));
  EXPECT_EQ(lstat_of(host("f")).st_size, 0);
  ASSERT_TRUE(f->write(0, bytes_of("abc")));
  auto g = root_.walk({"f"});
  ASSERT_TRUE(g);
  ASSERT_TRUE(g->lopen(p9::kOWronly | p9::kOAppend));
  ASSERT_TRUE(g->write(0, bytes_of("def")));
  EXPECT_EQ(read_file(host("f")), "abcdef");
}

TEST_P(Conformance, ReadOfADirectoryFidIsRefused) {
  auto d = root_.clone();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->lopen(p9::kORdonly));
  std::vector<std::uint8_t> buf(100);
  EXPECT_FALSE(d->read_some(0, buf));
}

TEST_P(Conformance, MkdirSymlinkMknodLink) {
  auto m = root_.mkdir("dir", 0750, ::getgid());
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->type, p9::kQtDir);
  struct stat st = lstat_of(host("dir"));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(m->path, st.st_ino);

  auto s = root_.symlink("lnk", "../some/where", ::getgid());
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->type, p9::kQtSymlink);
  char buf[64] = {};
  ASSERT_GT(::readlink(host("lnk").c_str(), buf, sizeof buf), 0);
  EXPECT_STREQ(buf, "../some/where");
  auto lf = root_.walk({"lnk"});
  ASSERT_TRUE(lf);
  auto target = lf->readlink();
  ASSERT_TRUE(target);
  EXPECT_EQ(*target, "../some/where");

  auto n = root_.mknod("fifo", p9::kSIfifo | 0600, 0, 0, ::getgid());
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_TRUE(S_ISFIFO(lstat_of(host("fifo")).st_mode));

  write_file(host("f"), "x");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  ASSERT_TRUE(root_.link(*f, "hard")) << "link";
  EXPECT_EQ(lstat_of(host("hard")).st_ino, lstat_of(host("f")).st_ino);
  EXPECT_EQ(lstat_of(host("f")).st_nlink, 2u);
}

TEST_P(Conformance, RenameAndRenameat) {
  ASSERT_EQ(::mkdir(host("d").c_str(), 0755), 0);
  write_file(host("f"), "data");
  auto d = root_.walk({"d"});
  ASSERT_TRUE(d);
  ASSERT_TRUE(root_.renameat("f", *d, "g"));
  EXPECT_FALSE(exists(host("f")));
  EXPECT_EQ(read_file(host("d/g")), "data");
  auto g = d->walk({"g"});
  ASSERT_TRUE(g);
  ASSERT_TRUE(g->rename(root_, "h")) << "Trename";
  EXPECT_EQ(read_file(host("h")), "data");
  EXPECT_FALSE(exists(host("d/g")));
}

TEST_P(Conformance, UnlinkatAndRemove) {
  ASSERT_EQ(::mkdir(host("d").c_str(), 0755), 0);
  write_file(host("d/f"), "x");
  write_file(host("g"), "x");
  auto r = root_.unlinkat("d", p9::kAtRemovedir);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ENOTEMPTY);
  auto d = root_.walk({"d"});
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->unlinkat("f"));
  EXPECT_FALSE(exists(host("d/f")));
  ASSERT_TRUE(root_.unlinkat("d", p9::kAtRemovedir));
  EXPECT_FALSE(exists(host("d")));
  auto g = root_.walk({"g"});
  ASSERT_TRUE(g);
  ASSERT_TRUE(g->remove());
  EXPECT_FALSE(exists(host("g")));
}

TEST_P(Conformance, StatfsMatchesTheHost) {
  auto s = root_.statfs();
  ASSERT_TRUE(s) << s.error().to_string();
  struct statvfs vs {};
  ASSERT_EQ(::statvfs(target_->export_dir().c_str(), &vs), 0);
  EXPECT_EQ(s->bsize, vs.f_bsize);
  EXPECT_EQ(s->blocks, vs.f_blocks);
  EXPECT_EQ(s->files, vs.f_files);
  EXPECT_EQ(s->namelen, vs.f_namemax);
}

TEST_P(Conformance, FsyncOfAnOpenFile) {
  auto dir = root_.clone();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(dir->lcreate("f", p9::kORdwr, 0644, ::getgid()));
  ASSERT_TRUE(dir->write(0, bytes_of("x")));
  EXPECT_TRUE(dir->fsync(false));
  EXPECT_TRUE(dir->fsync(true));
}

}  // namespace
}  // namespace ninep::servertest
