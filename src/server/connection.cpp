#include "server/connection.h"

#include <algorithm>
#include <cstring>

#include "p9/codec.h"
#include "p9/format.h"

namespace ninep::server {
namespace {

constexpr std::uint32_t kMinMsize = 512;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr auto kFirstRetry = std::chrono::milliseconds(1);
constexpr auto kMaxRetry = std::chrono::milliseconds(50);
// How long a queued request waits for a running worker before an extra one takes it.
constexpr auto kStandbyDelay = std::chrono::milliseconds(1);
// Frame buffers above this size are not kept by more than a few recycled requests.
constexpr std::size_t kBigFrame = 64 * 1024;

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
      running_cap_(std::max(2u, std::thread::hardware_concurrency())),
      tags_in_use_(65536 / 64, 0) {}

Connection::~Connection() {
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

void Connection::stop() {
  stop_requested_.store(true, std::memory_order_relaxed);
  // Wakes the reader (and a writer blocked on a full stream).
  stream_.interrupt();
}

void Connection::wait_for_room() {
  // Backpressure: a connection holding more than its share of the server's memory in request
  // frames reads nothing more until its own requests are answered (the frames it has are all it
  // needs to make progress). Others are not affected.
  std::unique_lock lk(mu_);
  if (inflight_count_ == 0 || !session_.account.over_share(Budget::kBytes)) return;
  log_.log(LogLevel::Debug, "connection {}: over its share of the memory budget; waiting", id());
  while (inflight_count_ > 0 && !stop_requested_.load(std::memory_order_relaxed) &&
         session_.account.over_share(Budget::kBytes))
    room_cv_.wait_for(lk, std::chrono::milliseconds(10));
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
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  session_.fids.clear();
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
    r = get_request();
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
  std::uint64_t& word = tags_in_use_[r->tag / 64];
  const std::uint64_t bit = std::uint64_t{1} << (r->tag % 64);
  if ((word & bit) != 0) {
    recycle(r);
    lk.unlock();
    log_.log(LogLevel::Warn, "connection {}: tag {} reused while in flight; disconnecting", id(),
             r->tag);
    return false;
  }
  if (inflight_count_ >= cfg_.max_outstanding) {
    const std::uint16_t tag = r->tag;
    recycle(r);
    lk.unlock();
    log_.log(LogLevel::Warn, "connection {}: too many requests in flight (max {}); refusing one",
             id(), cfg_.max_outstanding);
    reply_error(tag, EBUSY);
    return true;
  }
  word |= bit;
  r->prev = nullptr;
  r->next = inflight_;
  if (inflight_ != nullptr) inflight_->prev = r;
  inflight_ = r;
  ++inflight_count_;
  if (queue_head_ == nullptr && executing_ == 0 && runs_inline(r->call.msg)) {
    r->state = Request::State::Executing;
    ++executing_;
    lk.unlock();
    execute(r, reader_worker_);
    return true;
  }
  lk.unlock();
  enqueue(r);
  return true;
}

void Connection::enqueue(Request* r) {
  std::lock_guard lk(mu_);
  r->state = Request::State::Queued;
  r->queue_next = nullptr;
  if (queue_tail_ != nullptr)
    queue_tail_->queue_next = r;
  else
    queue_head_ = r;
  queue_tail_ = r;
  r->queued_at = std::chrono::steady_clock::now();
  wake_for_queue();
}

void Connection::wake_for_queue() {
  // Enough workers run (or are waking up): one of them takes the request when it is done, or
  // the standby does (see worker_main).
  if (executing_ + waking_ >= running_cap_ && (standby_ || waking_ > 0)) return;
  if (idle_workers_ > waking_) {
    ++waking_;
    work_cv_.notify_one();
  } else if (workers_.size() < std::max(1u, cfg_.threads)) {
    ++waking_;
    workers_.emplace_back(&Connection::worker_main, this);
  }
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
  Request* old = inflight_;
  while (old != nullptr && old->tag != oldtag) old = old->next;
  if (old != nullptr && old->state == Request::State::Executing) {
    // Answered by the worker right after the old request's reply.
    old->flush_waiters.push_back(tag);
    recycle(r);
    return;
  }
  recycle(r);
  // Frames to send: flushes that already waited on the old request, then this one.
  std::vector<std::uint16_t> tags;
  if (old != nullptr) {
    // Queued or parked: it has not been answered and now never will be.
    Request** link = old->state == Request::State::Queued ? &queue_head_ : &parked_;
    Request* prev = nullptr;
    while (*link != nullptr && *link != old) {
      prev = *link;
      link = &(*link)->queue_next;
    }
    if (*link == old) *link = old->queue_next;
    if (old->state == Request::State::Queued) {
      if (queue_tail_ == old) queue_tail_ = prev;
    }
    unlink_inflight(old);
    tags.swap(old->flush_waiters);
    recycle(old);
  }
  tags.push_back(tag);
  lk.unlock();
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

// More runnable workers than CPUs only make them preempt each other (and the reader): with
// data I/O streaming in, a queued request waits for a running worker to finish. So that a
// worker blocked for long (fsync, a slow disk) cannot stall the queue, one idle worker stands
// by and takes the head once it has waited kStandbyDelay.
void Connection::worker_main() {
  using Clock = std::chrono::steady_clock;
  Worker w;
  std::unique_lock lk(mu_);
  if (waking_ > 0) --waking_;
  for (;;) {
    Request* r = nullptr;
    const bool overdue = queue_head_ != nullptr && executing_ >= running_cap_ &&
                         Clock::now() - queue_head_->queued_at >= kStandbyDelay;
    if (queue_head_ != nullptr && (executing_ < running_cap_ || overdue)) {
      r = queue_head_;
      queue_head_ = r->queue_next;
      if (queue_head_ == nullptr) queue_tail_ = nullptr;
    } else if (parked_ != nullptr) {
      r = take_due_parked(Clock::now());
    }
    if (r != nullptr) {
      r->state = Request::State::Executing;
      r->queue_next = nullptr;
      ++executing_;
      // Whoever runs now may take long: the rest of the queue needs a worker or a standby.
      if (queue_head_ != nullptr) wake_for_queue();
      lk.unlock();
      execute(r, w);
      lk.lock();
      continue;
    }
    if (stopping_) break;
    ++idle_workers_;
    auto deadline = Clock::time_point::max();
    const bool standby = queue_head_ != nullptr && !standby_;
    if (standby) {
      standby_ = true;
      deadline = queue_head_->queued_at + kStandbyDelay;
    }
    for (Request* p = parked_; p != nullptr; p = p->queue_next)
      deadline = std::min(deadline, p->retry_at);
    if (deadline == Clock::time_point::max())
      work_cv_.wait(lk);
    else
      work_cv_.wait_until(lk, deadline);
    if (standby) standby_ = false;
    if (waking_ > 0) --waking_;
    --idle_workers_;
  }
}

Request* Connection::take_due_parked(std::chrono::steady_clock::time_point now) {
  for (Request** link = &parked_; *link != nullptr; link = &(*link)->queue_next) {
    Request* r = *link;
    if (r->retry_at <= now) {
      *link = r->queue_next;
      return r;
    }
  }
  return nullptr;
}

void Connection::execute(Request* r, Worker& w) {
  Dispatched d = dispatch(session_, r->call, w);
  if (d.outcome == Dispatched::Outcome::Park) {
    park(r);
    return;
  }
  finish(r, w.buf.data(), d.len);
}

void Connection::park(Request* r) {
  std::unique_lock lk(mu_);
  if (r->dropped || !r->flush_waiters.empty() || stopping_) {
    // Flushed while it ran: the lock was not granted, so it is cancelled without a reply.
    r->dropped = true;
    lk.unlock();
    finish(r, nullptr, 0);
    return;
  }
  --executing_;
  if (executing_ == 0) idle_cv_.notify_all();
  r->retry_delay =
      r->retry_delay.count() == 0 ? kFirstRetry : std::min(r->retry_delay * 2, kMaxRetry);
  r->retry_at = std::chrono::steady_clock::now() + r->retry_delay;
  r->state = Request::State::Parked;
  r->queue_next = parked_;
  parked_ = r;
}

void Connection::finish(Request* r, const std::uint8_t* reply, std::size_t len) {
  {
    std::lock_guard wl(write_mu_);
    bool send;
    {
      std::lock_guard lk(mu_);
      unlink_inflight(r);
      --executing_;
      if (executing_ == 0) idle_cv_.notify_all();
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

Request* Connection::get_request() {
  if (!free_requests_.empty()) {
    Request* r = free_requests_.back();
    free_requests_.pop_back();
    return r;
  }
  requests_.push_back(std::make_unique<Request>());
  return requests_.back().get();
}

void Connection::recycle(Request* r) {
  if (r->charged != 0) {
    session_.account.give(Budget::kBytes, r->charged);
    r->charged = 0;
    room_cv_.notify_one();
  }
  r->dropped = false;
  r->flush_waiters.clear();
  r->retry_delay = std::chrono::milliseconds(0);
  r->prev = r->next = r->queue_next = nullptr;
  r->state = Request::State::Queued;
  r->call = p9::Fcall{};
  if (r->frame.capacity() > kBigFrame) {
    std::size_t big = 0;
    for (Request* f : free_requests_) big += f->frame.capacity() > kBigFrame;
    if (big >= 2 * std::max(1u, cfg_.threads)) std::vector<std::uint8_t>().swap(r->frame);
  }
  free_requests_.push_back(r);
}

void Connection::unlink_inflight(Request* r) {
  if (r->prev != nullptr)
    r->prev->next = r->next;
  else if (inflight_ == r)
    inflight_ = r->next;
  if (r->next != nullptr) r->next->prev = r->prev;
  r->prev = r->next = nullptr;
  --inflight_count_;
  tags_in_use_[r->tag / 64] &= ~(std::uint64_t{1} << (r->tag % 64));
}

void Connection::abort_outstanding() {
  std::unique_lock lk(mu_);
  auto drop_list = [this](Request* head) {
    while (head != nullptr) {
      Request* next = head->queue_next;
      unlink_inflight(head);
      recycle(head);
      head = next;
    }
  };
  drop_list(queue_head_);
  queue_head_ = queue_tail_ = nullptr;
  drop_list(parked_);
  parked_ = nullptr;
  // What is left is executing: its reply (and pending flushes) will not be sent.
  for (Request* r = inflight_; r != nullptr; r = r->next) {
    r->dropped = true;
    r->flush_waiters.clear();
  }
  idle_cv_.wait(lk, [this] { return executing_ == 0; });
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
