#include "server/inflight.h"

namespace ninep::server {
namespace {
// Frame buffers above this size are not kept by more than a few recycled requests.
constexpr std::size_t kBigFrame = 64 * 1024;
}  // namespace

InFlightTable::InFlightTable(std::size_t keep_big) : keep_big_(keep_big), tags_(65536 / 64, 0) {}

Request* InFlightTable::acquire() {
  if (!free_.empty()) {
    Request* r = free_.back();
    free_.pop_back();
    return r;
  }
  requests_.push_back(std::make_unique<Request>());
  return requests_.back().get();
}

void InFlightTable::release(Request* r) {
  r->dropped = false;
  r->flush_waiters.clear();
  r->retry_delay = std::chrono::milliseconds(0);
  r->prev = r->next = r->queue_next = nullptr;
  r->state = Request::State::Queued;
  r->call = p9::Fcall{};
  r->charged = 0;
  if (r->frame.capacity() > kBigFrame) {
    std::size_t big = 0;
    for (Request* f : free_) big += f->frame.capacity() > kBigFrame;
    if (big >= keep_big_) std::vector<std::uint8_t>().swap(r->frame);
  }
  free_.push_back(r);
}

bool InFlightTable::tag_in_use(std::uint16_t tag) const {
  return (tags_[tag / 64] & (std::uint64_t{1} << (tag % 64))) != 0;
}

InFlightTable::Added InFlightTable::add(Request* r, std::uint32_t max) {
  if (tag_in_use(r->tag)) return Added::TagInUse;
  if (count_ >= max) return Added::Full;
  tags_[r->tag / 64] |= std::uint64_t{1} << (r->tag % 64);
  r->prev = nullptr;
  r->next = head_;
  if (head_ != nullptr) head_->prev = r;
  head_ = r;
  ++count_;
  return Added::Ok;
}

void InFlightTable::remove(Request* r) {
  if (r->prev != nullptr)
    r->prev->next = r->next;
  else if (head_ == r)
    head_ = r->next;
  if (r->next != nullptr) r->next->prev = r->prev;
  r->prev = r->next = nullptr;
  --count_;
  tags_[r->tag / 64] &= ~(std::uint64_t{1} << (r->tag % 64));
}

Request* InFlightTable::find(std::uint16_t tag) const {
  if (!tag_in_use(tag)) return nullptr;
  Request* r = head_;
  while (r != nullptr && r->tag != tag) r = r->next;
  return r;
}

}  // namespace ninep::server
