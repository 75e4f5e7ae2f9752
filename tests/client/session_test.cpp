// Session machinery against a scripted peer: version negotiation, tag multiplexing, flush,
// cancellation, dead connections. Deterministic: the test decides when each reply is sent.
#include "client/session.h"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "fake_server.h"

namespace ninep::client {
namespace {

using namespace std::chrono_literals;
using testing::FakeServer;

struct Started {
  std::shared_ptr<Session> session;
  Error error;
  // The fake does not answer the clunks of handles dropped at the end of a test: close at once
  // rather than letting the session wait for them.
  ~Started() {
    if (session) session->shutdown();
  }
};

// Starts a session on the fake, answering Tversion with (msize, version).
Started start(FakeServer& fake, std::uint32_t msize, std::string_view version = p9::kVersion,
              SessionOptions opts = {}) {
  auto fut = std::async(std::launch::async, [&, fd = fake.client_end()]() mutable {
    return Session::start(std::move(fd), opts);
  });
  EXPECT_TRUE(fake.answer_version(msize, version));
  auto r = fut.get();
  if (!r) return {nullptr, r.error()};
  return {*r, {}};
}

// Answers the attach the client sends; returns the root handle.
Fid attach(FakeServer& fake, Session& s) {
  auto fut = std::async(std::launch::async, [&] { return s.attach("root", "/export", 0); });
  auto req = fake.next();
  EXPECT_TRUE(req && req->type() == p9::Type::Tattach);
  if (req) fake.send(req->tag(), p9::Rattach{p9::Qid{p9::kQtDir, 0, 1}});
  auto f = fut.get();
  EXPECT_TRUE(f) << f.error().to_string();
  return f ? std::move(*f) : Fid();
}

TEST(SessionVersionTest, AcceptsLowerMsize) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session) << s.error.to_string();
  EXPECT_EQ(s.session->msize(), 8192u);
  EXPECT_EQ(s.session->max_io(), 8192u - 24);
}

TEST(SessionVersionTest, RequestsConfiguredMsize) {
  FakeServer fake;
  SessionOptions opts;
  opts.msize = 100000;
  auto fut = std::async(std::launch::async, [&, fd = fake.client_end()]() mutable {
    return Session::start(std::move(fd), opts);
  });
  auto req = fake.next();
  ASSERT_TRUE(req);
  ASSERT_EQ(req->type(), p9::Type::Tversion);
  EXPECT_EQ(req->tag(), p9::kNoTag);
  EXPECT_EQ(req->as<p9::Tversion>().msize, 100000u);
  EXPECT_EQ(req->as<p9::Tversion>().version, "9P2000.L");
  fake.send(req->tag(), p9::Rversion{100000, p9::kVersion});
  auto s = fut.get();
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->msize(), 100000u);
}

TEST(SessionVersionTest, DefaultMsizeIs512KiB) {
  FakeServer fake;
  auto fut = std::async(std::launch::async, [fd = fake.client_end()]() mutable {
    return Session::start(std::move(fd));
  });
  auto req = fake.next();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->as<p9::Tversion>().msize, 512u * 1024);
  fake.send(req->tag(), p9::Rversion{512 * 1024, p9::kVersion});
  EXPECT_TRUE(fut.get());
}

TEST(SessionVersionTest, RejectsLargerMsize) {
  FakeServer fake;
  auto s = start(fake, 1024 * 1024);
  ASSERT_FALSE(s.session);
  EXPECT_EQ(s.error.code, EPROTO);
  EXPECT_NE(s.error.message.find("larger"), std::string::npos) << s.error.message;
}

TEST(SessionVersionTest, RejectsOtherVersions) {
  for (std::string_view v : {"9P2000", "9P2000.u", "unknown"}) {
    FakeServer fake;
    auto s = start(fake, 8192, v);
    ASSERT_FALSE(s.session) << v;
    EXPECT_EQ(s.error.code, EPROTO);
    EXPECT_NE(s.error.message.find(std::string(v)), std::string::npos) << s.error.message;
  }
}

TEST(SessionVersionTest, RlerrorToTversionIsAnError) {
  FakeServer fake;
  auto fut = std::async(std::launch::async, [fd = fake.client_end()]() mutable {
    return Session::start(std::move(fd));
  });
  auto req = fake.next();
  ASSERT_TRUE(req);
  fake.send(req->tag(), p9::Rlerror{EINVAL});
  auto s = fut.get();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, EINVAL);
}

TEST(SessionVersionTest, ServerClosingDuringVersionIsAnError) {
  FakeServer fake;
  auto fut = std::async(std::launch::async, [fd = fake.client_end()]() mutable {
    return Session::start(std::move(fd));
  });
  ASSERT_TRUE(fake.next());
  fake.close();
  auto s = fut.get();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ECONNRESET);
}

TEST(SessionTest, RlerrorBecomesErrno) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  auto fut = std::async(std::launch::async, [&] { return s.session->attach("u", "/nope", 0); });
  auto req = fake.next();
  ASSERT_TRUE(req);
  ASSERT_EQ(req->type(), p9::Type::Tattach);
  EXPECT_EQ(req->as<p9::Tattach>().uname, "u");
  EXPECT_EQ(req->as<p9::Tattach>().aname, "/nope");
  EXPECT_EQ(req->as<p9::Tattach>().n_uname, 0u);
  EXPECT_EQ(req->as<p9::Tattach>().afid, p9::kNoFid);
  fake.send(req->tag(), p9::Rlerror{EACCES});
  auto f = fut.get();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, EACCES);
  EXPECT_EQ(s.session->stats().fids_in_use, 0u) << "fid of a failed attach leaked";
}

TEST(SessionTest, RepliesAreMatchedByTagOutOfOrder) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  constexpr int kN = 5;
  std::vector<std::future<Result<Attr>>> calls;
  for (int i = 0; i < kN; ++i)
    calls.push_back(std::async(std::launch::async, [&] { return root.getattr(); }));
  std::vector<FakeServer::Request> reqs;
  for (int i = 0; i < kN; ++i) {
    auto r = fake.next();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->type(), p9::Type::Tgetattr);
    reqs.push_back(std::move(*r));
  }
  // All tags distinct; answer in reverse order with the tag encoded in the reply.
  std::set<std::uint16_t> tags;
  for (auto& r : reqs) tags.insert(r.tag());
  EXPECT_EQ(tags.size(), std::size_t(kN));
  for (auto it = reqs.rbegin(); it != reqs.rend(); ++it) {
    p9::Rgetattr a;
    a.size = 1000 + it->tag();
    fake.send(it->tag(), a);
  }
  std::set<std::uint64_t> sizes;
  for (auto& c : calls) {
    auto a = c.get();
    ASSERT_TRUE(a) << a.error().to_string();
    sizes.insert(a->size);
  }
  std::set<std::uint64_t> want;
  for (auto t : tags) want.insert(1000 + t);
  EXPECT_EQ(sizes, want);
  EXPECT_EQ(s.session->stats().tags_in_use, 0u);
}

// Serial getattrs against a fake that answers each at once, with the given polling maximum.
// Returns the session's stats after checking every reply went to its caller.
SessionStats serial_getattrs(std::chrono::microseconds poll_max, int n) {
  FakeServer fake;
  SessionOptions opts;
  opts.poll_max = poll_max;
  auto s = start(fake, 8192, p9::kVersion, opts);
  EXPECT_TRUE(s.session);
  if (!s.session) return {};
  Fid root = attach(fake, *s.session);
  std::thread server([&] {
    for (int i = 0; i < n; ++i) {
      auto r = fake.next();
      if (!r || r->type() != p9::Type::Tgetattr) return;
      p9::Rgetattr a;
      a.size = 5000 + static_cast<std::uint64_t>(i);
      fake.send(r->tag(), a);
    }
  });
  for (int i = 0; i < n; ++i) {
    auto a = root.getattr();
    EXPECT_TRUE(a && a->size == 5000u + static_cast<std::uint64_t>(i)) << i;
  }
  server.join();
  return s.session->stats();
}

// With polling on, a caller whose request is the only one in flight receives its reply itself
// (the window opens after the first round trips; a generous maximum keeps a loaded machine's
// replies within it). Without polling every reply comes through the reader thread.
TEST(SessionTest, CallerReceivesItsOwnReplyOnlyWhenPolling) {
  auto polled = serial_getattrs(std::chrono::seconds(1), 200);
  EXPECT_GT(polled.own_replies, 0u);
  EXPECT_EQ(polled.tags_in_use, 0u);
  auto blocking = serial_getattrs(std::chrono::microseconds(0), 50);
  EXPECT_EQ(blocking.own_replies, 0u);
}

// A read larger than one request is pipelined: with more than one request in flight, the reader
// thread receives every reply (a caller receiving its first one would hold the others up), and
// the data lands in place.
TEST(SessionTest, PipelinedRequestsAreReceivedByTheReaderThread) {
  FakeServer fake;
  SessionOptions opts;
  opts.poll_max = std::chrono::seconds(1);
  auto s = start(fake, 8192, p9::kVersion, opts);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  const std::size_t io = s.session->max_io();
  constexpr int kGetattrs = 200, kReads = 20, kChunks = 4;
  std::thread server([&] {
    for (int i = 0; i < kGetattrs; ++i) {
      auto r = fake.next();
      if (!r) return;
      fake.send(r->tag(), p9::Rgetattr{});
    }
    // Each read is kChunks requests of io bytes, all answered once all have come (so that
    // every one of them is in flight with the others).
    for (int i = 0; i < kReads; ++i) {
      std::vector<FakeServer::Request> reqs;
      for (int k = 0; k < kChunks; ++k) {
        auto r = fake.next();
        if (!r || r->type() != p9::Type::Tread) return;
        reqs.push_back(std::move(*r));
      }
      for (const auto& r : reqs) {
        const auto& tr = r.as<p9::Tread>();
        std::vector<std::uint8_t> data(tr.count);
        for (std::size_t b = 0; b < data.size(); ++b)
          data[b] = static_cast<std::uint8_t>((tr.offset + b) % 251);
        fake.send(r.tag(), p9::Rread{data});
      }
    }
  });
  // Serial requests open the window: their callers receive their own replies.
  for (int i = 0; i < kGetattrs; ++i) ASSERT_TRUE(root.getattr());
  const auto own_before = s.session->stats().own_replies;
  if (own_before == 0)  // a slow machine (sanitizers): the window never opened, nothing to compare
    GTEST_SKIP() << "no caller received its own reply in " << kGetattrs << " serial requests";
  std::vector<std::uint8_t> buf(kChunks * io);
  for (int i = 0; i < kReads; ++i) {
    auto n = root.read(0, buf);
    ASSERT_TRUE(n) << n.error().to_string();
    ASSERT_EQ(*n, buf.size());
    for (std::size_t k = 0; k < buf.size(); ++k) ASSERT_EQ(buf[k], k % 251) << k;
  }
  EXPECT_EQ(s.session->stats().own_replies, own_before);
  EXPECT_EQ(s.session->stats().tags_in_use, 0u);
  server.join();
}

// A reply that comes long after the caller stopped polling reaches it through the reader thread.
TEST(SessionTest, LateReplyAfterThePollingWindowIsDelivered) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  auto fut = std::async(std::launch::async, [&] { return root.getattr(); });
  auto req = fake.next();
  ASSERT_TRUE(req);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  p9::Rgetattr a;
  a.size = 77;
  fake.send(req->tag(), a);
  auto r = fut.get();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->size, 77u);
}

// An idle session (nothing in flight, polling on: the reader thread does not sit in read()) still
// notices at once that the server went away.
TEST(SessionTest, ServerHangingUpOnAnIdleSessionIsNoticed) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  (void)root.release();  // no clunk to answer
  EXPECT_TRUE(s.session->connected());
  fake.close();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (s.session->connected() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_FALSE(s.session->connected());
}

TEST(SessionTest, UnexpectedReplyTypeIsEproto) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  auto fut = std::async(std::launch::async, [&] { return root.getattr(); });
  auto r = fake.next();
  ASSERT_TRUE(r);
  fake.send(r->tag(), p9::Rclunk{});
  auto a = fut.get();
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, EPROTO);
}

TEST(SessionTest, TimedOutRequestIsFlushedAndWaitsForRflush) {
  FakeServer fake;
  SessionOptions opts;
  opts.request_timeout = 50ms;
  auto s = start(fake, 8192, p9::kVersion, opts);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  auto fut = std::async(std::launch::async, [&] { return root.getattr(); });
  auto req = fake.next();
  ASSERT_TRUE(req);
  auto flush = fake.next();
  ASSERT_TRUE(flush);
  ASSERT_EQ(flush->type(), p9::Type::Tflush);
  EXPECT_EQ(flush->as<p9::Tflush>().oldtag, req->tag());
  EXPECT_NE(flush->tag(), req->tag());
  // The call must not return (and free its tag) before Rflush.
  EXPECT_EQ(fut.wait_for(200ms), std::future_status::timeout);
  EXPECT_EQ(s.session->stats().tags_in_use, 2u);
  fake.send(flush->tag(), p9::Rflush{});
  auto a = fut.get();
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ETIMEDOUT);
  EXPECT_EQ(s.session->stats().tags_in_use, 0u);
  EXPECT_EQ(s.session->stats().flushes, 1u);
  // The tag is usable again and a late reply to it would have been dropped.
  auto fut2 = std::async(std::launch::async, [&] { return root.getattr(); });
  auto req2 = fake.next();
  ASSERT_TRUE(req2);
  p9::Rgetattr ga;
  ga.size = 7;
  fake.send(req2->tag(), ga);
  auto a2 = fut2.get();
  ASSERT_TRUE(a2);
  EXPECT_EQ(a2->size, 7u);
}

TEST(SessionTest, ReplyBeforeRflushCountsAsCompleted) {
  FakeServer fake;
  SessionOptions opts;
  opts.request_timeout = 50ms;
  auto s = start(fake, 8192, p9::kVersion, opts);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  auto fut = std::async(std::launch::async, [&] { return root.getattr(); });
  auto req = fake.next();
  ASSERT_TRUE(req);
  auto flush = fake.next();
  ASSERT_TRUE(flush);
  p9::Rgetattr ga;
  ga.size = 42;
  fake.send(req->tag(), ga);
  fake.send(flush->tag(), p9::Rflush{});
  auto a = fut.get();
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->size, 42u);
}

TEST(SessionTest, StopTokenCancelsWithFlush) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  std::stop_source stop;
  CallOptions co;
  co.stop = stop.get_token();
  auto fut = std::async(std::launch::async, [&] {
    return s.session->call(p9::Tgetattr{root.number(), p9::kGetattrBasic}, co);
  });
  auto req = fake.next();
  ASSERT_TRUE(req);
  stop.request_stop();
  auto flush = fake.next();
  ASSERT_TRUE(flush);
  ASSERT_EQ(flush->type(), p9::Type::Tflush);
  EXPECT_EQ(flush->as<p9::Tflush>().oldtag, req->tag());
  fake.send(flush->tag(), p9::Rflush{});
  auto r = fut.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ECANCELED);
}

TEST(SessionTest, DeadConnectionFailsPendingAndLaterRequestsPromptly) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  constexpr int kN = 6;
  std::vector<std::future<Result<Attr>>> calls;
  for (int i = 0; i < kN; ++i)
    calls.push_back(std::async(std::launch::async, [&] { return root.getattr(); }));
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(fake.next());
  auto t0 = std::chrono::steady_clock::now();
  fake.close();
  for (auto& c : calls) {
    ASSERT_EQ(c.wait_until(t0 + 1s), std::future_status::ready) << "a call hung";
    auto a = c.get();
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code, ECONNRESET) << a.error().to_string();
  }
  EXPECT_FALSE(s.session->connected());
  EXPECT_EQ(s.session->connection_error().code, ECONNRESET);
  auto later = root.getattr();
  ASSERT_FALSE(later);
  EXPECT_TRUE(later.error().code == ECONNRESET || later.error().code == EPIPE);
  // Clunks of dropped handles on a dead session complete locally.
  root = Fid();
  EXPECT_EQ(s.session->stats().fids_in_use, 0u);
  EXPECT_EQ(s.session->stats().tags_in_use, 0u);
}

TEST(SessionTest, LocalShutdownFailsPendingWithEshutdown) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  auto fut = std::async(std::launch::async, [&] { return root.getattr(); });
  ASSERT_TRUE(fake.next());
  s.session->shutdown();
  ASSERT_EQ(fut.wait_for(1s), std::future_status::ready);
  auto a = fut.get();
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ESHUTDOWN);
}

TEST(SessionTest, OversizedReplyFrameIsAProtocolError) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  auto fut = std::async(std::launch::async, [&] { return root.getattr(); });
  ASSERT_TRUE(fake.next());
  const std::uint8_t huge[] = {0x00, 0x00, 0x10, 0x00, 25, 0, 0};  // size 1 MiB > msize
  fake.send_raw(huge);
  ASSERT_EQ(fut.wait_for(1s), std::future_status::ready);
  auto a = fut.get();
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, EPROTO);
}

TEST(SessionTest, DroppedHandleClunksWithoutWaitingAndRecyclesTheFid) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  std::uint32_t root_fid = root.number();
  EXPECT_EQ(s.session->stats().fids_in_use, 1u);
  root = Fid();  // returns at once
  auto clunk = fake.next();
  ASSERT_TRUE(clunk);
  ASSERT_EQ(clunk->type(), p9::Type::Tclunk);
  EXPECT_EQ(clunk->as<p9::Tclunk>().fid, root_fid);
  EXPECT_EQ(s.session->stats().fids_in_use, 1u) << "fid reused before Rclunk";
  fake.send(clunk->tag(), p9::Rclunk{});
  s.session->wait_idle();
  EXPECT_EQ(s.session->stats().fids_in_use, 0u);
  Fid again = attach(fake, *s.session);
  EXPECT_EQ(again.number(), root_fid);
}

TEST(SessionTest, ShortReadsAreContinued) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  std::vector<std::uint8_t> buf(30);
  auto fut = std::async(std::launch::async, [&] { return root.read(0, buf); });
  // The server answers 10 bytes at a time, then end of file after 25.
  std::uint64_t served = 0;
  for (;;) {
    auto r = fake.next();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->type(), p9::Type::Tread);
    const auto& tr = r->as<p9::Tread>();
    EXPECT_EQ(tr.offset, served);
    std::size_t n = std::min<std::size_t>({10, tr.count, 25 - served});
    std::vector<std::uint8_t> data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(served + i);
    fake.send(r->tag(), p9::Rread{data});
    served += n;
    if (n == 0) break;
  }
  auto n = fut.get();
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(*n, 25u);
  for (std::size_t i = 0; i < 25; ++i) EXPECT_EQ(buf[i], i);
}

TEST(SessionTest, ReadLongerThanTheBufferIsAProtocolError) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  std::vector<std::uint8_t> buf(8);
  auto fut = std::async(std::launch::async, [&] { return root.read_some(0, buf); });
  auto r = fake.next();
  ASSERT_TRUE(r);
  std::vector<std::uint8_t> data(16);
  fake.send(r->tag(), p9::Rread{data});
  auto n = fut.get();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, EPROTO);
}

// A descriptor that is not a socket (a serial-like pty) works too, and a local shutdown still
// wakes the reader (which cannot use shutdown(2) on it).
TEST(SessionTest, WorksOverANonSocketDescriptor) {
  FakeServer fake(FakeServer::Channel::Pty);
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session) << s.error.to_string();
  Fid root = attach(fake, *s.session);
  std::vector<std::uint8_t> buf(3000);
  auto fut = std::async(std::launch::async, [&] { return root.read_some(0, buf); });
  auto r = fake.next();
  ASSERT_TRUE(r);
  std::vector<std::uint8_t> data(3000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  fake.send(r->tag(), p9::Rread{data});
  auto n = fut.get();
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(buf, data);
  auto pending = std::async(std::launch::async, [&] { return root.getattr(); });
  ASSERT_TRUE(fake.next());
  s.session->shutdown();
  ASSERT_EQ(pending.wait_for(1s), std::future_status::ready);
  auto a = pending.get();
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ESHUTDOWN);
}

TEST(SessionTest, WalkOfMoreThan16NamesIsSplit) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("d" + std::to_string(i));
  std::vector<std::string_view> views(names.begin(), names.end());
  auto fut = std::async(std::launch::async, [&] { return root.walk(views); });
  auto w1 = fake.next();
  ASSERT_TRUE(w1);
  const auto& t1 = w1->as<p9::Twalk>();
  EXPECT_EQ(t1.fid, root.number());
  EXPECT_EQ(t1.nwname, 16);
  EXPECT_EQ(t1.wnames[15], "d15");
  p9::Rwalk r1;
  r1.nwqid = 16;
  fake.send(w1->tag(), r1);
  auto w2 = fake.next();
  ASSERT_TRUE(w2);
  const auto& t2 = w2->as<p9::Twalk>();
  EXPECT_EQ(t2.fid, t1.newfid);
  EXPECT_EQ(t2.newfid, t1.newfid);
  EXPECT_EQ(t2.nwname, 4);
  EXPECT_EQ(t2.wnames[0], "d16");
  p9::Rwalk r2;
  r2.nwqid = 4;
  r2.qids[3] = p9::Qid{0, 0, 99};
  fake.send(w2->tag(), r2);
  auto f = fut.get();
  ASSERT_TRUE(f) << f.error().to_string();
  EXPECT_EQ(f->number(), t1.newfid);
  EXPECT_EQ(f->qid().path, 99u);
}

TEST(SessionTest, PartialWalkIsEnoentAndLeavesNoFid) {
  FakeServer fake;
  auto s = start(fake, 8192);
  ASSERT_TRUE(s.session);
  Fid root = attach(fake, *s.session);
  auto fut = std::async(std::launch::async, [&] { return root.walk({"a", "b", "c"}); });
  auto w = fake.next();
  ASSERT_TRUE(w);
  p9::Rwalk r;
  r.nwqid = 1;
  fake.send(w->tag(), r);
  auto f = fut.get();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ENOENT);
  // newfid is clunked in case the server created it anyway (diod does); its number is reused
  // only after the answer.
  auto clunk = fake.next();
  ASSERT_TRUE(clunk);
  ASSERT_EQ(clunk->type(), p9::Type::Tclunk);
  EXPECT_EQ(clunk->as<p9::Tclunk>().fid, w->as<p9::Twalk>().newfid);
  fake.send(clunk->tag(), p9::Rlerror{EBADF});
  s.session->wait_idle();
  EXPECT_EQ(s.session->stats().fids_in_use, 1u);  // only the root
}

}  // namespace
}  // namespace ninep::client
