#include "server/scheduler.h"

#include <algorithm>

namespace ninep::server {
namespace {
constexpr auto kFirstRetry = std::chrono::milliseconds(1);
constexpr auto kMaxRetry = std::chrono::milliseconds(50);
// How long a queued request waits for a running worker before an extra one takes it.
constexpr auto kStandbyDelay = std::chrono::milliseconds(1);
}  // namespace

Scheduler::Scheduler(std::mutex& mu, std::uint32_t max_threads, RunFn run)
    : mu_(mu),
      max_threads_(std::max(1u, max_threads)),
      running_cap_(std::max(2u, std::thread::hardware_concurrency())),
      run_(std::move(run)) {}

Scheduler::~Scheduler() {
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

void Scheduler::run_here(Request* r) {
  r->state = Request::State::Executing;
  ++executing_;
}

void Scheduler::enqueue(Request* r) {
  r->state = Request::State::Queued;
  r->queue_next = nullptr;
  if (tail_ != nullptr)
    tail_->queue_next = r;
  else
    head_ = r;
  tail_ = r;
  r->queued_at = std::chrono::steady_clock::now();
  wake();
}

bool Scheduler::withdraw(Request* r) {
  if (r->state == Request::State::Executing) return false;
  Request** link = r->state == Request::State::Queued ? &head_ : &parked_;
  Request* prev = nullptr;
  while (*link != nullptr && *link != r) {
    prev = *link;
    link = &(*link)->queue_next;
  }
  if (*link != r) return false;
  *link = r->queue_next;
  if (r->state == Request::State::Queued && tail_ == r) tail_ = prev;
  r->queue_next = nullptr;
  return true;
}

void Scheduler::park(Request* r) {
  finished();
  r->retry_delay =
      r->retry_delay.count() == 0 ? kFirstRetry : std::min(r->retry_delay * 2, kMaxRetry);
  r->retry_at = std::chrono::steady_clock::now() + r->retry_delay;
  r->state = Request::State::Parked;
  r->queue_next = parked_;
  parked_ = r;
}

void Scheduler::park_until_woken(Request* r) {
  finished();
  r->retry_at = std::chrono::steady_clock::time_point::max();
  r->state = Request::State::Parked;
  r->queue_next = parked_;
  parked_ = r;
}

void Scheduler::wake_waiting() {
  for (Request** link = &parked_; *link != nullptr;) {
    Request* r = *link;
    if (r->retry_at == std::chrono::steady_clock::time_point::max()) {
      *link = r->queue_next;
      enqueue(r);
    } else {
      link = &r->queue_next;
    }
  }
}

void Scheduler::finished() {
  --executing_;
  if (executing_ == 0) idle_cv_.notify_all();
}

void Scheduler::drop_waiting(const std::function<void(Request*)>& drop) {
  for (Request* list : {head_, parked_}) {
    while (list != nullptr) {
      Request* next = list->queue_next;
      drop(list);
      list = next;
    }
  }
  head_ = tail_ = parked_ = nullptr;
}

void Scheduler::wait_idle(std::unique_lock<std::mutex>& lk) {
  idle_cv_.wait(lk, [this] { return executing_ == 0; });
}

void Scheduler::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void Scheduler::wake() {
  // Enough workers run (or are waking up): one of them takes the request when it is done, or
  // the standby does (see worker_main).
  if (executing_ + waking_ >= running_cap_ && (standby_ || waking_ > 0)) return;
  if (idle_workers_ > waking_) {
    ++waking_;
    work_cv_.notify_one();
  } else if (workers_.size() < max_threads_) {
    ++waking_;
    workers_.emplace_back(&Scheduler::worker_main, this);
  }
}

// With data I/O streaming in, a queued request waits for a running worker to finish. So that a
// worker blocked for long (fsync, a slow disk) cannot stall the queue, one idle worker stands
// by and takes the head once it has waited kStandbyDelay.
void Scheduler::worker_main() {
  using Clock = std::chrono::steady_clock;
  HandlerScratch scratch;
  std::unique_lock lk(mu_);
  if (waking_ > 0) --waking_;
  for (;;) {
    Request* r = nullptr;
    const bool overdue = head_ != nullptr && executing_ >= running_cap_ &&
                         Clock::now() - head_->queued_at >= kStandbyDelay;
    if (head_ != nullptr && (executing_ < running_cap_ || overdue)) {
      r = head_;
      head_ = r->queue_next;
      if (head_ == nullptr) tail_ = nullptr;
    } else if (parked_ != nullptr) {
      r = take_due_parked(Clock::now());
    }
    if (r != nullptr) {
      r->state = Request::State::Executing;
      r->queue_next = nullptr;
      ++executing_;
      // Whoever runs now may take long: the rest of the queue needs a worker or a standby.
      if (head_ != nullptr) wake();
      lk.unlock();
      run_(r, scratch);
      lk.lock();
      continue;
    }
    if (stopping_) break;
    ++idle_workers_;
    auto deadline = Clock::time_point::max();
    const bool standby = head_ != nullptr && !standby_;
    if (standby) {
      standby_ = true;
      deadline = head_->queued_at + kStandbyDelay;
    }
    for (Request* p = parked_; p != nullptr; p = p->queue_next)
      deadline = std::min(deadline, p->retry_at);  // max(): until woken
    if (deadline == Clock::time_point::max())
      work_cv_.wait(lk);
    else
      work_cv_.wait_until(lk, deadline);
    if (standby) standby_ = false;
    if (waking_ > 0) --waking_;
    --idle_workers_;
  }
}

Request* Scheduler::take_due_parked(std::chrono::steady_clock::time_point now) {
  for (Request** link = &parked_; *link != nullptr; link = &(*link)->queue_next) {
    Request* r = *link;
    if (r->retry_at <= now) {
      *link = r->queue_next;
      return r;
    }
  }
  return nullptr;
}

}  // namespace ninep::server
