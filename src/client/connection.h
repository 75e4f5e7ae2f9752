// Connection: the request/reply multiplexer under a Session (internal to the client library).
//
// A fixed table of slots, one per tag. Tags [0, N) carry ordinary requests and come from a free
// list; tag N + t is reserved for the Tflush of request t, so a flush never waits for a tag. A
// request goes: begin (take a tag, encode into the slot's reused buffer, write under the send
// lock) -> the reader thread fills the slot (whole reply frame into the slot's buffer, or an
// Rread/Rreaddir payload straight into the caller's buffer) -> finish (wait, flush on
// timeout/cancel, decode, hand over, free the tag). Beginning several requests before finishing
// them pipelines them (used by large reads and writes).
//
// Who receives: one thread at a time reads the stream (the receiver), and fills whichever slots
// its frames are for. When polling is on (SessionOptions::poll_max) and a request is the only one
// in flight, its caller is the receiver: finish() polls the stream for up to the window and takes
// the reply itself, with no hand-off through the reader thread (two thread wake-ups fewer per
// round trip). Replies that do not come within the window, concurrent requests and asynchronous
// clunks are left to the reader thread, which with nothing to receive sleeps in
// Stream::wait_hangup() (so that it does not take the callers' data, and still sees the server
// hang up). Without polling the reader thread is the only receiver and blocks in read(), as
// before.
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
  // Replies received by the thread that waited for them (not the reader thread).
  std::uint64_t own_replies() const { return own_replies_.load(std::memory_order_relaxed); }
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

  // `own_reply`: the caller will finish() the request and may receive its reply itself.
  Result<std::uint16_t> take_tag(bool own_reply, bool async = false);
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

  // ---- receiving (by the receiver only; see the class comment) ----
  enum class Receiver : std::uint8_t { None, Reader, Caller };
  static constexpr int kFailed = -2;   // receive_frame(): the connection is broken
  static constexpr int kNoReply = -1;  // receive_frame(): nothing more to account for
  // Reads one frame and fills its slot. Returns the tag whose slot it completed (its reply now
  // awaits finish()), kNoReply (dropped, or an asynchronous clunk's, accounted for already) or
  // kFailed (error_ says why).
  int receive_frame();
  // True when a whole frame (or a header that is bad by itself) is buffered: receive_frame() will
  // not read the stream.
  bool frame_buffered() const;
  // finish(): the caller receives until its own slot completes, nothing comes within the polling
  // window, or the frame is too large for the buffer. True when the slot completed.
  bool receive_own(Slot& s);
  // The reply for `tag` has come, or never will (tags_mu_ held).
  void answered_locked(int tag, bool async);
  // Requests the reader thread should receive replies for (tags_mu_ held).
  std::uint32_t reader_work_locked() const;
  void wake_reader_locked();
  void reader_loop();
  // The reader thread as the receiver, until nothing is left for it (true) or the connection broke.
  bool reader_receive(std::chrono::steady_clock::time_point handed_over);
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
  // The receiver and what it has to do (tags_mu_).
  bool self_receive_ = false;  // callers may receive (polling on): set once by start_reader()
  Receiver receiver_ = Receiver::None;
  std::uint32_t unanswered_ = 0;        // slots in flight whose reply has not come
  std::uint32_t async_unanswered_ = 0;  // of which asynchronous clunks
  int reserved_ = -1;         // the tag whose caller will receive its own reply (about to finish())
  bool reader_idle_ = false;  // the reader thread sleeps in wait_hangup(): ring to wake it
  bool reader_timed_ = false;  // ... for at most 1 ms (replies to asynchronous clunks due)
  bool hangup_ = false;        // the server hung up: the reader receives what is left
  std::chrono::steady_clock::time_point handed_over_{};  // when a caller's missed wait began
  std::condition_variable reader_cv_;                    // a caller that was the receiver is done

  std::mutex send_mu_;
  std::atomic<std::uint64_t> requests_{0}, flushes_{0}, own_replies_{0};

  std::vector<std::uint8_t> rbuf_;
  std::size_t rpos_ = 0, rend_ = 0;
  std::thread reader_;
};

}  // namespace ninep::client
