// Turns one decoded request into its reply, written into the worker's reply buffer. Tversion and
// Tflush are the connection's business and never come here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "p9/message.h"
#include "server/backend.h"
#include "server/session.h"

namespace ninep::server {

// What a thread that runs requests keeps between requests, so handling a request does not allocate.
struct HandlerScratch {
  std::vector<std::uint8_t> buf;  // the reply frame (grown to the connection's msize)
  std::vector<char> scratch;      // readlink targets
  LockHolder holder;              // Tgetlock answers
};

struct Dispatched {
  enum class Outcome : std::uint8_t { Reply, Park, Wait, Kill } outcome = Outcome::Reply;
  std::size_t len = 0;  // reply frame length in HandlerScratch::buf
};

// Handles `call`. Park means: a blocking Tlock found the range taken; run it again later. Wait:
// a read of change events found none pending; run it again once the connection's EventWaker
// is woken. Kill:
// the export's request policy says to drop the connection (no reply).
Dispatched dispatch(Session& s, const p9::Fcall& call, HandlerScratch& w);

}  // namespace ninep::server
