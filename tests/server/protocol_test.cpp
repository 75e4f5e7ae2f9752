// Protocol-level behaviour of our server, with raw frames: versions, unknown and malformed
// messages, msize bounds on replies, flush ordering, concurrency, Tversion resetting a session.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <mutex>

#include "harness.h"
#include "slow_backend.h"

namespace ninep::servertest {
namespace {

using namespace std::chrono_literals;

// Frames written by hand, for what the encoder refuses to produce.
struct FrameBuilder {
  std::vector<std::uint8_t> b{0, 0, 0, 0};
  FrameBuilder(std::uint8_t type, std::uint16_t tag) {
    u8(type);
    u16(tag);
  }
  FrameBuilder& u8(std::uint8_t v) {
    b.push_back(v);
    return *this;
  }
  FrameBuilder& u16(std::uint16_t v) { return u8(v & 0xff).u8(v >> 8); }
  FrameBuilder& u32(std::uint32_t v) { return u16(v & 0xffff).u16(v >> 16); }
  FrameBuilder& u64(std::uint64_t v) { return u32(v & 0xffffffff).u32(v >> 32); }
  FrameBuilder& str(std::string_view s) {
    u16(static_cast<std::uint16_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  std::vector<std::uint8_t> done(std::optional<std::uint32_t> size = {}) {
    std::uint32_t n = size.value_or(static_cast<std::uint32_t>(b.size()));
    for (int i = 0; i < 4; ++i) b[i] = static_cast<std::uint8_t>(n >> (8 * i));
    return b;
  }
};

struct Fixture {
  std::unique_ptr<InProcessServer> srv;
  std::vector<std::string> log;
  std::mutex log_mu;

  explicit Fixture(InProcessServer::Options o = {}) {
    o.config.log_sink = [this](server::LogLevel, std::string_view line) {
      std::lock_guard lk(log_mu);
      log.emplace_back(line);
    };
    srv = InProcessServer::start(std::move(o));
  }
  RawClient raw() {
    auto fd = srv->connect_raw();
    EXPECT_TRUE(fd) << fd.error().to_string();
    return RawClient(std::move(*fd));
  }
  bool logged(std::string_view what) {
    std::lock_guard lk(log_mu);
    for (auto& l : log)
      if (l.find(what) != std::string::npos) return true;
    return false;
  }
};

InProcessServer::Options slow_fsync(std::chrono::milliseconds d) {
  InProcessServer::Options o;
  o.wrap = [d](std::unique_ptr<server::Backend> in) -> std::unique_ptr<server::Backend> {
    return std::make_unique<SlowFsyncBackend>(std::move(in), d);
  };
  return o;
}

TEST(Protocol, UnknownAndLegacyTypesGetEopnotsupp) {
  Fixture f;
  RawClient c = f.raw();
  c.handshake();
  for (std::uint8_t type : {200, 112 /* Topen */, 124 /* Tstat */, 101 /* an R-message */}) {
    ASSERT_TRUE(c.send_bytes(FrameBuilder(type, 5).u32(0).u8(0).done()));
    auto r = c.recv();
    ASSERT_TRUE(r) << "type " << int(type);
    EXPECT_EQ(r->call.tag, 5);
    EXPECT_EQ(lerror(*r), EOPNOTSUPP) << "type " << int(type);
  }
  ASSERT_TRUE(c.send(6, p9::Tgetattr{0, p9::kGetattrBasic}));
  auto r = c.recv();
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::holds_alternative<p9::Rgetattr>(r->call.msg)) << "the connection carries on";
}

TEST(Protocol, TauthSaysThereIsNoAuthentication) {
  Fixture f;
  RawClient c = f.raw();
  c.handshake();
  ASSERT_TRUE(c.send(3, p9::Tauth{7, "0", "", 0}));
  auto r = c.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(lerror(*r), ENOENT);
}

TEST(Protocol, RequestsBeforeTversionAreRefused) {
  Fixture f;
  RawClient c = f.raw();
  p9::Tattach a;
  a.uname = "0";
  a.n_uname = 0;
  ASSERT_TRUE(c.send(1, a));
  auto r = c.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(lerror(*r), EPROTO);
  c.handshake();
}

TEST(Protocol, UnknownVersionIsAnsweredUnknown) {
  Fixture f;
  RawClient c = f.raw();
  ASSERT_TRUE(c.send(p9::kNoTag, p9::Tversion{65536, "9P2000.u"}));
  auto r = c.recv();
  ASSERT_TRUE(r);
  auto* v = std::get_if<p9::Rversion>(&r->call.msg);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version, "unknown");
}

TEST(Protocol, MsizeIsCappedByTheConfiguration) {
  InProcessServer::Options o;
  o.config.max_msize = 65536;
  Fixture f(std::move(o));
  RawClient c = f.raw();
  ASSERT_TRUE(c.send(p9::kNoTag, p9::Tversion{1u << 24, p9::kVersion}));
  auto r = c.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<p9::Rversion>(r->call.msg).msize, 65536u);
  ASSERT_TRUE(c.send(p9::kNoTag, p9::Tversion{100, p9::kVersion}));
  r = c.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(lerror(*r), EINVAL) << "an msize too small for the replies";
}

TEST(Protocol, TversionClunksEveryFid) {
  Fixture f;
  RawClient c = f.raw();
  c.handshake(65536, 0);
  p9::Twalk w;
  w.fid = 0;
  w.newfid = 1;
  ASSERT_TRUE(c.send(2, w));
  ASSERT_TRUE(c.recv());
  c.handshake(65536, 0);  // fid 0 is free again after Tversion, or this attach would fail
  ASSERT_TRUE(c.send(3, p9::Tgetattr{1, p9::kGetattrBasic}));
  auto r = c.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(lerror(*r), EBADF);
}

TEST(Protocol, GarbageDisconnectsAndTheServerCarriesOn) {
  Fixture f;
  const std::vector<std::vector<std::uint8_t>> garbage = {
      FrameBuilder(110, 1).done(3),          // size below the header
      FrameBuilder(110, 1).done(64u << 20),  // size above msize
      [] {                                   // Twalk with 17 names
        FrameBuilder b(110, 1);
        b.u32(0).u32(1).u16(17);
        for (int i = 0; i < 17; ++i) b.str("x");
        return b.done();
      }(),
      FrameBuilder(120, 1).u16(0).done(),                    // Tclunk with a truncated fid
      FrameBuilder(104, 1).u32(0).u32(~0u).u16(500).done(),  // string longer than the frame
      FrameBuilder(120, 1).u32(0).u32(0).done(),             // trailing garbage
  };
  for (std::size_t i = 0; i < garbage.size(); ++i) {
    RawClient c = f.raw();
    c.handshake();
    ASSERT_TRUE(c.send_bytes(garbage[i]));
    EXPECT_TRUE(c.closed_by_peer()) << "garbage #" << i << " was not disconnected";
  }
  EXPECT_TRUE(f.logged("disconnecting"));
  RawClient ok = f.raw();
  ok.handshake();
}

TEST(Protocol, NoReplyReachesMsize) {
  Fixture f;
  write_file(f.srv->export_dir() + "/big", std::string(200000, 'x'));
  for (int i = 0; i < 300; ++i) write_file(f.srv->export_dir() + "/entry" + std::to_string(i), "");
  std::string target(4095, 't');  // the longest a symlink can hold
  ASSERT_EQ(::symlink(target.c_str(), (f.srv->export_dir() + "/longlink").c_str()), 0);
  RawClient c = f.raw();
  c.handshake(4096, 0);
  auto walk = [&](std::uint32_t newfid, std::string_view name) {
    p9::Twalk w;
    w.fid = 0;
    w.newfid = newfid;
    w.nwname = name.empty() ? 0 : 1;
    w.wnames[0] = name;
    ASSERT_TRUE(c.send(1, w));
    auto r = c.recv();
    ASSERT_TRUE(r && std::holds_alternative<p9::Rwalk>(r->call.msg));
  };
  walk(1, "big");
  walk(2, "");
  walk(3, "longlink");
  ASSERT_TRUE(c.send(1, p9::Tlopen{1, p9::kORdonly}));
  ASSERT_TRUE(c.recv());
  ASSERT_TRUE(c.send(1, p9::Tlopen{2, p9::kORdonly}));
  ASSERT_TRUE(c.recv());
  ASSERT_TRUE(c.send(2, p9::Tread{1, 0, 1u << 20}));
  auto r = c.recv();
  ASSERT_TRUE(r);
  EXPECT_LT(r->frame.size(), 4096u);
  EXPECT_EQ(std::get<p9::Rread>(r->call.msg).data.size(), 4096u - 12);
  std::uint64_t off = 0;
  std::size_t entries = 0;
  for (;;) {
    ASSERT_TRUE(c.send(3, p9::Treaddir{2, off, 1u << 20}));
    auto d = c.recv();
    ASSERT_TRUE(d);
    EXPECT_LT(d->frame.size(), 4096u);
    auto data = std::get<p9::Rreaddir>(d->call.msg).data;
    if (data.empty()) break;
    p9::DirentReader rd(data);
    while (auto e = rd.next()) {
      if (!*e) break;
      off = (*e)->offset;
      ++entries;
    }
  }
  EXPECT_EQ(entries, 304u);  // 300 + big + longlink + . + ..
  ASSERT_TRUE(c.send(4, p9::Treadlink{3}));
  auto rl = c.recv();
  ASSERT_TRUE(rl);
  EXPECT_LT(rl->frame.size(), 4096u);
  EXPECT_EQ(lerror(*rl), ERANGE) << "a target that cannot fit is an error, not a big reply";
}

TEST(Protocol, FlushOfAnUnknownTagIsAnsweredAtOnce) {
  Fixture f;
  RawClient c = f.raw();
  c.handshake();
  ASSERT_TRUE(c.send(9, p9::Tflush{1234}));
  auto r = c.recv(1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->call.tag, 9);
  EXPECT_TRUE(std::holds_alternative<p9::Rflush>(r->call.msg));
}

// An open file on fid 1, for Tfsync.
void open_file(RawClient& c, InProcessServer& srv) {
  write_file(srv.export_dir() + "/f", "x");
  p9::Twalk w;
  w.fid = 0;
  w.newfid = 1;
  w.nwname = 1;
  w.wnames[0] = "f";
  ASSERT_TRUE(c.send(1, w));
  ASSERT_TRUE(c.recv());
  ASSERT_TRUE(c.send(1, p9::Tlopen{1, p9::kORdwr}));
  auto r = c.recv();
  ASSERT_TRUE(r && std::holds_alternative<p9::Rlopen>(r->call.msg));
}

TEST(Protocol, RflushComesAfterTheFlushedRequestsReply) {
  Fixture f(slow_fsync(300ms));
  RawClient c = f.raw();
  c.handshake();
  open_file(c, *f.srv);
  ASSERT_TRUE(c.send(10, p9::Tfsync{1, 0}));
  std::this_thread::sleep_for(50ms);  // let it start
  ASSERT_TRUE(c.send(11, p9::Tflush{10}));
  auto first = c.recv();
  auto second = c.recv();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->call.tag, 10);
  EXPECT_TRUE(std::holds_alternative<p9::Rfsync>(first->call.msg));
  EXPECT_EQ(second->call.tag, 11);
  EXPECT_TRUE(std::holds_alternative<p9::Rflush>(second->call.msg));
}

TEST(Protocol, ASlowRequestDoesNotStallOthers) {
  Fixture f(slow_fsync(1000ms));
  RawClient c = f.raw();
  c.handshake();
  open_file(c, *f.srv);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send(10, p9::Tfsync{1, 0}));
  ASSERT_TRUE(c.send(11, p9::Tgetattr{1, p9::kGetattrBasic}));
  auto first = c.recv();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->call.tag, 11);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 800ms);
  auto second = c.recv();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->call.tag, 10);
}

TEST(Protocol, MoreSlowRequestsThanCpusDoNotStallOthers) {
  // The server runs about as many workers at once as there are CPUs; beyond that a queued
  // request waits for a standby worker, briefly, never for the slow ones to finish.
  const unsigned slow = std::max(2u, std::thread::hardware_concurrency()) + 3;
  InProcessServer::Options o = slow_fsync(1000ms);
  o.config.threads = slow + 2;
  Fixture f(std::move(o));
  RawClient c = f.raw();
  c.handshake();
  open_file(c, *f.srv);
  auto start = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < slow; ++i)
    ASSERT_TRUE(c.send(static_cast<std::uint16_t>(10 + i), p9::Tfsync{1, 0}));
  ASSERT_TRUE(c.send(5, p9::Tgetattr{1, p9::kGetattrBasic}));
  auto first = c.recv();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->call.tag, 5);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 800ms);
  for (unsigned i = 0; i < slow; ++i) {
    auto r = c.recv(3000);
    ASSERT_TRUE(r) << "fsync reply " << i;
    EXPECT_TRUE(std::holds_alternative<p9::Rfsync>(r->call.msg));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1800ms) << "the slow ones ran side by side";
}

TEST(Protocol, ATagReusedWhileInFlightDisconnects) {
  Fixture f(slow_fsync(500ms));
  RawClient c = f.raw();
  c.handshake();
  open_file(c, *f.srv);
  ASSERT_TRUE(c.send(10, p9::Tfsync{1, 0}));
  ASSERT_TRUE(c.send(10, p9::Tgetattr{1, p9::kGetattrBasic}));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(f.logged("reused"));
}

TEST(Protocol, TversionAbortsOutstandingRequests) {
  Fixture f(slow_fsync(300ms));
  RawClient c = f.raw();
  c.handshake();
  open_file(c, *f.srv);
  ASSERT_TRUE(c.send(10, p9::Tfsync{1, 0}));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(c.send(p9::kNoTag, p9::Tversion{65536, p9::kVersion}));
  auto r = c.recv();
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::holds_alternative<p9::Rversion>(r->call.msg))
      << "the aborted request's reply is not sent";
  EXPECT_FALSE(c.recv(500)) << "nothing else arrives";
}

}  // namespace
}  // namespace ninep::servertest
