// The request/reply multiplexer: tag table, send path, reader thread, flush and failure handling.
#include "client/connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

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

Result<std::uint16_t> Connection::take_tag() {
  std::unique_lock lk(tags_mu_);
  tags_cv_.wait(lk, [&] { return dead_.load() || !free_tags_.empty(); });
  if (dead_.load()) return std::unexpected(error_);
  std::uint16_t tag = free_tags_.back();
  free_tags_.pop_back();
  ++in_flight_;
  reset_in_flight(*slots_[tag]);
  return tag;
}

bool Connection::arm(std::uint16_t tag) {
  std::lock_guard lk(tags_mu_);
  if (dead_.load()) return false;
  ++in_flight_;
  reset_in_flight(*slots_[tag]);
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
  auto tag = take_tag();
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
  auto tag = take_tag();
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
  auto tag = take_tag();
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

void Connection::reader_loop() {
  auto protocol_error = [this](std::string msg) {
    std::lock_guard lk(tags_mu_);
    if (error_.code == 0) error_ = Error{EPROTO, std::move(msg)};
  };
  for (;;) {
    if (!fill(p9::kHeaderSize)) break;
    const std::uint8_t* h = rbuf_.data() + rpos_;
    std::uint32_t size = p9::load_le32(h);
    auto type = static_cast<p9::Type>(h[4]);
    std::uint16_t tag = p9::load_le16(h + 5);
    if (size < p9::kHeaderSize || size > msize_) {
      protocol_error(fmt::format("server sent a frame of {} bytes (msize {})", size, msize_));
      break;
    }
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
      if (!skip(size)) break;
      continue;
    }
    if (direct) {
      if (size < kCountedReplyHeader) {
        protocol_error(fmt::format("{} of {} bytes is truncated", p9::type_name(type), size));
        break;
      }
      if (!fill(kCountedReplyHeader)) break;
      std::uint32_t count = p9::load_le32(rbuf_.data() + rpos_ + p9::kHeaderSize);
      if (std::size_t(count) + kCountedReplyHeader != size || count > dst.size()) {
        protocol_error(fmt::format("{} count {} does not match its size {} or request",
                                   p9::type_name(type), count, size));
        break;
      }
      rpos_ += kCountedReplyHeader;
      if (!take(dst.data(), count)) break;
      std::lock_guard sl(s->mu);
      s->got_direct = true;
      s->direct_count = count;
      s->state = State::Replied;
      s->cv.notify_all();
      continue;
    }
    // The waiter does not touch its buffers while the slot is in flight.
    if (s->reply.size() < size) s->reply.resize(size);
    if (!take(s->reply.data(), size)) break;
    s->reply_len = size;
    std::uint32_t async_fid;
    {
      std::lock_guard sl(s->mu);
      async_fid = s->async_fid;
      if (async_fid == p9::kNoFid) {
        s->state = State::Replied;
        s->cv.notify_all();
      }
    }
    if (async_fid != p9::kNoFid) {
      // Tclunk clunks the fid whatever the reply: the number may be reused now.
      fids_.release(async_fid);
      free_tag(tag);
    }
  }
  fail_all();
}

void Connection::fail_all() {
  std::lock_guard lk(tags_mu_);
  if (error_.code == 0) error_ = Error{ECONNRESET, "connection lost"};
  dead_.store(true, std::memory_order_release);
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
