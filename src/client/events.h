// A subscription to a server's change events (docs/events.md): Tattach with `<aname>#events`,
// Tlopen, then each Tread waits for a batch of records (p9/events.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "client/fid.h"
#include "client/listing.h"
#include "client/remote.h"
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

// The remote path (relative to the export root, no leading '/') an event is about: the entry,
// or the directory itself for a record without a name ("" for the root).
std::string event_path(const p9::Event& e);
// True when `e` is about `path` or something below it (a RENAME: either side); OVERFLOW always.
// `path` as event_path() gives them; "" is the whole export.
bool event_below(const p9::Event& e, std::string_view path);
// One line (no newline) for `ninep watch`: "CREATE dir/name", "RENAME dir/a -> dir2/b",
// "OVERFLOW", "UNWATCHED dir" ("/" for the root); or one JSON object (Output::Json) with
// "event", "path", "dir" (bool), "qid" {type, version, path}, and "to" for a RENAME. Bytes of names
// that are not UTF-8 become U+FFFD in JSON.
std::string format_event(const p9::Event& e, Output output);

// `ninep watch`: subscribes (aname and identity from `opts`), walks `remote.root` to `path`
// so that it is watched, and hands `each` every event at or below `path` until `stop` is
// requested (then returns success) or the subscription fails (the error, naming the address).
Result<void> watch_path(const Remote& remote, const RemoteOptions& opts, std::string_view path,
                        std::stop_token stop, const std::function<void(const p9::Event&)>& each);

}  // namespace ninep::client
