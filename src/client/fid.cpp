// Fid handle basics, walking, attributes and open-file I/O.
#include "client/fid.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "client/session.h"
#include "client/session_impl.h"

namespace ninep::client {
namespace {

// Large reads and writes keep this many requests in flight (bounded by kMaxWindowBytes).
constexpr std::size_t kMaxInFlight = 16;
constexpr std::size_t kMaxWindowBytes = 8u << 20;

template <typename R>
auto capture(R& out) {
  return [&out](const p9::Message& m) -> Result<void> {
    out = std::get<R>(m);
    return {};
  };
}

}  // namespace

Fid::Fid(std::shared_ptr<Session> session, std::uint32_t fid, p9::Qid qid)
    : session_(std::move(session)), fid_(fid), qid_(qid) {}

Fid::Fid(Fid&& o) noexcept
    : session_(std::move(o.session_)),
      fid_(std::exchange(o.fid_, p9::kNoFid)),
      iounit_(std::exchange(o.iounit_, 0)),
      qid_(o.qid_) {}

Fid& Fid::operator=(Fid&& o) noexcept {
  if (this != &o) {
    reset();
    session_ = std::move(o.session_);
    fid_ = std::exchange(o.fid_, p9::kNoFid);
    iounit_ = std::exchange(o.iounit_, 0);
    qid_ = o.qid_;
  }
  return *this;
}

Fid::~Fid() {
  reset();
}

void Fid::reset() {
  if (session_) session_->clunk_async(fid_);
  session_.reset();
  fid_ = p9::kNoFid;
  iounit_ = 0;
}

std::uint32_t Fid::release() {
  session_.reset();
  iounit_ = 0;
  return std::exchange(fid_, p9::kNoFid);
}

// Completes a request that consumes the fid (Tclunk, Tremove): the server forgets the fid
// whatever the reply, unless the request was flushed before it ran.
static Result<void> retire_fid(Session& s, std::uint32_t fid, Result<void> r) {
  if (!r && (r.error().code == ETIMEDOUT || r.error().code == ECANCELED) && s.connected())
    s.clunk_async(fid);
  else
    s.release_fid(fid);
  return r;
}

Result<void> Fid::clunk() {
  if (!session_) return fail(EBADF, "clunk of an empty fid handle");
  auto s = std::move(session_);
  std::uint32_t fid = release();
  return retire_fid(*s, fid, s->call(p9::Tclunk{fid}));
}

Result<void> Fid::remove() {
  if (!session_) return fail(EBADF, "remove through an empty fid handle");
  auto s = std::move(session_);
  std::uint32_t fid = release();
  return retire_fid(*s, fid, s->call(p9::Tremove{fid}));
}

// ---- walking ----

Result<Fid> Fid::walk(std::span<const std::string_view> names) const {
  if (!session_) return fail(EBADF, "walk from an empty fid handle");
  auto newfid = session_->alloc_fid();
  if (!newfid) return std::unexpected(newfid.error());
  Fid result;  // owns newfid once the server knows it
  std::uint32_t from = fid_;
  p9::Qid last = qid_;
  std::size_t done = 0;
  do {
    std::size_t n = std::min(names.size() - done, p9::kMaxWalkElems);
    p9::Twalk req;
    req.fid = from;
    req.newfid = *newfid;
    req.nwname = static_cast<std::uint16_t>(n);
    std::copy_n(names.begin() + static_cast<std::ptrdiff_t>(done), n, req.wnames.begin());
    std::uint16_t nwqid = 0;
    auto r = session_->call(req, [&](const p9::Message& m) -> Result<void> {
      const auto& rw = std::get<p9::Rwalk>(m);
      nwqid = rw.nwqid;
      if (nwqid > n) return fail(EPROTO, "Rwalk has more qids than names walked");
      if (nwqid > 0) last = rw.qids[nwqid - 1];
      return {};
    });
    bool complete = r && nwqid == n;
    if (!result) {
      // First Twalk: newfid exists on the server only after a complete walk.
      if (!complete) {
        if (!r) {
          session_->release_fid(*newfid);
          return std::unexpected(r.error());
        }
        // A partial walk must leave newfid unused, but some servers (diod) create it at the
        // last element reached: clunk it to be sure (a compliant server answers Rlerror).
        session_->clunk_async(*newfid);
        return fail(ENOENT);
      }
      result = Fid(session_, *newfid, last);
    } else if (!complete) {
      // A failed walk in place leaves the fid where it was; `result` clunks it.
      if (!r) return std::unexpected(r.error());
      return fail(ENOENT);
    }
    result.qid_ = last;
    from = *newfid;
    done += n;
  } while (done < names.size());
  return result;
}

Result<Fid> Fid::walk(std::initializer_list<std::string_view> names) const {
  return walk(std::span<const std::string_view>(names.begin(), names.size()));
}

Result<Fid> Fid::walk_path(std::string_view path) const {
  std::vector<std::string_view> names;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (!part.empty() && part != ".") names.push_back(part);
    i = j + 1;
  }
  return walk(names);
}

Result<Fid> Fid::clone() const {
  return walk(std::span<const std::string_view>{});
}

// ---- attributes ----

Result<Attr> Fid::getattr(std::uint64_t mask) const {
  if (!session_) return fail(EBADF);
  Attr a;
  auto r = session_->call(p9::Tgetattr{fid_, mask}, capture(a));
  if (!r) return std::unexpected(r.error());
  return a;
}

Result<void> Fid::setattr(const SetAttr& a) const {
  if (!session_) return fail(EBADF);
  return session_->call(p9::Tsetattr{fid_, a.valid, a.mode, a.uid, a.gid, a.size, a.atime_sec,
                                     a.atime_nsec, a.mtime_sec, a.mtime_nsec});
}

Result<StatFs> Fid::statfs() const {
  if (!session_) return fail(EBADF);
  StatFs s;
  auto r = session_->call(p9::Tstatfs{fid_}, capture(s));
  if (!r) return std::unexpected(r.error());
  return s;
}

// ---- open files ----

Result<OpenInfo> Fid::lopen(std::uint32_t flags) {
  if (!session_) return fail(EBADF);
  p9::Rlopen ro;
  auto r = session_->call(p9::Tlopen{fid_, flags}, capture(ro));
  if (!r) return std::unexpected(r.error());
  qid_ = ro.qid;
  std::uint32_t max = session_->max_io();
  iounit_ = ro.iounit ? std::min(ro.iounit, max) : max;
  return OpenInfo{ro.qid, iounit_};
}

Result<OpenInfo> Fid::lcreate(std::string_view name, std::uint32_t flags, std::uint32_t mode,
                              std::uint32_t gid) {
  if (!session_) return fail(EBADF);
  p9::Rlcreate rc;
  auto r = session_->call(p9::Tlcreate{fid_, name, flags, mode, gid}, capture(rc));
  if (!r) return std::unexpected(r.error());
  qid_ = rc.qid;
  std::uint32_t max = session_->max_io();
  iounit_ = rc.iounit ? std::min(rc.iounit, max) : max;
  return OpenInfo{rc.qid, iounit_};
}

Result<std::size_t> Fid::read_some(std::uint64_t offset, std::span<std::uint8_t> buf) const {
  if (!session_) return fail(EBADF);
  std::uint32_t io = iounit_ ? iounit_ : session_->max_io();
  auto count = static_cast<std::uint32_t>(std::min<std::size_t>(buf.size(), io));
  return session_->call_read(p9::Tread{fid_, offset, count}, buf);
}

namespace {

struct Chunk {
  std::uint16_t tag = 0;
  std::size_t pos = 0, len = 0;
};

// Runs chunked requests over [0, total) with several in flight. `begin(pos, len)` sends one and
// returns its tag; `finish(tag)` waits for it and returns the bytes transferred. Stops at the
// first short transfer (returning the contiguous count up to it); every begun request is finished
// before returning, since they may still write into the caller's buffer.
template <typename Begin, typename Finish>
Result<std::size_t> pipeline(std::size_t total, std::size_t io, Begin begin, Finish finish) {
  std::size_t window =
      std::clamp<std::size_t>(kMaxWindowBytes / std::max<std::size_t>(io, 1), 1, kMaxInFlight);
  std::array<Chunk, kMaxInFlight> ring;
  std::size_t head = 0, count = 0;  // ring[head] is the oldest request in flight
  std::size_t next = 0, done = 0;
  bool stop = false;
  Error err;
  while (count > 0 || (!stop && next < total)) {
    while (!stop && next < total && count < window) {
      std::size_t len = std::min(io, total - next);
      auto tag = begin(next, len);
      if (!tag) {
        err = tag.error();
        stop = true;
        break;
      }
      ring[(head + count) % kMaxInFlight] = Chunk{*tag, next, len};
      ++count;
      next += len;
    }
    if (count == 0) break;
    Chunk c = ring[head];
    head = (head + 1) % kMaxInFlight;
    --count;
    auto n = finish(c.tag);
    if (stop) continue;  // draining after an error or a short transfer
    if (!n) {
      err = n.error();
      stop = true;
    } else if (*n < c.len) {
      done = c.pos + std::min(*n, c.len);
      stop = true;
      next = total;  // mark: ended by a short transfer
    } else {
      done = c.pos + c.len;
    }
  }
  if (err.code != 0) return std::unexpected(err);
  return done;
}

}  // namespace

Result<std::size_t> Fid::read(std::uint64_t offset, std::span<std::uint8_t> buf) const {
  if (!session_) return fail(EBADF);
  std::size_t io = iounit_ ? iounit_ : session_->max_io();
  Connection& conn = *session_->impl_->conn;
  auto wait = to_wait(CallOptions{}, session_->impl_->opts.request_timeout);
  std::size_t total = 0;
  while (total < buf.size()) {
    auto got = pipeline(
        buf.size() - total, io,
        [&](std::size_t pos, std::size_t len) {
          return conn.begin(p9::Tread{fid_, offset + total + pos, static_cast<std::uint32_t>(len)},
                            buf.subspan(total + pos, len));
        },
        [&](std::uint16_t tag) {
          return conn.finish(tag, p9::Type::Rread, nullptr, nullptr, wait);
        });
    if (!got) return std::unexpected(got.error());
    total += *got;
    // A short read that is not at end of file (allowed by 9P) continues from where it stopped;
    // a read of 0 bytes is end of file.
    if (*got == 0) break;
  }
  return total;
}

Result<std::size_t> Fid::write(std::uint64_t offset, std::span<const std::uint8_t> data) const {
  if (!session_) return fail(EBADF);
  if (data.empty()) return 0;
  std::size_t io = iounit_ ? iounit_ : session_->max_io();
  Connection& conn = *session_->impl_->conn;
  auto wait = to_wait(CallOptions{}, session_->impl_->opts.request_timeout);
  return pipeline(
      data.size(), io,
      [&](std::size_t pos, std::size_t len) {
        return conn.begin_write(fid_, offset + pos, data.subspan(pos, len));
      },
      [&](std::uint16_t tag) -> Result<std::size_t> {
        std::uint32_t count = 0;
        auto r = conn.finish(
            tag, p9::Type::Rwrite,
            [](void* c, const p9::Message& m) -> Result<void> {
              *static_cast<std::uint32_t*>(c) = std::get<p9::Rwrite>(m).count;
              return {};
            },
            &count, wait);
        if (!r) return std::unexpected(r.error());
        return count;
      });
}

Result<void> Fid::fsync(bool datasync) const {
  if (!session_) return fail(EBADF);
  return session_->call(p9::Tfsync{fid_, datasync ? 1u : 0u});
}

}  // namespace ninep::client
