// Conformance: extended attributes (Txattrwalk/Txattrcreate flow) and byte-range locks between
// connections, including flushing a blocked lock.
#include <fcntl.h>
#include <sys/xattr.h>

#include <chrono>
#include <future>
#include <thread>

#include "conformance.h"

namespace ninep::servertest {
namespace {

using namespace std::chrono_literals;

std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

TEST_P(Conformance, XattrSetGetListRemove) {
  write_file(host("f"), "x");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  auto set = f->xattr_set("user.ninep", bytes_of("value-1"));
  ASSERT_TRUE(set) << set.error().to_string();
  char buf[64] = {};
  ASSERT_EQ(::getxattr(host("f").c_str(), "user.ninep", buf, sizeof buf), 7);
  EXPECT_STREQ(buf, "value-1");
  auto got = f->xattr_get("user.ninep");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(*got, bytes_of("value-1"));
  auto names = f->xattr_list();
  ASSERT_TRUE(names);
  EXPECT_NE(std::find(names->begin(), names->end(), "user.ninep"), names->end());
  ASSERT_TRUE(f->xattr_remove("user.ninep"));
  EXPECT_LT(::getxattr(host("f").c_str(), "user.ninep", buf, sizeof buf), 0);
  EXPECT_EQ(errno, ENODATA);
}

TEST_P(Conformance, XattrGetOfAMissingNameIsEnodata) {
  write_file(host("f"), "x");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  auto got = f->xattr_get("user.missing");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ENODATA);
}

TEST_P(Conformance, XattrCreateFlagRefusesAnExistingName) {
  write_file(host("f"), "x");
  ASSERT_EQ(::setxattr(host("f").c_str(), "user.a", "1", 1, 0), 0);
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  auto r = f->xattr_set("user.a", bytes_of("2"), 1 /* XATTR_CREATE */);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EEXIST);
}

TEST_P(Conformance, XattrWithFewerBytesThanAnnouncedFailsAtClunk) {
  write_file(host("f"), "x");
  auto f = root_.walk({"f"});
  ASSERT_TRUE(f);
  const auto fid = f->release();
  p9::Txattrcreate xc;
  xc.fid = fid;
  xc.name = "user.short";
  xc.attr_size = 10;
  ASSERT_EQ(raw<p9::Rxattrcreate>(xc), 0);
  auto data = bytes_of("12345");
  auto w = session_->call_write(p9::Twrite{fid, 0, data});
  ASSERT_TRUE(w);
  const int clunk = raw<p9::Rclunk>(p9::Tclunk{fid});
  session_->release_fid(fid);
  DIOD_DIFFERS_IF(clunk == 0, "diod answers Rclunk although fewer bytes arrived than announced");
  EXPECT_NE(clunk, 0) << "5 of 10 announced bytes must not be committed silently";
  char buf[16];
  EXPECT_LT(::getxattr(host("f").c_str(), "user.short", buf, sizeof buf), 0);
}

struct LockFixture {
  std::shared_ptr<client::Session> session;
  client::Fid root, file;
};

LockFixture open_for_locking(Target& t, const std::string& name) {
  LockFixture lf;
  std::tie(lf.session, lf.root) = t.attach();
  auto f = lf.root.walk({name});
  EXPECT_TRUE(f);
  if (!f) return lf;
  lf.file = std::move(*f);
  EXPECT_TRUE(lf.file.lopen(p9::kORdwr));
  return lf;
}

client::LockRequest wrlock(std::uint64_t start, std::uint64_t len, std::uint32_t pid,
                           std::uint32_t flags = 0) {
  client::LockRequest r;
  r.type = p9::kLockWrlck;
  r.start = start;
  r.length = len;
  r.proc_id = pid;
  r.flags = flags;
  r.client_id = "host-" + std::to_string(pid);
  return r;
}

TEST_P(Conformance, LocksConflictBetweenConnections) {
  write_file(host("f"), "0123456789");
  auto a = open_for_locking(*target_, "f");
  auto b = open_for_locking(*target_, "f");
  ASSERT_TRUE(a.file.is_open() && b.file.is_open());
  auto la = a.file.lock(wrlock(0, 100, 111));
  ASSERT_TRUE(la);
  EXPECT_EQ(*la, p9::kLockSuccess);
  auto lb = b.file.lock(wrlock(50, 10, 222));
  ASSERT_TRUE(lb);
  EXPECT_EQ(*lb, p9::kLockBlocked);
  DIOD_DIFFERS(
      "diod treats every lock as covering the whole file (a lock on a free range is "
      "BLOCKED) and Tgetlock echoes the requested range instead of the holder's");
  auto other = b.file.lock(wrlock(200, 10, 222));
  ASSERT_TRUE(other);
  EXPECT_EQ(*other, p9::kLockSuccess) << "a range nobody holds";
  auto gl = b.file.getlock(wrlock(60, 1, 222));
  ASSERT_TRUE(gl);
  EXPECT_EQ(gl->type, p9::kLockWrlck);
  EXPECT_EQ(gl->start, 0u);
  EXPECT_EQ(gl->length, 100u);
  EXPECT_EQ(gl->proc_id, 111u) << "GETLOCK reports the holder";
  EXPECT_EQ(gl->client_id, "host-111");
  auto unl = wrlock(0, 100, 111);
  unl.type = p9::kLockUnlck;
  ASSERT_TRUE(a.file.lock(unl));
  auto lb2 = b.file.lock(wrlock(50, 10, 222));
  ASSERT_TRUE(lb2);
  EXPECT_EQ(*lb2, p9::kLockSuccess);
  auto free = a.file.getlock(wrlock(300, 10, 111));
  ASSERT_TRUE(free);
  EXPECT_EQ(free->type, p9::kLockUnlck);
}

// Lock owners are client processes (proc_id, client_id), not fids: a process's locks through
// two fids of one file do not conflict, two processes sharing one fid (after fork) do, and any
// fid of the owner unlocks them all, as with POSIX locks on a local file.
TEST_P(Conformance, LocksBelongToTheProcessNotTheFid) {
  write_file(host("f"), "0123456789");
  auto a = open_for_locking(*target_, "f");
  ASSERT_TRUE(a.file.is_open());
  auto second = a.root.walk({"f"});
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->lopen(p9::kORdwr));
  auto first = a.file.lock(wrlock(0, 100, 7));
  ASSERT_TRUE(first);
  ASSERT_EQ(*first, p9::kLockSuccess);
  auto same_owner = second->lock(wrlock(50, 10, 7));
  ASSERT_TRUE(same_owner);
  DIOD_DIFFERS_IF(*same_owner == p9::kLockBlocked,
                  "diod's locks belong to the fid, so one process conflicts with itself");
  EXPECT_EQ(*same_owner, p9::kLockSuccess) << "one process, two fids";
  auto other_process = a.file.lock(wrlock(0, 1, 8));
  ASSERT_TRUE(other_process);
  EXPECT_EQ(*other_process, p9::kLockBlocked) << "two processes sharing one fid";
  auto own = second->getlock(wrlock(0, 100, 7));
  ASSERT_TRUE(own);
  EXPECT_EQ(own->type, p9::kLockUnlck) << "a process's own locks are no conflict to it";
  auto theirs = second->getlock(wrlock(0, 1, 8));
  ASSERT_TRUE(theirs);
  EXPECT_EQ(theirs->type, p9::kLockWrlck);
  EXPECT_EQ(theirs->proc_id, 7u);

  auto unl = wrlock(0, 0, 7);
  unl.type = p9::kLockUnlck;
  ASSERT_TRUE(second->lock(unl));  // through the other fid: releases what came through `a`
  auto now_free = a.file.lock(wrlock(0, 1, 8));
  ASSERT_TRUE(now_free);
  EXPECT_EQ(*now_free, p9::kLockSuccess);
}

TEST_P(Conformance, ClunkReleasesTheOwnersLocks) {
  write_file(host("f"), "x");
  auto a = open_for_locking(*target_, "f");
  auto b = open_for_locking(*target_, "f");
  ASSERT_EQ(*a.file.lock(wrlock(0, 0, 1)), p9::kLockSuccess);
  ASSERT_EQ(*b.file.lock(wrlock(0, 0, 2)), p9::kLockBlocked);
  ASSERT_TRUE(a.file.clunk());
  auto after = b.file.lock(wrlock(0, 0, 2));
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, p9::kLockSuccess);
}

TEST_P(Conformance, ReadLocksShare) {
  write_file(host("f"), "x");
  auto a = open_for_locking(*target_, "f");
  auto b = open_for_locking(*target_, "f");
  auto r = wrlock(0, 0, 1);
  r.type = p9::kLockRdlck;
  auto ra = a.file.lock(r);
  auto rb = b.file.lock(r);
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(*ra, p9::kLockSuccess);
  EXPECT_EQ(*rb, p9::kLockSuccess);
}

TEST_P(Conformance, BlockingLockWaitsForTheHolder) {
  write_file(host("f"), "x");
  auto a = open_for_locking(*target_, "f");
  auto b = open_for_locking(*target_, "f");
  ASSERT_EQ(*a.file.lock(wrlock(0, 0, 1)), p9::kLockSuccess);
  auto waiter = std::async(std::launch::async,
                           [&] { return b.file.lock(wrlock(0, 0, 2, p9::kLockFlagBlock)); });
  auto early = waiter.wait_for(300ms);
  if (early == std::future_status::ready) {
    auto st = waiter.get();
    DIOD_DIFFERS(
        "diod answers BLOCKED at once instead of waiting, so the Linux client sleeps "
        "and retries (up to 30 s later)");
    FAIL() << "a blocking lock returned while the range was held";
  }
  auto unl = wrlock(0, 0, 1);
  unl.type = p9::kLockUnlck;
  ASSERT_TRUE(a.file.lock(unl));
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready);
  auto st = waiter.get();
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(*st, p9::kLockSuccess);
}

TEST_P(Conformance, FlushOfABlockedLockCancelsIt) {
  write_file(host("f"), "x");
  auto a = open_for_locking(*target_, "f");
  auto b = open_for_locking(*target_, "f");
  ASSERT_EQ(*a.file.lock(wrlock(0, 0, 1)), p9::kLockSuccess);
  p9::Tlock tl;
  tl.fid = b.file.number();
  tl.type = p9::kLockWrlck;
  tl.flags = p9::kLockFlagBlock;
  tl.proc_id = 2;
  tl.client_id = "b";
  std::uint8_t status = 255;
  client::CallOptions co;
  co.timeout = 300ms;  // then the client flushes the request and waits for Rflush
  auto r = b.session->call(
      p9::Message(tl),
      [&](const p9::Message& m) -> Result<void> {
        status = std::get<p9::Rlock>(m).status;
        return {};
      },
      co);
  if (r) {
    DIOD_DIFFERS("diod answers BLOCKED at once, so there is no blocked request to flush");
    FAIL() << "the lock was answered while held, status " << int(status);
  }
  EXPECT_EQ(r.error().code, ETIMEDOUT) << r.error().to_string();
  EXPECT_TRUE(b.session->connected()) << "Rflush came back";
  // The flushed request must never be granted later: once A unlocks, a third party gets it.
  auto unl = wrlock(0, 0, 1);
  unl.type = p9::kLockUnlck;
  ASSERT_TRUE(a.file.lock(unl));
  std::this_thread::sleep_for(200ms);  // longer than the server's retry interval
  auto c = open_for_locking(*target_, "f");
  auto lc = c.file.lock(wrlock(0, 0, 3));
  ASSERT_TRUE(lc);
  EXPECT_EQ(*lc, p9::kLockSuccess);
  EXPECT_TRUE(b.file.getattr()) << "the connection still serves";
}

}  // namespace
}  // namespace ninep::servertest
