// One client connection over a byte stream. The reader frames requests, answers Tversion and
// Tflush itself, and runs short metadata requests itself when nothing else is in flight; the rest
// go to the connection's Scheduler (worker threads). The InFlightTable knows every admitted
// request by tag, for Tflush: a flush is answered only once the flushed request's reply is out (or
// it was dropped before running). Replies are written whole, one writev under the write lock.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "p9/frame_reader.h"
#include "server/dispatch.h"
#include "server/inflight.h"
#include "server/request.h"
#include "server/scheduler.h"
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
  bool charge_read_buffer();
  bool on_frame(p9::Bytes frame);
  void handle_version(Request* r);
  void handle_flush(Request* r);
  bool admit(Request* r);

  // Running a request (on a worker, or on the reader) and answering it.
  void execute(Request* r, HandlerScratch& scratch);
  // A running request that must wait, unless it was flushed meanwhile: a blocking Tlock is
  // retried after a delay; a read of change events that found none (`events_seen`: event_wakes_
  // when it started, so that a wake-up while it ran is not lost) waits until the waker runs.
  void park(Request* r, std::optional<std::uint64_t> events_seen);
  void wake_event_waiters();
  void finish(Request* r, const std::uint8_t* reply, std::size_t len);

  // Writing replies.
  void reply_now(const std::uint8_t* frame, std::size_t len);
  void reply_error(std::uint16_t tag, std::uint32_t ecode);
  void reply_flushes(const std::vector<std::uint16_t>& tags);
  bool write_frames(std::span<iovec> iov);  // write_mu_ held
  void trace(const char* dir, p9::Bytes frame) const;

  // mu_ held.
  void recycle(Request* r);
  void abort_outstanding();

  const ServerConfig& cfg_;
  const Log& log_;
  Session session_;
  transport::Stream stream_;
  std::atomic<bool> stop_requested_{false};
  p9::FrameReader reader_;
  // What the read buffer holds beyond its first kReadChunk (a frame in progress made it grow),
  // drawn from the budget: a peer that sends half a frame and stalls holds that memory.
  std::size_t reader_charged_ = 0;
  const std::uint64_t budget_bytes_;  // the server's limit (Budget::kBytes)
  HandlerScratch reader_scratch_;     // for requests the reader runs itself
  bool versioned_ = false;

  std::mutex mu_;                    // guards table_, scheduler_ and the requests in them
  std::condition_variable room_cv_;  // reader: waiting for frames in flight to be freed
  InFlightTable table_;
  Scheduler scheduler_;
  std::atomic<std::uint64_t> event_wakes_{0};  // changed under mu_

  std::mutex write_mu_;
  bool broken_ = false;  // a write failed; guarded by write_mu_
};

}  // namespace ninep::server
