// The FUSE daemon's multi-threaded request loop, in place of libfuse's fuse_session_loop_mt: its
// workers wait for the next request on /dev/fuse the way the 9P connection readers wait for
// replies (transport/poll_window.h): first polling for up to an adaptive window, then sleeping in
// a blocking read.
//
// On a VM an idle vCPU halts, and a worker woken from a blocking read costs tens of microseconds
// per request; a worker that has just replied and polls catches the next request of a serial
// caller with its CPU still running. At most one worker polls at a time (polling costs a CPU);
// the others sleep in read(), where the kernel wakes one of them per request (an exclusive wait),
// so sleeping workers cost nothing.
//
// Threads are managed like libfuse's: one worker to start with, another whenever a worker takes a
// request and no other is left waiting, up to max_threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <thread>

#include "transport/poll_window.h"

struct fuse_session;
struct fuse_buf;

namespace ninep::fuse {

class RequestLoop {
 public:
  // `poll_max` zero: never poll (pure blocking reads, as libfuse's loop).
  RequestLoop(fuse_session* se, unsigned max_threads, std::chrono::nanoseconds poll_max);
  RequestLoop(const RequestLoop&) = delete;
  RequestLoop& operator=(const RequestLoop&) = delete;

  // Serves requests until the session ends: it was exited (fuse_session_exit, exit()), the file
  // system was unmounted or its connection aborted (0), or reading /dev/fuse failed (-errno).
  // Returns once every worker has ended. Workers inherit the calling thread's signal mask, with
  // SIGINT, SIGTERM, SIGHUP and SIGQUIT blocked besides (as libfuse's are).
  int run();

  // Ends the loop: exits the session and wakes the workers that wait for a request. A worker busy
  // with a request ends once it has replied. Safe from any thread while run() runs (not from a
  // signal handler).
  void exit();

 private:
  using Clock = std::chrono::steady_clock;
  struct Worker {
    std::thread thread;
    bool waiting = false;  // between the start of its wait and the request's arrival
  };

  void spawn_locked();
  void wake_waiting_locked();
  void work(Worker& self);
  // One wait for a request and its read into `buf` (fuse_session_receive_buf's result).
  int receive(fuse_buf& buf);
  // A request has come: tells the window how long the last poller's missed wait lasted.
  void record_missed_wait();

  fuse_session* const se_;
  const int fd_;
  const unsigned max_threads_;
  const bool poll_ = false;

  // Who polls: the one worker that set this flag. It alone touches window_.
  std::atomic<bool> polling_{false};
  transport::PollWindow window_;
  // When the last poller that found nothing began its wait (steady clock, ns; 0: none pending):
  // the next request to come, whichever worker takes it, ends that wait.
  std::atomic<std::int64_t> missed_since_{0};

  std::mutex mu_;
  std::condition_variable cv_;  // a worker ended, or exit() was called
  std::list<Worker> workers_;   // a list: a worker keeps a reference to its entry
  unsigned live_ = 0;           // workers not yet ended
  unsigned waiting_ = 0;        // workers waiting for a request
  bool ending_ = false;         // no new workers; the waiting ones are woken until all have ended
  int error_ = 0;               // the read error that ended the loop (errno)
};

}  // namespace ninep::fuse
