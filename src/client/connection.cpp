// The request/reply multiplexer: tag table, send path, reader thread, flush and failure handling.
#include "client/connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "client/fid_pool.h"
#include "p9/codec.h"

namespace ninep::client {
namespace {

constexpr std::size_t kReadBufferSize = 128 * 1024;
constexpr std::size_t kCountedReplyHeader = p9::kHeaderSize + 4;  // Rread / Rreaddir
// A flush is given at least this long to be answered before the connection is declared dead.
constexpr std::chrono::milliseconds kMinFlushTimeout{5000};

}  // namespace

Connection::Connection(transport::Stream stream, std::uint32_t msize, std::uint16_t max_in_flight,
                       FidPool& fids)
    : stream_(std::move(stream)),
      msize_(msize),
      ntags_(std::clamp<std::uint16_t>(max_in_flight, 1, 32767)),
      fids_(fids) {
  slots_.reserve(2u * ntags_);
  for (std::size_t i = 0; i < 2u * ntags_; ++i) slots_.push_back(std::make_unique<Slot>());
  free_tags_.reserve(ntags_);
  for (std::uint16_t t = ntags_; t > 0; --t)
    free_tags_.push_back(static_cast<std::uint16_t>(t - 1));
  rbuf_.resize(kReadBufferSize);
}

Connection::~Connection() {
  shutdown(Error{ESHUTDOWN, "session closed"});
}

void Connection::start_reader() {
  // Callers receive their own replies only when polling is on: otherwise their wait for the
  // first bytes would be a missed poll and a hand-off, slower than the reader thread alone.
  self_receive_ = stream_.poll_window().max() > transport::PollWindow::Duration::zero() &&
                  stream_.enable_ring();
  reader_ = std::thread([this] { reader_loop(); });
}

void Connection::shutdown(Error why) {
  kill(std::move(why));
  if (reader_.joinable() && reader_.get_id() != std::this_thread::get_id()) reader_.join();
  if (!reader_.joinable()) {
    // No reader ever ran (or it has exited): make sure nothing is left waiting.
    fail_all();
  }
}

void Connection::kill(Error why) {
  {
    std::lock_guard lk(tags_mu_);
    if (error_.code == 0) error_ = std::move(why);
    wake_reader_locked();
  }
  stream_.interrupt();
}

Error Connection::error() const {
  std::lock_guard lk(tags_mu_);
  return dead_.load() ? error_ : Error{};
}

std::uint32_t Connection::in_flight() const {
  std::lock_guard lk(tags_mu_);
  return in_flight_;
}

void Connection::wait_idle() {
  std::unique_lock lk(tags_mu_);
  tags_cv_.wait(lk, [&] { return in_flight_ == 0 || dead_.load(); });
}

bool Connection::wait_idle_for(std::chrono::milliseconds timeout) {
  std::unique_lock lk(tags_mu_);
  return tags_cv_.wait_for(lk, timeout, [&] { return in_flight_ == 0 || dead_.load(); });
}

// ---- tags ----

Result<std::uint16_t> Connection::take_tag(bool own_reply, bool async) {
  std::unique_lock lk(tags_mu_);
  tags_cv_.wait(lk, [&] { return dead_.load() || !free_tags_.empty(); });
  if (dead_.load()) return std::unexpected(error_);
  std::uint16_t tag = free_tags_.back();
  free_tags_.pop_back();
  ++in_flight_;
  reset_in_flight(*slots_[tag]);
  if (!self_receive_) return tag;  // the reader thread receives every reply
  ++unanswered_;
  if (async) {
    // Its reply is received by a caller on the way to its own, or by the reader thread within
    // a millisecond (reader_loop()): a wake-up only if the reader sleeps without a timeout.
    ++async_unanswered_;
    if (!reader_timed_) wake_reader_locked();
  } else if (own_reply && self_receive_ && receiver_ == Receiver::None && reserved_ < 0 &&
             unanswered_ - async_unanswered_ == 1) {
    reserved_ = tag;
  } else {
    // More than one request in flight (a pipelined read, other threads): the reader thread
    // receives them all, a reserved one too, so that no caller holds the others' replies up.
    reserved_ = -1;
    wake_reader_locked();
  }
  return tag;
}

bool Connection::arm(std::uint16_t tag) {
  std::lock_guard lk(tags_mu_);
  if (dead_.load()) return false;
  ++in_flight_;
  reset_in_flight(*slots_[tag]);
  if (self_receive_) {
    ++unanswered_;
    wake_reader_locked();
  }
  return true;
}

void Connection::reset_in_flight(Slot& s) {
  std::lock_guard sl(s.mu);
  s.state = State::InFlight;
  s.cancel = false;
  s.async_fid = p9::kNoFid;
  s.direct = {};
  s.got_direct = false;
  s.direct_count = 0;
  s.reply_len = 0;
  s.error = {};
}

void Connection::free_tag(std::uint16_t tag) {
  std::lock_guard lk(tags_mu_);
  {
    Slot& s = *slots_[tag];
    std::lock_guard sl(s.mu);
    // Still in flight: a request never sent (encoding failed) or an asynchronous clunk whose
    // reply came. Abandoned: Rflush came first, the reply never will.
    if (s.state == State::InFlight || s.state == State::Abandoned)
      answered_locked(tag, s.async_fid != p9::kNoFid);
    s.state = State::Free;
  }
  if (tag < ntags_) free_tags_.push_back(tag);
  --in_flight_;
  tags_cv_.notify_all();
}

// ---- sending ----

Result<void> Connection::send(std::span<const std::uint8_t> frame,
                              std::span<const std::uint8_t> extra) {
  Result<void> r;
  {
    std::lock_guard lk(send_mu_);
    iovec iov[2] = {{const_cast<std::uint8_t*>(frame.data()), frame.size()},
                    {const_cast<std::uint8_t*>(extra.data()), extra.size()}};
    r = stream_.writev_all(std::span(iov, extra.empty() ? 1 : 2));
  }
  if (!r) {
    // A partly written frame leaves the stream unusable: end the connection.
    int code = r.error().code == 0 ? EPIPE : r.error().code;
    kill(Error{code, "send to server failed"});
  }
  return r;
}

Result<std::uint16_t> Connection::begin(const p9::Message& req, std::span<std::uint8_t> direct) {
  std::size_t n = p9::encoded_size(req);
  if (n > msize_)
    return fail(EMSGSIZE, fmt::format("request of {} bytes exceeds msize {}", n, msize_));
  // A reply that may not fit the read buffer is the reader thread's to take into place: the
  // caller would only read its first part and hand the rest over, a wake-up per reply.
  auto tag = take_tag(direct.size() + kCountedReplyHeader <= kReadBufferSize);
  if (!tag) return tag;
  Slot& s = *slots_[*tag];
  if (s.out.size() < n) s.out.resize(n);
  auto enc = p9::encode(std::span(s.out.data(), n), *tag, req);
  if (!enc) {
    free_tag(*tag);
    return std::unexpected(enc.error());
  }
  if (!direct.empty()) {
    std::lock_guard sl(s.mu);
    s.direct = direct;
    s.direct_type =
        std::holds_alternative<p9::Treaddir>(req) ? p9::Type::Rreaddir : p9::Type::Rread;
  }
  requests_.fetch_add(1, std::memory_order_relaxed);
  // A send failure kills the connection; finish() then reports its error.
  (void)send(std::span(s.out.data(), *enc), {});
  return tag;
}

Result<std::uint16_t> Connection::begin_write(std::uint32_t fid, std::uint64_t offset,
                                              std::span<const std::uint8_t> data) {
  std::size_t n = p9::kTwriteHeaderSize + data.size();
  if (n > msize_)
    return fail(EMSGSIZE, fmt::format("write of {} bytes exceeds msize {}", data.size(), msize_));
  auto tag = take_tag(true);
  if (!tag) return tag;
  Slot& s = *slots_[*tag];
  if (s.out.size() < p9::kTwriteHeaderSize) s.out.resize(p9::kTwriteHeaderSize);
  p9::encode_twrite_header(
      std::span<std::uint8_t, p9::kTwriteHeaderSize>(s.out.data(), p9::kTwriteHeaderSize), *tag,
      fid, offset, static_cast<std::uint32_t>(data.size()));
  requests_.fetch_add(1, std::memory_order_relaxed);
  (void)send(std::span(s.out.data(), p9::kTwriteHeaderSize), data);
  return tag;
}

void Connection::clunk_async(std::uint32_t fid) {
  auto tag = take_tag(false, true);
  if (!tag) {
    fids_.release(fid);  // the connection is gone, and with it the server's fid
    return;
  }
  Slot& s = *slots_[*tag];
  {
    std::lock_guard sl(s.mu);
    s.async_fid = fid;
  }
  constexpr std::size_t n = p9::kTclunkSize;
  if (s.out.size() < n) s.out.resize(n);
  p9::encode_tclunk(std::span<std::uint8_t, n>(s.out.data(), n), *tag, fid);
  requests_.fetch_add(1, std::memory_order_relaxed);
  (void)send(std::span(s.out.data(), n), {});
}

// ---- waiting ----

bool Connection::wait_slot(Slot& s, std::unique_lock<std::mutex>& lk,
                           std::chrono::steady_clock::time_point deadline) {
  auto pred = [&] { return s.state != State::InFlight || s.cancel; };
  if (deadline == std::chrono::steady_clock::time_point::max())
    s.cv.wait(lk, pred);
  else
    s.cv.wait_until(lk, deadline, pred);
  return s.state != State::InFlight;
}

Result<std::size_t> Connection::finish(std::uint16_t tag, p9::Type expect, ReplyFn on_reply,
                                       void* ctx, const Wait& wait) {
  Slot& s = *slots_[tag];
  auto on_stop = [&s] {
    std::lock_guard sl(s.mu);
    s.cancel = true;
    s.cv.notify_all();
  };
  std::optional<std::stop_callback<decltype(on_stop)>> stop_cb;
  if (wait.stop.stop_possible()) stop_cb.emplace(wait.stop, on_stop);

  auto deadline = wait.timeout.count() > 0 ? std::chrono::steady_clock::now() + wait.timeout
                                           : std::chrono::steady_clock::time_point::max();
  bool own = false;
  {
    std::lock_guard tl(tags_mu_);
    if (reserved_ == tag) {
      // The only request in flight: receive its reply here unless another thread is receiving
      // already (then that one fills the slot).
      reserved_ = -1;
      own = receiver_ == Receiver::None && error_.code == 0;
      if (own) receiver_ = Receiver::Caller;
    }
  }
  if (own) receive_own(s);
  std::unique_lock lk(s.mu);
  bool done = wait_slot(s, lk, deadline);
  bool cancelled = s.cancel;
  lk.unlock();
  // From here on no stop callback may touch the slot (it is about to be reused).
  stop_cb.reset();
  if (!done) {
    auto flushed = flush_and_wait(tag, std::max(wait.timeout, kMinFlushTimeout));
    lk.lock();
    if (s.state == State::InFlight && !flushed) {
      // The connection died during the flush: the reader fails every slot on its way out.
      s.cv.wait(lk, [&] { return s.state != State::InFlight; });
    }
    if (s.state == State::InFlight) {
      // Rflush came first: the server will never answer this request.
      s.state = State::Abandoned;
      lk.unlock();
      free_tag(tag);
      if (cancelled) return fail(ECANCELED, "request cancelled");
      return fail(ETIMEDOUT, "request timed out");
    }
    lk.unlock();
    // The reply arrived before Rflush: the request completed; report its result.
  }

  Result<std::size_t> out = 0;
  if (s.state == State::Failed) {
    out = std::unexpected(s.error);
  } else if (s.got_direct) {
    out = s.direct_count;
  } else {
    auto fc = p9::decode(std::span<const std::uint8_t>(s.reply.data(), s.reply_len), msize_);
    if (!fc) {
      out = fail(EPROTO, "malformed reply from server: " + fc.error().message);
    } else if (auto* e = std::get_if<p9::Rlerror>(&fc->msg)) {
      out = fail(static_cast<int>(e->ecode));
    } else if (p9::type_of(fc->msg) != expect) {
      out = fail(
          EPROTO,
          fmt::format("server answered {} with {}",
                      p9::type_name(static_cast<p9::Type>(static_cast<std::uint8_t>(expect) - 1)),
                      p9::type_name(p9::type_of(fc->msg))));
    } else if (on_reply) {
      if (auto r = on_reply(ctx, fc->msg); !r) out = std::unexpected(r.error());
    }
  }
  free_tag(tag);
  return out;
}

Result<void> Connection::flush_and_wait(std::uint16_t oldtag, std::chrono::milliseconds timeout) {
  std::uint16_t ft = static_cast<std::uint16_t>(oldtag + ntags_);
  if (!arm(ft)) return std::unexpected(error());
  flushes_.fetch_add(1, std::memory_order_relaxed);
  Slot& f = *slots_[ft];
  constexpr std::size_t n = p9::kTflushSize;
  if (f.out.size() < n) f.out.resize(n);
  p9::encode_tflush(std::span<std::uint8_t, n>(f.out.data(), n), ft, oldtag);
  requests_.fetch_add(1, std::memory_order_relaxed);
  (void)send(std::span(f.out.data(), n), {});

  std::unique_lock lk(f.mu);
  if (!wait_slot(f, lk, std::chrono::steady_clock::now() + timeout)) {
    lk.unlock();
    kill(Error{ETIMEDOUT, "server did not answer Tflush"});
    lk.lock();
    f.cv.wait(lk, [&] { return f.state != State::InFlight; });
  }
  Result<void> r;
  if (f.state == State::Failed) r = std::unexpected(f.error);
  f.state = State::Free;  // reserved flush slots never enter the free list
  lk.unlock();
  std::lock_guard tl(tags_mu_);
  --in_flight_;
  tags_cv_.notify_all();
  return r;
}

Result<void> Connection::flush(std::uint16_t oldtag) {
  auto tag = begin(p9::Tflush{oldtag});
  if (!tag) return std::unexpected(tag.error());
  auto r = finish(*tag, p9::Type::Rflush, nullptr, nullptr, Wait{});
  if (!r) return std::unexpected(r.error());
  return {};
}

// ---- reader thread ----

bool Connection::fill(std::size_t min) {
  while (rend_ - rpos_ < min) {
    if (rpos_ + min > rbuf_.size()) {
      std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rend_ - rpos_);
      rend_ -= rpos_;
      rpos_ = 0;
    }
    auto r = stream_.read(std::span(rbuf_).subspan(rend_));
    if (!r || *r == 0) return receive_failed(r ? nullptr : &r.error());
    rend_ += *r;
  }
  return true;
}

bool Connection::receive_failed(const Error* why) {
  Error e = why == nullptr ? Error{ECONNRESET, "connection closed by server"}
                           : Error{why->code, "receive from server failed"};
  std::lock_guard lk(tags_mu_);
  if (error_.code == 0) error_ = std::move(e);
  return false;
}

bool Connection::take(std::uint8_t* dst, std::size_t n) {
  while (n > 0) {
    std::size_t avail = std::min(n, rend_ - rpos_);
    std::memcpy(dst, rbuf_.data() + rpos_, avail);
    rpos_ += avail;
    dst += avail;
    n -= avail;
    if (n == 0) break;
    if (n >= rbuf_.size() / 2) {
      // Large payloads go straight from the stream into their destination.
      auto r = stream_.read(std::span(dst, n));
      if (!r || *r == 0) return receive_failed(r ? nullptr : &r.error());
      dst += *r;
      n -= *r;
      continue;
    }
    if (!fill(std::min(n, rbuf_.size()))) return false;
  }
  return true;
}

bool Connection::skip(std::size_t n) {
  while (n > 0) {
    if (rend_ == rpos_ && !fill(1)) return false;
    std::size_t k = std::min(n, rend_ - rpos_);
    rpos_ += k;
    n -= k;
  }
  return true;
}

int Connection::receive_frame() {
  auto protocol_error = [this](std::string msg) {
    std::lock_guard lk(tags_mu_);
    if (error_.code == 0) error_ = Error{EPROTO, std::move(msg)};
    return kFailed;
  };
  if (!fill(p9::kHeaderSize)) return kFailed;
  const std::uint8_t* h = rbuf_.data() + rpos_;
  std::uint32_t size = p9::load_le32(h);
  auto type = static_cast<p9::Type>(h[4]);
  std::uint16_t tag = p9::load_le16(h + 5);
  if (size < p9::kHeaderSize || size > msize_)
    return protocol_error(fmt::format("server sent a frame of {} bytes (msize {})", size, msize_));
  Slot* s = tag < slots_.size() ? slots_[tag].get() : nullptr;
  bool wanted = false, direct = false;
  std::span<std::uint8_t> dst;
  if (s) {
    std::lock_guard sl(s->mu);
    wanted = s->state == State::InFlight;
    if (wanted && !s->direct.empty() && type == s->direct_type) {
      direct = true;
      dst = s->direct;
    }
  }
  if (!wanted) {
    // A reply to a tag nobody waits for (e.g. a server answering after Rflush): drop it.
    return skip(size) ? kNoReply : kFailed;
  }
  std::uint32_t count = 0;
  if (direct) {
    if (size < kCountedReplyHeader)
      return protocol_error(fmt::format("{} of {} bytes is truncated", p9::type_name(type), size));
    if (!fill(kCountedReplyHeader)) return kFailed;
    count = p9::load_le32(rbuf_.data() + rpos_ + p9::kHeaderSize);
    if (std::size_t(count) + kCountedReplyHeader != size || count > dst.size()) {
      return protocol_error(fmt::format("{} count {} does not match its size {} or request",
                                        p9::type_name(type), count, size));
    }
    rpos_ += kCountedReplyHeader;
    if (!take(dst.data(), count)) return kFailed;
  } else {
    // The waiter does not touch its buffers while the slot is in flight.
    if (s->reply.size() < size) s->reply.resize(size);
    if (!take(s->reply.data(), size)) return kFailed;
    s->reply_len = size;
    std::uint32_t async_fid;
    {
      std::lock_guard sl(s->mu);
      async_fid = s->async_fid;
    }
    if (async_fid != p9::kNoFid) {
      // Tclunk clunks the fid whatever the reply: the number may be reused now.
      fids_.release(async_fid);
      free_tag(tag);
      return kNoReply;
    }
  }
  if (self_receive_) {
    // Not held while the waiter is woken: it takes tags_mu_ next, to free its tag.
    std::lock_guard lk(tags_mu_);
    answered_locked(tag, false);
  }
  std::lock_guard sl(s->mu);
  s->got_direct = direct;
  s->direct_count = count;
  s->state = State::Replied;
  s->cv.notify_all();
  return tag;
}

bool Connection::frame_buffered() const {
  const std::size_t avail = rend_ - rpos_;
  if (avail < p9::kHeaderSize) return false;
  const std::uint32_t size = p9::load_le32(rbuf_.data() + rpos_);
  return avail >= size || size < p9::kHeaderSize || size > msize_;
}

bool Connection::receive_own(Slot& s) {
  const auto start = std::chrono::steady_clock::now();
  bool ok = true, done = false;
  for (;;) {
    while (ok && frame_buffered()) ok = receive_frame() != kFailed;
    if (!ok) break;
    {
      std::lock_guard sl(s.mu);
      done = s.state != State::InFlight;
    }
    if (done) break;
    // Frames for other tags (a server flooding them) do not keep the caller here past the
    // window's maximum: its deadline and cancellation are watched in the wait below.
    if (std::chrono::steady_clock::now() - start > stream_.poll_window().max()) break;
    if (rpos_ == rend_) rpos_ = rend_ = 0;
    const std::size_t avail = rend_ - rpos_;
    const std::size_t need =
        avail >= p9::kHeaderSize ? p9::load_le32(rbuf_.data() + rpos_) : p9::kHeaderSize;
    if (need > rbuf_.size()) break;  // a large reply: the reader thread takes it into place
    if (rbuf_.size() - rpos_ < need) {
      std::memmove(rbuf_.data(), rbuf_.data() + rpos_, avail);
      rpos_ = 0;
      rend_ = avail;
    }
    auto r = stream_.read_polled(std::span(rbuf_).subspan(rend_));
    if (!r) {
      if (r.error().code != EAGAIN) ok = receive_failed(&r.error());
      break;
    }
    if (*r == 0) {
      ok = receive_failed(nullptr);
      break;
    }
    rend_ += *r;
  }
  if (done) own_replies_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lk(tags_mu_);
  receiver_ = Receiver::None;
  // Not done: nothing came within the window (the reader thread receives it, and tells the
  // window how long this wait took in all), or the connection broke (the reader thread fails
  // every slot).
  if (!done) handed_over_ = start;
  if (!ok || !done || unanswered_ > 0) wake_reader_locked();
  return done;
}

void Connection::answered_locked(int tag, bool async) {
  if (!self_receive_) return;  // counted only when callers may receive (take_tag())
  --unanswered_;
  if (async) --async_unanswered_;
  if (reserved_ == tag) reserved_ = -1;
}

std::uint32_t Connection::reader_work_locked() const {
  return unanswered_ - async_unanswered_ - (reserved_ >= 0 ? 1 : 0);
}

void Connection::wake_reader_locked() {
  if (!self_receive_) return;  // the reader thread is always receiving
  if (reader_idle_) {
    reader_idle_ = false;
    stream_.ring();
  }
  reader_cv_.notify_one();
}

void Connection::reader_loop() {
  if (!self_receive_) {
    while (receive_frame() != kFailed) {
    }
    fail_all();
    return;
  }
  std::unique_lock lk(tags_mu_);
  bool async_due = false;
  for (;;) {
    if (receiver_ == Receiver::Caller) {
      reader_cv_.wait(lk);
      continue;
    }
    if (error_.code != 0) break;
    if (hangup_ || reader_work_locked() > 0 || (async_due && async_unanswered_ > 0)) {
      async_due = false;
      receiver_ = Receiver::Reader;
      const auto since = std::exchange(handed_over_, {});
      lk.unlock();
      const bool ok = reader_receive(since);
      lk.lock();
      receiver_ = Receiver::None;
      if (!ok) break;
      continue;
    }
    // Nothing to receive: sleep until a caller hands work over (ring) or the server hangs up.
    // Replies to asynchronous clunks that no caller took on the way are received after 1 ms.
    reader_idle_ = true;
    const int timeout_ms = async_unanswered_ > 0 ? 1 : -1;
    reader_timed_ = timeout_ms >= 0;
    lk.unlock();
    auto hung_up = stream_.wait_hangup(timeout_ms);
    lk.lock();
    reader_idle_ = reader_timed_ = false;
    // Hung up, or the wait failed: reading says why (after what the server sent before).
    if (!hung_up || *hung_up) hangup_ = true;
    async_due = timeout_ms >= 0;
  }
  lk.unlock();
  fail_all();
}

bool Connection::reader_receive(std::chrono::steady_clock::time_point handed_over) {
  for (;;) {
    if (receive_frame() == kFailed) return false;
    if (handed_over != std::chrono::steady_clock::time_point{}) {
      // The first reply after a caller's missed poll: the whole wait tells the window more than
      // the reader's part of it.
      stream_.record_wait(std::chrono::steady_clock::now() - handed_over);
      handed_over = {};
    }
    std::lock_guard lk(tags_mu_);
    if (!hangup_ && unanswered_ == (reserved_ >= 0 ? 1u : 0u)) return true;
  }
}

void Connection::fail_all() {
  std::lock_guard lk(tags_mu_);
  if (error_.code == 0) error_ = Error{ECONNRESET, "connection lost"};
  dead_.store(true, std::memory_order_release);
  unanswered_ = async_unanswered_ = 0;
  reserved_ = -1;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    std::lock_guard sl(s.mu);
    if (s.state != State::InFlight) continue;
    if (s.async_fid != p9::kNoFid) {
      fids_.release(s.async_fid);
      s.async_fid = p9::kNoFid;
      s.state = State::Free;
      free_tags_.push_back(static_cast<std::uint16_t>(i));
      --in_flight_;
    } else {
      s.state = State::Failed;
      s.error = error_;
      s.cv.notify_all();
    }
  }
  tags_cv_.notify_all();
}

}  // namespace ninep::client
