// A subscription to a server's change events (docs/events.md): Tattach with `<aname>#events`,
// Tlopen, then each Tread waits for a batch of records (p9/events.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "client/fid.h"
#include "client/session.h"
#include "common/error.h"
#include "p9/events.h"

namespace ninep::client {

class EventStream {
 public:
  // Subscribes to the events of export `aname` ("" for the default one). A server that offers
  // none answers an error (diod: ENOENT or EACCES for the unknown aname).
  static Result<EventStream> open(const std::shared_ptr<Session>& session, std::string_view uname,
                                  std::string_view aname, std::uint32_t n_uname = p9::kNoUid);

  // Waits for the next batch (one event or more). With a deadline or a stop token in `opts`,
  // the waiting read is flushed when it expires (ETIMEDOUT / ECANCELED) and the subscription
  // stays usable.
  Result<std::vector<p9::Event>> next(const CallOptions& opts = {});

  const Fid& fid() const { return fid_; }
  // Ends the subscription (Tclunk).
  Result<void> close() { return fid_.clunk(); }

 private:
  explicit EventStream(Fid fid) : fid_(std::move(fid)) {}
  Fid fid_;
  std::vector<std::uint8_t> buf_;
};

}  // namespace ninep::client
