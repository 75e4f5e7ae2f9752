#include "server/connection.h"

#include <algorithm>
#include <cstring>

#include "p9/codec.h"
#include "p9/format.h"

namespace ninep::server {
namespace {

constexpr std::uint32_t kMinMsize = 512;
constexpr std::size_t kReadChunk = 64 * 1024;

// Requests that only look up or read metadata (or write a few pages to the page cache) and
// cannot wait for anyone: when nothing else is in flight, the reader runs them itself instead of
// waking a worker (one thread switch less per request, which is most of a serial client's
// latency). Nothing that opens or creates a file, locks, syncs or reads data runs there: those
// may wait (on a lease, a lock, the disk), and a reader that waits stops its whole connection.
constexpr std::size_t kInlineWrite = 16 * 1024;

bool runs_inline(const p9::Message& m) {
  switch (static_cast<p9::Type>(p9::type_of(m))) {
    case p9::Type::Twalk:
    case p9::Type::Tgetattr:
    case p9::Type::Tclunk:
    case p9::Type::Tstatfs:
    case p9::Type::Treadlink:
    case p9::Type::Tattach:
    case p9::Type::Txattrwalk:
      return true;
    case p9::Type::Twrite:
      return std::get<p9::Twrite>(m).data.size() <= kInlineWrite;
    default:
      return false;
  }
}

}  // namespace

Connection::Connection(const ServerConfig& cfg, const std::vector<Export>& exports, const Log& log,
                       Budget& budget, std::uint64_t id, transport::Stream stream)
    : cfg_(cfg),
      log_(log),
      session_(cfg, exports, log, id, budget),
      stream_(std::move(stream)),
      reader_(cfg.max_msize),
      budget_bytes_(budget.limit(Budget::kBytes)),
      table_(2 * std::max(1u, cfg.threads)),
      scheduler_(mu_, cfg.threads, [this](Request* r, HandlerScratch& s) { execute(r, s); }) {
  stream_.set_poll_max(cfg.poll_max);
  session_.waker = std::make_shared<EventWaker>([this] { wake_event_waiters(); });
}

Connection::~Connection() {
  // Subscriptions of other threads' making may still hold the waker: never into a dead object.
  session_.waker->detach();
}

void Connection::stop() {
  stop_requested_.store(true, std::memory_order_relaxed);
  // Wakes the reader (and a writer blocked on a full stream).
  stream_.interrupt();
  room_cv_.notify_all();
}

void Connection::wait_for_room() {
  // Backpressure: a connection holding more than its share of the server's memory in request
  // frames reads nothing more until its own requests are answered (the frames it has are all it
  // needs to make progress). Others are not affected.
  std::unique_lock lk(mu_);
  if (table_.size() == 0 || !session_.account.over_share(Budget::kBytes)) return;
  log_.log(LogLevel::Debug, "connection {}: over its share of the memory budget; waiting", id());
  while (table_.size() > 0 && !stop_requested_.load(std::memory_order_relaxed) &&
         session_.account.over_share(Budget::kBytes))
    room_cv_.wait_for(lk, std::chrono::milliseconds(10));
}

bool Connection::charge_read_buffer() {
  // Every connection has its first kReadChunk; a frame larger than what the buffer holds makes it
  // grow (up to msize), and that is held for the client as long as the connection lasts. Until
  // the budget allows it, the reader reads nothing more (the peer's writes wait): a peer stalled
  // in the middle of a large frame holds no more than its share, and others go on.
  const std::size_t cap = reader_.capacity_for(kReadChunk);
  const std::size_t beyond = cap > kReadChunk ? cap - kReadChunk : 0;
  if (beyond <= reader_charged_) return true;
  if (session_.account.take(Budget::kBytes, beyond - reader_charged_)) {
    reader_charged_ = beyond;
    return true;
  }
  if (beyond > budget_bytes_ / 4 * 3) {
    // More than even a lone connection may hold (a budget set below the msize): waiting would
    // be for ever. Held regardless, as frames are.
    session_.account.force(Budget::kBytes, beyond - reader_charged_);
    reader_charged_ = beyond;
    return true;
  }
  log_.log(LogLevel::Debug, "connection {}: a frame in progress is over its memory share; waiting",
           id());
  // Room is made by other connections (and this one's requests): look again now and then.
  auto wait = std::chrono::milliseconds(5);
  std::unique_lock lk(mu_);
  while (!stop_requested_.load(std::memory_order_relaxed)) {
    room_cv_.wait_for(lk, wait);
    if (session_.account.take(Budget::kBytes, beyond - reader_charged_)) {
      reader_charged_ = beyond;
      return true;
    }
    wait = std::min(wait * 2, std::chrono::milliseconds(100));
  }
  return false;
}

void Connection::run() {
  log_.log(LogLevel::Info, "connection {}: open", id());
  const char* why = "closed by peer";
  for (;;) {
    if (stop_requested_.load(std::memory_order_relaxed)) {
      why = "stopped";
      break;
    }
    wait_for_room();
    if (!charge_read_buffer()) {
      why = "stopped";
      break;
    }
    auto n = stream_.read(reader_.write_space(kReadChunk));
    if (!n) {
      why = n.error().code == ECANCELED ? "stopped" : std::strerror(n.error().code);
      break;
    }
    if (*n == 0) {
      if (stop_requested_.load(std::memory_order_relaxed)) why = "stopped";
      break;
    }
    reader_.commit(*n);
    bool ok = true;
    while (ok) {
      auto frame = reader_.next();
      if (!frame) {
        log_.log(LogLevel::Warn, "connection {}: bad frame ({}); disconnecting", id(),
                 frame.error().to_string());
        ok = false;
        break;
      }
      if (!*frame) break;
      ok = on_frame(**frame);
    }
    if (!ok) {
      why = "protocol error";
      break;
    }
  }
  abort_outstanding();
  scheduler_.stop();
  session_.waker->detach();
  session_.fids.clear();
  // The buffer itself goes with the connection; the budget can have it back now.
  session_.account.give(Budget::kBytes, reader_charged_);
  reader_charged_ = 0;
  log_.log(LogLevel::Info, "connection {}: {}", id(), why);
}

bool Connection::on_frame(p9::Bytes frame) {
  auto header = p9::decode_header(frame);
  if (!header) {
    log_.log(LogLevel::Warn, "connection {}: bad frame ({}); disconnecting", id(),
             header.error().to_string());
    return false;
  }
  const auto type = static_cast<std::uint8_t>(header->type);
  const std::uint16_t tag = header->tag;
  if (!p9::is_dotl_request(type)) {
    log_.log(LogLevel::Debug, "connection {}: unsupported message type {}", id(), type);
    reply_error(tag, EOPNOTSUPP);
    return true;
  }
  Request* r;
  {
    std::lock_guard lk(mu_);
    r = table_.acquire();
  }
  r->frame.assign(frame.begin(), frame.end());
  // Already received, so held whatever the share; wait_for_room() keeps this bounded.
  session_.account.force(Budget::kBytes, frame.size());
  r->charged = frame.size();
  auto call = p9::decode(r->frame, reader_.msize());
  if (!call) {
    {
      std::lock_guard lk(mu_);
      recycle(r);
    }
    if (call.error().code == EOPNOTSUPP) {
      reply_error(tag, EOPNOTSUPP);
      return true;
    }
    log_.log(LogLevel::Warn, "connection {}: malformed {} ({}); disconnecting", id(),
             p9::type_name(static_cast<p9::Type>(type)), call.error().to_string());
    return false;
  }
  r->call = *call;
  r->tag = tag;
  if (cfg_.trace) trace("<-", r->frame);
  if (type == static_cast<std::uint8_t>(p9::Type::Tversion)) {
    handle_version(r);
    return true;
  }
  if (!versioned_) {
    {
      std::lock_guard lk(mu_);
      recycle(r);
    }
    reply_error(tag, EPROTO);
    return true;
  }
  if (type == static_cast<std::uint8_t>(p9::Type::Tflush)) {
    handle_flush(r);
    return true;
  }
  return admit(r);
}

bool Connection::admit(Request* r) {
  std::unique_lock lk(mu_);
  switch (table_.add(r, cfg_.max_outstanding)) {
    case InFlightTable::Added::Ok:
      break;
    case InFlightTable::Added::TagInUse: {
      const std::uint16_t tag = r->tag;
      recycle(r);
      lk.unlock();
      log_.log(LogLevel::Warn, "connection {}: tag {} reused while in flight; disconnecting", id(),
               tag);
      return false;
    }
    case InFlightTable::Added::Full: {
      const std::uint16_t tag = r->tag;
      recycle(r);
      lk.unlock();
      log_.log(LogLevel::Warn, "connection {}: too many requests in flight (max {}); refusing one",
               id(), cfg_.max_outstanding);
      reply_error(tag, EBUSY);
      return true;
    }
  }
  if (scheduler_.idle() && runs_inline(r->call.msg)) {
    scheduler_.run_here(r);
    lk.unlock();
    execute(r, reader_scratch_);
    return true;
  }
  scheduler_.enqueue(r);
  return true;
}

void Connection::handle_version(Request* r) {
  const auto& v = std::get<p9::Tversion>(r->call.msg);
  abort_outstanding();
  session_.fids.clear();
  std::uint8_t out[64];
  std::size_t len;
  const std::uint32_t msize = std::min(v.msize, cfg_.max_msize);
  auto rlerror = [&](std::uint32_t ecode) {
    p9::encode_rlerror(std::span<std::uint8_t, p9::kRlerrorSize>(out, p9::kRlerrorSize), r->tag,
                       ecode);
    return p9::kRlerrorSize;
  };
  if (msize < kMinMsize) {
    len = rlerror(EINVAL);
    versioned_ = false;
  } else {
    const bool known = v.version == p9::kVersion;
    auto n =
        p9::encode(out, r->tag, p9::Rversion{msize, known ? p9::kVersion : p9::kVersionUnknown});
    len = n ? *n : rlerror(EINVAL);
    versioned_ = known;
    if (known) {
      session_.msize.store(msize);
      reader_.set_msize(msize);
    }
  }
  {
    std::lock_guard lk(mu_);
    recycle(r);
  }
  reply_now(out, len);
}

void Connection::handle_flush(Request* r) {
  const std::uint16_t oldtag = std::get<p9::Tflush>(r->call.msg).oldtag;
  const std::uint16_t tag = r->tag;
  std::unique_lock lk(mu_);
  recycle(r);
  Request* old = table_.find(oldtag);
  if (old != nullptr && old->state == Request::State::Executing) {
    // Answered right after the old request's reply (see finish).
    old->flush_waiters.push_back(tag);
    return;
  }
  // Frames to send: flushes that already waited on the old request, then this one.
  std::vector<std::uint16_t> tags;
  if (old != nullptr) {
    // Queued or parked: it has not been answered and now never will be.
    scheduler_.withdraw(old);
    table_.remove(old);
    tags.swap(old->flush_waiters);
    recycle(old);
  }
  tags.push_back(tag);
  lk.unlock();
  reply_flushes(tags);
}

void Connection::reply_flushes(const std::vector<std::uint16_t>& tags) {
  std::lock_guard wl(write_mu_);
  for (std::uint16_t t : tags) {
    std::uint8_t frame[p9::kRflushSize];
    p9::encode_rflush(frame, t);
    iovec iov{frame, sizeof frame};
    if (cfg_.trace) trace("->", p9::Bytes(frame, iov.iov_len));
    write_frames(std::span<iovec>(&iov, 1));
  }
}

void Connection::reply_error(std::uint16_t tag, std::uint32_t ecode) {
  std::uint8_t frame[p9::kRlerrorSize];
  p9::encode_rlerror(frame, tag, ecode);
  reply_now(frame, sizeof frame);
}

void Connection::reply_now(const std::uint8_t* frame, std::size_t len) {
  std::lock_guard wl(write_mu_);
  if (cfg_.trace) trace("->", p9::Bytes(frame, len));
  iovec iov{const_cast<std::uint8_t*>(frame), len};
  write_frames(std::span<iovec>(&iov, 1));
}

bool Connection::write_frames(std::span<iovec> iov) {
  if (broken_) return false;
  if (!stream_.writev_all(iov)) {
    // A partly written frame leaves the stream unusable.
    broken_ = true;
    stop();
    return false;
  }
  return true;
}

void Connection::execute(Request* r, HandlerScratch& scratch) {
  const std::uint64_t seen = event_wakes_.load(std::memory_order_acquire);
  Dispatched d = dispatch(session_, r->call, scratch);
  if (d.outcome == Dispatched::Outcome::Park || d.outcome == Dispatched::Outcome::Wait) {
    park(r, d.outcome == Dispatched::Outcome::Wait ? std::optional(seen) : std::nullopt);
    return;
  }
  if (d.outcome == Dispatched::Outcome::Kill) {
    // The export's policy drops the connection: nothing more is written to it (the replies of
    // requests still running are dropped too) and the reader stops.
    {
      std::lock_guard wl(write_mu_);
      broken_ = true;
    }
    stop();
    finish(r, nullptr, 0);
    return;
  }
  finish(r, scratch.buf.data(), d.len);
}

void Connection::park(Request* r, std::optional<std::uint64_t> events_seen) {
  std::unique_lock lk(mu_);
  if (r->dropped || !r->flush_waiters.empty() || scheduler_.stopping()) {
    // Flushed while it ran (a lock not granted, no event read): cancelled without a reply.
    r->dropped = true;
    lk.unlock();
    finish(r, nullptr, 0);
    return;
  }
  if (!events_seen) {
    scheduler_.park(r);
  } else if (event_wakes_.load(std::memory_order_acquire) != *events_seen) {
    // An event came while it looked: look again.
    scheduler_.finished();
    scheduler_.enqueue(r);
  } else {
    scheduler_.park_until_woken(r);
  }
}

void Connection::wake_event_waiters() {
  std::lock_guard lk(mu_);
  event_wakes_.fetch_add(1, std::memory_order_acq_rel);
  if (!scheduler_.stopping()) scheduler_.wake_waiting();
}

void Connection::finish(Request* r, const std::uint8_t* reply, std::size_t len) {
  {
    std::lock_guard wl(write_mu_);
    bool send;
    {
      std::lock_guard lk(mu_);
      table_.remove(r);
      scheduler_.finished();
      send = !r->dropped && reply != nullptr;
    }
    // The reply and the Rflush of every flush that waited for it, in one writev when possible.
    constexpr std::size_t kBatch = 16;
    std::uint8_t flush_frames[kBatch][p9::kRflushSize];
    iovec iov[1 + kBatch];
    std::size_t n = 0;
    if (send) {
      iov[n++] = {const_cast<std::uint8_t*>(reply), len};
      if (cfg_.trace) trace("->", p9::Bytes(reply, len));
    }
    std::size_t i = 0;
    for (std::uint16_t t : r->flush_waiters) {
      p9::encode_rflush(flush_frames[i], t);
      iov[n++] = {flush_frames[i], p9::kRflushSize};
      if (cfg_.trace) trace("->", p9::Bytes(flush_frames[i], p9::kRflushSize));
      if (++i == kBatch) {
        write_frames(std::span<iovec>(iov, n));
        n = 0;
        i = 0;
      }
    }
    if (n > 0) write_frames(std::span<iovec>(iov, n));
  }
  std::lock_guard lk(mu_);
  recycle(r);
}

void Connection::recycle(Request* r) {
  if (r->charged != 0) {
    session_.account.give(Budget::kBytes, r->charged);
    room_cv_.notify_one();
  }
  table_.release(r);
}

void Connection::abort_outstanding() {
  std::unique_lock lk(mu_);
  scheduler_.drop_waiting([this](Request* r) {
    table_.remove(r);
    recycle(r);
  });
  // What is left is running: its reply (and pending flushes) will not be sent.
  table_.for_each([](Request* r) {
    r->dropped = true;
    r->flush_waiters.clear();
  });
  scheduler_.wait_idle(lk);
}

void Connection::trace(const char* dir, p9::Bytes frame) const {
  auto call = p9::decode(frame, 0);
  if (!call) {
    log_.trace_line(fmt::format("conn {} {} undecodable frame of {} bytes ({})", id(), dir,
                                frame.size(), call.error().to_string()));
    return;
  }
  log_.trace_line(fmt::format("conn {} {} {}", id(), dir, p9::to_string(*call)));
}

}  // namespace ninep::server
