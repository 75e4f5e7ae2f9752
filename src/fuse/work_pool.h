// A small fixed pool of threads that runs batches of independent tasks in parallel, e.g. the
// lookups of one readdirplus reply: each is a round trip to the server, and the session carries
// many at once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ninep::fuse {

class WorkPool {
 public:
  explicit WorkPool(std::size_t threads);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Runs every task, several at once, and returns when all have finished. The calling thread
  // takes part, so a batch always makes progress.
  void run_all(std::vector<std::function<void()>>& tasks);

 private:
  struct Batch;
  void worker();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ninep::fuse
