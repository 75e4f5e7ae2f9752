#include "client/events.h"

#include <nlohmann/json.hpp>
#include <string>

#include "common/path.h"

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

namespace {

std::string shown(std::string p) {
  return p.empty() ? "/" : p;
}

std::string normalized(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  return std::string(path);
}

}  // namespace

std::string event_path(const p9::Event& e) {
  return child_path(e.path, e.name);
}

bool event_below(const p9::Event& e, std::string_view path) {
  if (e.kind == p9::EventKind::Overflow) return true;
  if (is_at_or_below(event_path(e), path)) return true;
  return e.kind == p9::EventKind::Rename && is_at_or_below(child_path(e.to_path, e.to_name), path);
}

std::string format_event(const p9::Event& e, Output output) {
  const char* kind = p9::event_kind_name(e.kind);
  const bool rename = e.kind == p9::EventKind::Rename;
  const bool overflow = e.kind == p9::EventKind::Overflow;
  if (output == Output::Json) {
    nlohmann::json j;
    j["event"] = kind;
    if (!overflow) {
      j["path"] = shown(event_path(e));
      j["dir"] = (e.flags & p9::kEventIsDir) != 0;
      j["qid"] = {{"type", e.qid.type}, {"version", e.qid.version}, {"path", e.qid.path}};
    }
    if (rename) j["to"] = shown(child_path(e.to_path, e.to_name));
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = kind;
  if (overflow) return line;
  line += ' ';
  line += shown(event_path(e));
  if (rename) {
    line += " -> ";
    line += shown(child_path(e.to_path, e.to_name));
  }
  return line;
}

Result<void> watch_path(const Remote& remote, const RemoteOptions& opts, std::string_view path,
                        std::stop_token stop, const std::function<void(const p9::Event&)>& each) {
  const AttachIdentity who = attach_identity(opts);
  auto events = EventStream::open(remote.session, who.uname, opts.aname, who.uid);
  if (!events)
    return fail(events.error().code,
                opts.address + ": no change events (" + events.error().message + ")");
  const std::string below_path = normalized(path);
  // Held while watching: the server watches what fids use (a directory, or a file's directory).
  auto at = remote.root.walk_path(below_path.empty() ? "/" : below_path);
  if (!at) return fail(at.error().code, std::string(path) + ": " + at.error().message);
  CallOptions o;
  o.timeout = std::chrono::milliseconds(0);
  o.stop = stop;
  for (;;) {
    auto batch = events->next(o);
    if (!batch) {
      if (stop.stop_requested()) return {};
      return fail(batch.error().code, opts.address + ": " + batch.error().message);
    }
    for (const p9::Event& e : *batch)
      if (event_below(e, below_path)) each(e);
  }
}

}  // namespace ninep::client
