// Connection: the request/reply multiplexer under a Session (internal to the client library).
//
// A fixed table of slots, one per tag. Tags [0, N) carry ordinary requests and come from a free
// list; tag N + t is reserved for the Tflush of request t, so a flush never waits for a tag. A
// request goes: begin (take a tag, encode into the slot's reused buffer, write under the send
// lock) -> the reader thread fills the slot (whole reply frame into the slot's buffer, or an
// Rread/Rreaddir payload straight into the caller's buffer) -> finish (wait, flush on
// timeout/cancel, decode, hand over, free the tag). Beginning several requests before finishing
// them pipelines them (used by large reads and writes).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <stop_token>
#include <thread>
#include <vector>

#include "common/error.h"
#include "p9/message.h"
#include "transport/stream.h"

namespace ninep::client {

class FidPool;

class Connection {
 public:
  using ReplyFn = Result<void> (*)(void* ctx, const p9::Message& reply);

  struct Wait {
    // Zero: no deadline.
    std::chrono::milliseconds timeout{0};
    std::stop_token stop;
  };

  // Takes a connected stream on which Tversion has already been negotiated.
  Connection(transport::Stream stream, std::uint32_t msize, std::uint16_t max_in_flight,
             FidPool& fids);
  ~Connection();
  void start_reader();

  // Sends a request; on success the returned tag must be passed to finish() exactly once.
  // `direct`, for Tread/Treaddir, receives the reply payload.
  Result<std::uint16_t> begin(const p9::Message& req, std::span<std::uint8_t> direct = {});
  // Twrite whose data is sent from the caller's buffer (must stay valid until finish()).
  Result<std::uint16_t> begin_write(std::uint32_t fid, std::uint64_t offset,
                                    std::span<const std::uint8_t> data);
  // Waits for the reply of `tag` and frees the tag. For direct requests returns the payload byte
  // count (on_reply not called); otherwise calls on_reply (if not null) with the decoded reply
  // and returns 0. Rlerror -> Error(errno); a reply type other than `expect` -> EPROTO.
  Result<std::size_t> finish(std::uint16_t tag, p9::Type expect, ReplyFn on_reply, void* ctx,
                             const Wait& wait);

  // Tclunk without waiting: the reader frees tag and fid number when the reply arrives.
  void clunk_async(std::uint32_t fid);
  // Explicit Tflush of a tag (waits for Rflush).
  Result<void> flush(std::uint16_t oldtag);

  void shutdown(Error why);
  bool alive() const { return !dead_.load(std::memory_order_acquire); }
  Error error() const;
  std::uint32_t in_flight() const;
  std::uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  std::uint64_t flushes() const { return flushes_.load(std::memory_order_relaxed); }
  void wait_idle();
  // Like wait_idle(), for at most `timeout`; true when idle.
  bool wait_idle_for(std::chrono::milliseconds timeout);
  std::uint32_t msize() const { return msize_; }

 private:
  enum class State : std::uint8_t { Free, InFlight, Replied, Failed, Abandoned };
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    State state = State::Free;
    bool cancel = false;                   // a stop_token fired
    std::uint32_t async_fid = p9::kNoFid;  // fire-and-forget Tclunk of this fid
    std::vector<std::uint8_t> out;         // encoded request
    std::vector<std::uint8_t> reply;       // whole reply frame (non-direct replies)
    std::size_t reply_len = 0;
    std::span<std::uint8_t> direct;  // payload destination of Tread/Treaddir
    p9::Type direct_type = p9::Type::Rread;
    bool got_direct = false;
    std::size_t direct_count = 0;
    Error error;
  };

  Result<std::uint16_t> take_tag();
  void free_tag(std::uint16_t tag);
  // Marks the reserved flush slot of `tag` in flight (false when the connection is dead).
  bool arm(std::uint16_t tag);
  void reset_in_flight(Slot& s);
  Result<void> send(std::span<const std::uint8_t> frame, std::span<const std::uint8_t> extra);
  void kill(Error why);
  // Waits until the slot is no longer in flight, the deadline passes or a stop is requested.
  // Returns true when the slot completed.
  bool wait_slot(Slot& s, std::unique_lock<std::mutex>& lk,
                 std::chrono::steady_clock::time_point deadline);
  Result<void> flush_and_wait(std::uint16_t oldtag, std::chrono::milliseconds timeout);

  // Reader thread.
  void reader_loop();
  bool fill(std::size_t min);
  bool take(std::uint8_t* dst, std::size_t n);
  bool skip(std::size_t n);
  // Records why reading failed (a null error: the server closed) and returns false.
  bool receive_failed(const Error* why);
  void fail_all();

  transport::Stream stream_;
  std::uint32_t msize_;
  std::uint16_t ntags_;
  FidPool& fids_;
  std::vector<std::unique_ptr<Slot>> slots_;

  mutable std::mutex
      tags_mu_;  // guards free_tags_, in_flight_, error_; order: tags_mu_ -> Slot::mu
  std::condition_variable tags_cv_;
  std::vector<std::uint16_t> free_tags_;
  std::uint32_t in_flight_ = 0;
  Error error_;
  std::atomic<bool> dead_{false};

  std::mutex send_mu_;
  std::atomic<std::uint64_t> requests_{0}, flushes_{0};

  std::vector<std::uint8_t> rbuf_;
  std::size_t rpos_ = 0, rend_ = 0;
  std::thread reader_;
};

}  // namespace ninep::client
