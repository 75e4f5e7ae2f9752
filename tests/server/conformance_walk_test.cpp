// Conformance: version, attach, walk (full, partial, clone, in place, ".."), fid errors.
#include <fcntl.h>

#include "conformance.h"

namespace ninep::servertest {
namespace {

TEST_P(Conformance, MsizeIsTheClientsCappedByTheServer) {
  client::SessionOptions o;
  o.msize = 8192;
  auto [s, r] = target_->attach(o);
  EXPECT_EQ(s->msize(), 8192u);
  o.msize = 4u << 20;
  auto [big, r2] = target_->attach(o);
  // diod's maximum is 64 KiB; ours is --msize (1 MiB by default, the Linux client's maximum).
  EXPECT_EQ(big->msize(), diod() ? 65536u : (1u << 20));
}

TEST_P(Conformance, AttachToAnUnknownExportFails) {
  auto r = session_->attach(std::to_string(::getuid()), "/no/such/export", ::getuid());
  EXPECT_FALSE(r);
  EXPECT_TRUE(session_->connected());
}

TEST_P(Conformance, RootIsADirectoryWithTheExportsInode) {
  EXPECT_TRUE(root_.is_dir());
  EXPECT_EQ(root_.qid().path, lstat_of(target_->export_dir()).st_ino);
}

TEST_P(Conformance, WalkOfSeveralNamesGivesOneQidEach) {
  ASSERT_EQ(::mkdir(host("a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(host("a/b").c_str(), 0755), 0);
  write_file(host("a/b/f"), "x");
  auto newfid = session_->alloc_fid();
  ASSERT_TRUE(newfid);
  p9::Twalk w;
  w.fid = root_.number();
  w.newfid = *newfid;
  w.nwname = 3;
  w.wnames[0] = "a";
  w.wnames[1] = "b";
  w.wnames[2] = "f";
  p9::Rwalk rw;
  ASSERT_EQ(raw(w, &rw), 0);
  ASSERT_EQ(rw.nwqid, 3);
  EXPECT_EQ(rw.qids[0].path, lstat_of(host("a")).st_ino);
  EXPECT_EQ(rw.qids[0].type, p9::kQtDir);
  EXPECT_EQ(rw.qids[1].path, lstat_of(host("a/b")).st_ino);
  EXPECT_EQ(rw.qids[2].path, lstat_of(host("a/b/f")).st_ino);
  EXPECT_EQ(rw.qids[2].type, p9::kQtFile);
  EXPECT_EQ(raw<p9::Rclunk>(p9::Tclunk{*newfid}), 0);
}

TEST_P(Conformance, PartialWalkAnswersTheQidsThatSucceededAndCreatesNoFid) {
  ASSERT_EQ(::mkdir(host("a").c_str(), 0755), 0);
  auto newfid = session_->alloc_fid();
  ASSERT_TRUE(newfid);
  p9::Twalk w;
  w.fid = root_.number();
  w.newfid = *newfid;
  w.nwname = 3;
  w.wnames[0] = "a";
  w.wnames[1] = "missing";
  w.wnames[2] = "b";
  p9::Rwalk rw;
  ASSERT_EQ(raw(w, &rw), 0) << "a failure after the first element is not an error";
  EXPECT_EQ(rw.nwqid, 1);
  EXPECT_EQ(rw.qids[0].path, lstat_of(host("a")).st_ino);
  const int clunk = raw<p9::Rclunk>(p9::Tclunk{*newfid});
  DIOD_DIFFERS_IF(clunk == 0,
                  "diod leaves newfid allocated after a partial walk (9P says the "
                  "walk did not happen for newfid)");
  EXPECT_NE(clunk, 0) << "newfid must not exist";
}

TEST_P(Conformance, WalkFailingOnTheFirstNameIsAnError) {
  auto newfid = session_->alloc_fid();
  ASSERT_TRUE(newfid);
  p9::Twalk w;
  w.fid = root_.number();
  w.newfid = *newfid;
  w.nwname = 2;
  w.wnames[0] = "missing";
  w.wnames[1] = "x";
  EXPECT_EQ(raw<p9::Rwalk>(w), ENOENT);
  EXPECT_NE(raw<p9::Rclunk>(p9::Tclunk{*newfid}), 0);
}

TEST_P(Conformance, WalkWithNoNamesClonesTheFid) {
  auto c = root_.clone();
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->qid(), root_.qid());
  auto a = c->getattr();
  ASSERT_TRUE(a);
  EXPECT_TRUE(S_ISDIR(a->mode));
  ASSERT_TRUE(c->clunk());
  EXPECT_TRUE(root_.getattr()) << "the original is independent of the clone";
}

TEST_P(Conformance, WalkInPlaceMovesTheFid) {
  ASSERT_EQ(::mkdir(host("d").c_str(), 0755), 0);
  auto c = root_.clone();
  ASSERT_TRUE(c);
  p9::Twalk w;
  w.fid = c->number();
  w.newfid = c->number();
  w.nwname = 1;
  w.wnames[0] = "d";
  p9::Rwalk rw;
  ASSERT_EQ(raw(w, &rw), 0);
  ASSERT_EQ(rw.nwqid, 1);
  p9::Rgetattr ga;
  ASSERT_EQ(raw(p9::Tgetattr{c->number(), p9::kGetattrBasic}, &ga), 0);
  EXPECT_EQ(ga.qid.path, lstat_of(host("d")).st_ino);
}

TEST_P(Conformance, DotDotAtTheRootStaysAtTheRoot) {
  auto up = root_.walk({"..", "..", ".."});
  ASSERT_TRUE(up) << up.error().to_string();
  DIOD_DIFFERS_IF(up->qid().path != root_.qid().path,
                  "diod lets '..' climb above the export root (an escape)");
  EXPECT_EQ(up->qid().path, root_.qid().path);
  ASSERT_EQ(::mkdir(host("d").c_str(), 0755), 0);
  auto back = root_.walk({"d", "..", "..", "d"});
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->qid().path, lstat_of(host("d")).st_ino);
}

TEST_P(Conformance, SixteenNamesInOneWalk) {
  std::string rel;
  std::vector<std::string> names;
  for (int i = 0; i < 16; ++i) {
    names.push_back("n" + std::to_string(i));
    rel += (i ? "/" : "") + names.back();
    ASSERT_EQ(::mkdir(host(rel).c_str(), 0755), 0);
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  auto f = root_.walk(views);
  ASSERT_TRUE(f) << f.error().to_string();
  EXPECT_EQ(f->qid().path, lstat_of(host(rel)).st_ino);
}

TEST_P(Conformance, WalkFromAFileFails) {
  write_file(host("f"), "x");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  auto newfid = session_->alloc_fid();
  ASSERT_TRUE(newfid);
  p9::Twalk w;
  w.fid = f->number();
  w.newfid = *newfid;
  w.nwname = 1;
  w.wnames[0] = "x";
  EXPECT_EQ(raw<p9::Rwalk>(w), ENOTDIR);
}

TEST_P(Conformance, RequestsOnAnUnknownFidFail) {
  EXPECT_NE(raw<p9::Rgetattr>(p9::Tgetattr{987654, p9::kGetattrBasic}), 0);
  EXPECT_NE(raw<p9::Rclunk>(p9::Tclunk{987654}), 0);
  EXPECT_TRUE(session_->connected());
}

TEST_P(Conformance, WalkToANewfidInUseFails) {
  auto a = root_.clone();
  auto b = root_.clone();
  ASSERT_TRUE(a && b);
  p9::Twalk w;
  w.fid = a->number();
  w.newfid = b->number();
  const int err = raw<p9::Rwalk>(w);
  DIOD_DIFFERS_IF(err == 0, "diod accepts a Twalk whose newfid is already in use");
  EXPECT_NE(err, 0);
}

TEST_P(Conformance, ClunkedFidIsGone) {
  auto a = root_.clone();
  ASSERT_TRUE(a);
  const auto n = a->number();
  ASSERT_EQ(raw<p9::Rclunk>(p9::Tclunk{n}), 0);
  EXPECT_NE(raw<p9::Rgetattr>(p9::Tgetattr{n, p9::kGetattrBasic}), 0);
  a->release();
  session_->release_fid(n);
}

}  // namespace
}  // namespace ninep::servertest
