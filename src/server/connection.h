// One client connection over a byte stream: a reader that frames requests and runs short
// metadata requests itself when nothing else is in flight, handing the rest to a pool of worker
// threads (started on demand, up to ServerConfig::threads; about one running per CPU, plus a
// standby for when those are stuck), replies written whole with one writev under the
// connection's write lock, Tflush answered only once the flushed request's reply is out (or it
// was dropped before running), Tversion resetting the session.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "p9/frame_reader.h"
#include "server/dispatch.h"
#include "server/request.h"
#include "server/session.h"
#include "transport/stream.h"

namespace ninep::server {

class Connection {
 public:
  Connection(const ServerConfig& cfg, const std::vector<Export>& exports, const Log& log,
             Budget& budget, std::uint64_t id, transport::Stream stream);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves until the peer closes the stream, the stream fails, the peer sends garbage, or stop()
  // is called; then drops what is outstanding, clunks every fid and closes the stream.
  void run();
  // Makes run() return soon. Safe from any thread.
  void stop();

  std::uint64_t id() const { return session_.conn_id; }

 private:
  // Reader side.
  void wait_for_room();
  bool on_frame(p9::Bytes frame);
  void handle_version(Request* r);
  void handle_flush(Request* r);
  void reply_now(const std::uint8_t* frame, std::size_t len);
  void reply_error(std::uint16_t tag, std::uint32_t ecode);
  bool admit(Request* r);
  void enqueue(Request* r);
  void wake_for_queue();

  // Worker side.
  void worker_main();
  void execute(Request* r, Worker& w);
  void finish(Request* r, const std::uint8_t* reply, std::size_t len);
  void park(Request* r);
  Request* take_due_parked(std::chrono::steady_clock::time_point now);
  bool write_frames(std::span<iovec> iov);

  // Bookkeeping (mu_ held).
  Request* get_request();
  void recycle(Request* r);
  void unlink_inflight(Request* r);
  void abort_outstanding();
  void trace(const char* dir, p9::Bytes frame) const;

  const ServerConfig& cfg_;
  const Log& log_;
  Session session_;
  transport::Stream stream_;
  std::atomic<bool> stop_requested_{false};
  p9::FrameReader reader_;
  Worker reader_worker_;  // for requests the reader runs itself
  bool versioned_ = false;
  bool broken_ = false;  // a write failed; guarded by write_mu_

  std::mutex mu_;
  std::condition_variable work_cv_;  // workers: queue or parked retries
  std::condition_variable idle_cv_;  // reader: waiting for executing requests to finish
  std::condition_variable room_cv_;  // reader: waiting for frames in flight to be freed
  Request* queue_head_ = nullptr;
  Request* queue_tail_ = nullptr;
  Request* parked_ = nullptr;    // singly linked through queue_next
  Request* inflight_ = nullptr;  // doubly linked through prev/next
  std::uint32_t inflight_count_ = 0;
  std::uint32_t executing_ = 0;
  std::uint32_t idle_workers_ = 0;
  // Workers running at once before queued requests wait for one of them (CPUs, at least 2).
  const std::uint32_t running_cap_;
  bool standby_ = false;      // an idle worker waits with a deadline for the queue's head
  std::uint32_t waking_ = 0;  // workers notified or started that have not looked at the queue
  bool stopping_ = false;
  std::vector<std::uint64_t> tags_in_use_;  // bitmap of 65536 tags
  std::vector<std::unique_ptr<Request>> requests_;
  std::vector<Request*> free_requests_;
  std::vector<std::thread> workers_;

  std::mutex write_mu_;
};

}  // namespace ninep::server
