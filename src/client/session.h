// A 9P2000.L client session: one connection, version negotiated, many concurrent requests.
//
// Threads: any number of threads may issue requests on one Session at once. Each request takes a
// tag from a fixed table, is written whole under a send lock, and waits for its reply; a single
// reader thread per session reads replies and hands each to the request with the same tag (reading
// Rread/Rreaddir payloads straight into the caller's buffer). Nothing is allocated per request on
// the hot path: tag slots and their reply buffers are reused.
//
// Failure: when the connection dies (EOF, reset, protocol error, local shutdown()), every pending
// request and every later one fails at once with the connection's error (ECONNRESET, EPIPE,
// EPROTO or ESHUTDOWN). No call ever waits on a dead connection.
//
// Cancellation: a request that times out (SessionOptions::request_timeout or CallOptions) or whose
// stop_token is triggered sends Tflush and waits for Rflush before its tag is reused. If the reply
// arrived before Rflush the request counts as completed and its result is returned; otherwise the
// call fails with ETIMEDOUT (timeout) or ECANCELED (stop request). If even the Rflush does not
// arrive in time, the session is declared dead (ETIMEDOUT) rather than risking a hang.
//
// Lifetime: hold sessions by std::shared_ptr; every Fid handle keeps its session alive. Destroying
// the last reference waits (up to 2 s) for requests still in flight, such as the clunks of dropped
// handles, then closes the connection and joins the reader thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string_view>
#include <type_traits>

#include "client/fid.h"
#include "client/types.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "p9/message.h"
#include "transport/address.h"
#include "transport/poll_window.h"

namespace ninep::client {

struct SessionOptions {
  // The msize requested in Tversion. The server may answer lower (accepted) but never higher
  // (rejected with EPROTO).
  std::uint32_t msize = 512 * 1024;
  // Default deadline of every request; zero means no deadline (wait until reply or connection
  // death). Expiry flushes the request (see above).
  std::chrono::milliseconds request_timeout{0};
  // Requests that may be in flight at once (tags); further callers wait for a free tag. 1..32768.
  std::uint16_t max_in_flight = 256;
  // How long a caller polls the connection for its reply before it sleeps, at most (the window
  // adapts: transport/poll_window.h). Zero: never poll.
  std::chrono::microseconds poll_max = transport::PollWindow::kDefaultMax;
};

// Per-call overrides for Session::call.
struct CallOptions {
  // Negative: use SessionOptions::request_timeout. Zero: no deadline.
  std::chrono::milliseconds timeout{-1};
  // When stop is requested while the call waits, the request is flushed (ECANCELED).
  std::stop_token stop;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // Negotiates the version (Tversion "9P2000.L") on an already connected stream and starts the
  // reader thread. Fails with EPROTO when the server answers another version or a larger msize.
  static Result<std::shared_ptr<Session>> start(UniqueFd conn, const SessionOptions& opts = {});
  // transport::dial(addr), then start().
  static Result<std::shared_ptr<Session>> connect(const transport::Address& addr,
                                                  const SessionOptions& opts = {});
  // parse_address(address), then connect().
  static Result<std::shared_ptr<Session>> connect(std::string_view address,
                                                  const SessionOptions& opts = {});

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  // Tattach (afid NOFID: no authentication). Returns a handle on the root of `aname`. diod needs a
  // numeric n_uname (e.g. getuid()). May be called several times (one root per user).
  Result<Fid> attach(std::string_view uname, std::string_view aname,
                     std::uint32_t n_uname = p9::kNoUid);

  // The negotiated msize, and the largest payload of one Tread/Twrite/Treaddir (msize - 24).
  std::uint32_t msize() const { return msize_; }
  std::uint32_t max_io() const { return msize_ - static_cast<std::uint32_t>(p9::kIoHeaderSize); }

  // Closes the connection at once. Pending and later requests fail with ESHUTDOWN. Idempotent;
  // the destructor does it after letting in-flight requests finish.
  void shutdown();
  // False once the connection has died or been shut down.
  bool connected() const;
  // Why the connection ended (code 0 while it is alive).
  Error connection_error() const;

  SessionStats stats() const;
  // Blocks until no request is in flight (e.g. the asynchronous clunks of destroyed Fid handles)
  // or the connection is dead.
  void wait_idle();

  // ---- low level: one request, one reply ----

  // Called with the decoded reply; its views are valid only during the call.
  using ReplyFn = Result<void> (*)(void* ctx, const p9::Message& reply);

  // Sends `request` (any T-message except Tversion/Tflush) and waits for the reply. An Rlerror
  // reply becomes an Error carrying its errno (on_reply is not called). A reply whose type is not
  // request+1 is EPROTO. Fids named in the request must be owned by the caller.
  Result<void> call(const p9::Message& request, ReplyFn on_reply, void* ctx,
                    const CallOptions& opts = {});
  template <typename F>
  requires std::is_invocable_r_v < Result<void>, std::remove_reference_t<F>
  &, const p9::Message& >
         Result<void> call(const p9::Message& request, F&& on_reply, const CallOptions& opts = {}) {
    using Fn = std::remove_reference_t<F>;
    return call(
        request,
        [](void* c, const p9::Message& m) -> Result<void> { return (*static_cast<Fn*>(c))(m); },
        const_cast<void*>(static_cast<const void*>(&on_reply)), opts);
  }
  // A request whose reply carries nothing of interest (Rclunk, Rsetattr, ...).
  Result<void> call(const p9::Message& request, const CallOptions& opts = {});

  // Tread/Treaddir with the reply payload read straight into `dst` (at most dst.size() bytes are
  // requested). Returns the byte count the server sent.
  Result<std::size_t> call_read(const p9::Tread& request, std::span<std::uint8_t> dst,
                                const CallOptions& opts = {});
  Result<std::size_t> call_readdir(const p9::Treaddir& request, std::span<std::uint8_t> dst,
                                   const CallOptions& opts = {});
  // Twrite without copying `request.data` (sent with writev). Returns Rwrite's count.
  Result<std::size_t> call_write(const p9::Twrite& request, const CallOptions& opts = {});

  // Sends Tflush(oldtag) and waits for Rflush. Requests cancelled through timeouts or stop tokens
  // are flushed automatically; this is for callers that track tags themselves.
  Result<void> flush(std::uint16_t oldtag);

  // ---- fid numbers (normally managed by Fid handles) ----

  // A fresh fid number not in use on this connection (ENFILE when all 2^32-1 are taken).
  Result<std::uint32_t> alloc_fid();
  // Returns a number that the server no longer knows (clunked, or never used) to the pool.
  void release_fid(std::uint32_t fid);
  // Sends Tclunk without waiting; the fid number returns to the pool when Rclunk (or Rlerror)
  // arrives. Used by ~Fid so that dropping a handle costs no round trip.
  void clunk_async(std::uint32_t fid);

  // Remembered server limitation: Tunlinkat answered EOPNOTSUPP once (diod), so use walk+Tremove.
  bool unlinkat_unsupported() const;
  void set_unlinkat_unsupported();
  bool renameat_unsupported() const;
  void set_renameat_unsupported();

 private:
  friend class Fid;
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl, std::uint32_t msize);
  // Default per-request wait (timeout from SessionOptions).
  CallOptions default_call() const;
  std::unique_ptr<Impl> impl_;
  std::uint32_t msize_;
};

}  // namespace ninep::client
