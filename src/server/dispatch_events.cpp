// Requests on `#events` fids (docs/events.md): a synthetic file, opened read-only, whose reads
// wait until change events are pending.
#include "server/dispatch_internal.h"

namespace ninep::server::detail {

Dispatched open_events(RequestContext& c, Fid& f, const p9::Tlopen& m) {
  constexpr std::uint32_t kWriting = p9::kOAccmode | p9::kOTrunc | p9::kOCreate | p9::kOAppend;
  if ((m.flags & kWriting) != p9::kORdonly) return c.error(EACCES);
  std::unique_lock lock(f.mu);
  if (f.opened) return c.error(EBUSY);
  f.opened = true;
  return c.reply(p9::Rlopen{kEventsQid, 0});
}

Dispatched getattr_events(RequestContext& c, const Fid& f) {
  p9::Rgetattr out;
  out.valid = p9::kGetattrBasic;
  out.qid = kEventsQid;
  out.mode = 0100444;  // a regular file, read-only
  out.uid = c.s.cfg.report_owner ? c.s.cfg.report_owner->uid : f.who->uid;
  out.gid = c.s.cfg.report_owner ? c.s.cfg.report_owner->gid : f.who->gid;
  out.nlink = 1;
  out.blksize = 4096;
  return c.reply(out);
}

Dispatched read_events(RequestContext& c, Fid& f, std::uint32_t count) {
  if (!f.opened) return c.error(EBADF);
  std::uint8_t* payload = c.w.buf.data() + p9::kRreadHeaderSize;
  auto n = f.events->take(std::span<std::uint8_t>(payload, count));
  if (!n) return c.error(n.error());
  if (*n == 0) return {Dispatched::Outcome::Wait, 0};
  p9::encode_rread_header(
      std::span<std::uint8_t, p9::kRreadHeaderSize>(c.w.buf.data(), p9::kRreadHeaderSize), c.tag,
      static_cast<std::uint32_t>(*n));
  return {Dispatched::Outcome::Reply, p9::kRreadHeaderSize + *n};
}

}  // namespace ninep::server::detail
