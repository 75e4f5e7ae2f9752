// Runs one connection's requests on worker threads: started on demand up to a maximum, about one
// running per CPU (more only make them preempt each other and the reader), plus a standby that
// takes the queue's head when the running ones are stuck; blocking Tlock retries wait parked
// with a growing delay, and reads of change events parked until wake_waiting() (no timer). Guarded
// by the connection's mutex, which it is given: every member but stop() expects the caller to hold
// it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "server/dispatch.h"
#include "server/request.h"

namespace ninep::server {

class Scheduler {
 public:
  // Runs a request on a worker thread, without the mutex held.
  using RunFn = std::function<void(Request*, HandlerScratch&)>;

  Scheduler(std::mutex& mu, std::uint32_t max_threads, RunFn run);
  ~Scheduler();  // joins the workers (stop() first)
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Nothing queued and nothing running: the caller may run a short request itself.
  bool idle() const { return head_ == nullptr && executing_ == 0; }
  // The caller runs `r` itself; it counts as running until finished().
  void run_here(Request* r);
  // Queues `r` and wakes (or starts) a worker for it.
  void enqueue(Request* r);
  // Takes a queued or parked `r` out; false when it is running (or not here).
  bool withdraw(Request* r);
  // A running request that must wait (a blocking Tlock): retried after a growing delay.
  void park(Request* r);
  // A running request that waits for wake_waiting() (a read of change events), not a timer.
  void park_until_woken(Request* r);
  // Queues again every request parked by park_until_woken().
  void wake_waiting();
  // A running request is done.
  void finished();
  // Hands every queued and parked request to `drop`, and forgets them.
  void drop_waiting(const std::function<void(Request*)>& drop);
  // Waits until nothing runs; `lk` holds the mutex.
  void wait_idle(std::unique_lock<std::mutex>& lk);
  bool stopping() const { return stopping_; }
  // Stops and joins the workers. Called without the mutex held.
  void stop();

 private:
  void wake();
  void worker_main();
  Request* take_due_parked(std::chrono::steady_clock::time_point now);

  std::mutex& mu_;
  const std::uint32_t max_threads_;
  const std::uint32_t running_cap_;  // running workers before the queue waits (CPUs, at least 2)
  const RunFn run_;
  std::condition_variable work_cv_;  // workers: the queue or parked retries
  std::condition_variable idle_cv_;  // wait_idle()
  Request* head_ = nullptr;          // the run queue, linked through queue_next
  Request* tail_ = nullptr;
  Request* parked_ = nullptr;  // linked through queue_next
  std::uint32_t executing_ = 0;
  std::uint32_t idle_workers_ = 0;
  bool standby_ = false;      // an idle worker waits with a deadline for the queue's head
  std::uint32_t waking_ = 0;  // workers notified or started that have not looked at the queue
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace ninep::server
