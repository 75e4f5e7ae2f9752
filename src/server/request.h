// One request of a connection, from its frame to its reply. Requests are recycled by their
// connection (the frame buffer keeps its capacity), so steady traffic does not allocate.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "p9/message.h"

namespace ninep::server {

struct Request {
  enum class State : std::uint8_t { Queued, Executing, Parked };

  std::vector<std::uint8_t> frame;  // owned copy of the request frame; `call` views it
  std::size_t charged = 0;          // bytes of the connection's budget held for `frame`
  p9::Fcall call;
  std::uint16_t tag = 0;
  State state = State::Queued;
  // No reply must be sent (flushed before it ran, or aborted by Tversion / end of connection).
  bool dropped = false;
  // Tags of Tflush requests to answer once this request's reply is out (or it was dropped).
  std::vector<std::uint16_t> flush_waiters;

  // When it entered the run queue (see Connection::worker_main).
  std::chrono::steady_clock::time_point queued_at{};
  // Blocking Tlock retries.
  std::chrono::steady_clock::time_point retry_at{};
  std::chrono::milliseconds retry_delay{0};

  // Intrusive links: the connection's list of requests in flight, and its run queue.
  Request* prev = nullptr;
  Request* next = nullptr;
  Request* queue_next = nullptr;
};

}  // namespace ninep::server
