#include "fuse/work_pool.h"

#include <signal.h>

#include <atomic>
#include <memory>

namespace ninep::fuse {

struct WorkPool::Batch {
  std::mutex mu;
  std::condition_variable done_cv;
  std::size_t remaining = 0;
};

WorkPool::WorkPool(std::size_t threads) {
  // The pool's threads never take the signals the mount's watcher waits for.
  sigset_t s, old;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &s, &old);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { worker(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkPool::worker() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

void WorkPool::run_all(std::vector<std::function<void()>>& tasks) {
  if (tasks.empty()) return;
  auto batch = std::make_shared<Batch>();
  batch->remaining = tasks.size();
  auto wrap = [batch](std::function<void()>& t) {
    return [batch, &t] {
      t();
      std::lock_guard lk(batch->mu);
      if (--batch->remaining == 0) batch->done_cv.notify_all();
    };
  };
  // The first task runs on this thread, the others on the pool's.
  {
    std::lock_guard lk(mu_);
    for (std::size_t i = 1; i < tasks.size(); ++i) queue_.push_back(wrap(tasks[i]));
  }
  cv_.notify_all();
  wrap(tasks[0])();
  std::unique_lock lk(batch->mu);
  batch->done_cv.wait(lk, [&] { return batch->remaining == 0; });
}

}  // namespace ninep::fuse
