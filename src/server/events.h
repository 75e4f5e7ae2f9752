// Change events in the core (docs/events.md): one EventHub per export fans the backend's events
// out to the export's Subscriptions, one per `#events` fid. A subscription keeps at most
// kMaxPending bytes of records; beyond that it drops what it holds and keeps one Overflow record
// instead, so a subscriber that never reads cannot make the server grow. A connection whose
// requests wait for events is woken through its EventWaker, never by polling.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "common/error.h"
#include "p9/events.h"
#include "server/backend.h"

namespace ninep::server {

// Wakes a connection's requests waiting for events. detach() makes it inert (the connection is
// going away): once detach() has returned, wake() never calls into the connection again.
class EventWaker {
 public:
  explicit EventWaker(std::function<void()> wake) : wake_(std::move(wake)) {}
  void wake() {
    std::lock_guard lk(mu_);
    if (wake_) wake_();
  }
  void detach() {
    std::lock_guard lk(mu_);
    wake_ = nullptr;
  }

 private:
  std::mutex mu_;
  std::function<void()> wake_;
};

class EventHub;

class Subscription {
 public:
  // Pending records a subscription holds at most (charged to its connection's memory share).
  static constexpr std::size_t kMaxPending = 256 * 1024;

  Subscription(EventHub& hub, std::shared_ptr<EventWaker> waker);
  ~Subscription();  // leaves the hub
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Moves as many whole pending records as fit into `out`; 0 when none is pending. EMSGSIZE
  // when the next record alone does not fit (it stays pending).
  Result<std::size_t> take(std::span<std::uint8_t> out);
  // Queues `e` (or an Overflow record when full) and wakes the waiting reads.
  void push(const p9::Event& e);
  std::size_t pending_bytes() const;

 private:
  void push_locked(const p9::Event& e);

  EventHub& hub_;
  const std::shared_ptr<EventWaker> waker_;
  mutable std::mutex mu_;
  std::vector<std::uint8_t> buf_;  // records; those before head_ were taken
  std::size_t head_ = 0;
};

class EventHub {
 public:
  EventHub(Backend& backend, std::size_t max_watches) : be_(backend), max_watches_(max_watches) {}
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // A new subscriber, woken through `waker`; the first one makes the backend start watching.
  Result<std::unique_ptr<Subscription>> subscribe(std::shared_ptr<EventWaker> waker);
  // A fid of the export uses `n`: watched while there are subscribers.
  void touched(Node& n) {
    if (active_.load(std::memory_order_acquire)) be_.watch(n);
  }
  bool active() const { return active_.load(std::memory_order_acquire); }

 private:
  friend class Subscription;
  void leave(Subscription* s);
  void deliver(const p9::Event& e);

  Backend& be_;
  const std::size_t max_watches_;
  std::atomic<bool> active_{false};
  std::mutex start_mu_;  // serialises starting and stopping the backend's watching
  std::mutex mu_;        // subs_; held while delivering
  std::vector<Subscription*> subs_;
};

}  // namespace ninep::server
