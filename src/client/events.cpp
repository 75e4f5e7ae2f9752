#include "client/events.h"

#include <string>

namespace ninep::client {

Result<EventStream> EventStream::open(const std::shared_ptr<Session>& session,
                                      std::string_view uname, std::string_view aname,
                                      std::uint32_t n_uname) {
  std::string events(aname);
  events += "#events";
  auto fid = session->attach(uname, events, n_uname);
  if (!fid) return std::unexpected(fid.error());
  if (auto r = fid->lopen(p9::kORdonly); !r) return std::unexpected(r.error());
  return EventStream(std::move(*fid));
}

Result<std::vector<p9::Event>> EventStream::next(const CallOptions& opts) {
  Session& s = fid_.session();
  buf_.resize(s.max_io());
  auto n =
      s.call_read(p9::Tread{fid_.number(), 0, static_cast<std::uint32_t>(buf_.size())}, buf_, opts);
  if (!n) return std::unexpected(n.error());
  if (*n == 0) return fail(EPROTO, "empty read of an event subscription");
  return p9::decode_events(p9::Bytes(buf_.data(), *n));
}

}  // namespace ninep::client
