#include "server/events.h"

#include <algorithm>
#include <cstring>

#include "p9/codec.h"

namespace ninep::server {

Subscription::Subscription(EventHub& hub, std::shared_ptr<EventWaker> waker)
    : hub_(hub), waker_(std::move(waker)) {}

Subscription::~Subscription() {
  hub_.leave(this);
  // A read still waiting on it runs again, and finds its fid gone.
  waker_->wake();
}

std::size_t Subscription::pending_bytes() const {
  std::lock_guard lk(mu_);
  return buf_.size() - head_;
}

Result<std::size_t> Subscription::take(std::span<std::uint8_t> out) {
  std::lock_guard lk(mu_);
  std::size_t end = head_;
  while (end < buf_.size()) {
    const std::size_t size = p9::load_le32(buf_.data() + end);
    if (size > out.size() - (end - head_)) break;
    end += size;
  }
  if (end == head_ && head_ < buf_.size())
    return fail(EMSGSIZE, "the next event record does not fit in the read's count");
  const std::size_t n = end - head_;
  if (n > 0) std::memcpy(out.data(), buf_.data() + head_, n);
  head_ = end;
  if (head_ == buf_.size()) {
    buf_.clear();
    head_ = 0;
  } else if (head_ > buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return n;
}

void Subscription::push_locked(const p9::Event& e) {
  const std::size_t size = p9::event_size(e);
  if (buf_.size() - head_ + size > kMaxPending) {
    // Full: what is pending is worth no more than "revalidate everything".
    buf_.clear();
    head_ = 0;
    p9::Event overflow;
    overflow.kind = p9::EventKind::Overflow;
    push_locked(overflow);
    if (e.kind == p9::EventKind::Overflow) return;
    if (size + p9::event_size(p9::Event{}) > kMaxPending) return;
  }
  const std::size_t at = buf_.size();
  buf_.resize(at + size);
  if (!p9::encode_event(std::span<std::uint8_t>(buf_.data() + at, size), e)) buf_.resize(at);
}

void Subscription::push(const p9::Event& e) {
  {
    std::lock_guard lk(mu_);
    push_locked(e);
  }
  waker_->wake();
}

Result<std::unique_ptr<Subscription>> EventHub::subscribe(std::shared_ptr<EventWaker> waker) {
  std::lock_guard start(start_mu_);
  bool first;
  {
    std::lock_guard lk(mu_);
    first = subs_.empty();
  }
  if (first) {
    auto r = be_.start_watching([this](const p9::Event& e) { deliver(e); }, max_watches_);
    if (!r) return std::unexpected(r.error());
  }
  auto sub = std::make_unique<Subscription>(*this, std::move(waker));
  std::lock_guard lk(mu_);
  subs_.push_back(sub.get());
  active_.store(true, std::memory_order_release);
  return sub;
}

void EventHub::leave(Subscription* s) {
  std::lock_guard start(start_mu_);
  bool last;
  {
    std::lock_guard lk(mu_);
    auto it = std::find(subs_.begin(), subs_.end(), s);
    if (it == subs_.end()) return;
    subs_.erase(it);
    last = subs_.empty();
    if (last) active_.store(false, std::memory_order_release);
  }
  if (last) be_.stop_watching();
}

void EventHub::deliver(const p9::Event& e) {
  std::lock_guard lk(mu_);
  for (Subscription* s : subs_) s->push(e);
}

}  // namespace ninep::server
