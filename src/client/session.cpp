// Session: version negotiation, attach, and the public request entry points.
#include "client/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "client/session_impl.h"
#include "p9/codec.h"
#include "transport/socket.h"

namespace ninep::client {
namespace {

// The smallest msize the client accepts (the Linux kernel's minimum too).
constexpr std::uint32_t kMinMsize = 4096;
// How long Tversion may take when no request timeout is configured.
constexpr int kVersionTimeoutMs = 10000;
// How long the destructor waits for requests still in flight.
constexpr std::chrono::milliseconds kCloseDrainTimeout{2000};

// Sends Tversion and validates Rversion; returns the negotiated msize.
Result<std::uint32_t> negotiate_version(transport::Stream& stream, std::uint32_t want,
                                        int timeout_ms) {
  p9::Message req = p9::Tversion{want, p9::kVersion};
  std::vector<std::uint8_t> buf(p9::encoded_size(req));
  auto n = p9::encode(buf, p9::kNoTag, req);
  if (!n) return std::unexpected(n.error());
  if (auto r = stream.write_all(std::span(buf.data(), *n)); !r)
    return fail(r.error().code, "send Tversion");

  std::uint8_t size_field[4];
  if (auto r = stream.read_full(size_field, timeout_ms); !r) {
    if (r.error().code == ETIMEDOUT) return fail(ETIMEDOUT, "no answer to Tversion");
    return fail(r.error().code, "receive Rversion");
  }
  std::uint32_t size = p9::load_le32(size_field);
  // Rversion is tiny; anything big is not a 9P server talking.
  if (size < p9::kHeaderSize || size > 65536 + 64)
    return fail(EPROTO, fmt::format("bad Rversion size {}: not a 9P server?", size));
  buf.resize(size);
  std::copy(size_field, size_field + 4, buf.begin());
  if (auto r = stream.read_full(std::span(buf).subspan(4), timeout_ms); !r)
    return fail(r.error().code, "receive Rversion");
  auto fc = p9::decode(buf);
  if (!fc) return fail(EPROTO, "malformed Rversion: " + fc.error().message);
  if (auto* e = std::get_if<p9::Rlerror>(&fc->msg))
    return fail(static_cast<int>(e->ecode), "server refused Tversion");
  auto* rv = std::get_if<p9::Rversion>(&fc->msg);
  if (!rv)
    return fail(EPROTO, fmt::format("server answered Tversion with {}",
                                    p9::type_name(p9::type_of(fc->msg))));
  if (rv->version != p9::kVersion)
    return fail(EPROTO, fmt::format("server speaks '{}', not {}", rv->version, p9::kVersion));
  if (rv->msize > want)
    return fail(EPROTO, fmt::format("server answered msize {}, larger than the {} requested",
                                    rv->msize, want));
  if (rv->msize < kMinMsize)
    return fail(EPROTO,
                fmt::format("server msize {} is below the minimum {}", rv->msize, kMinMsize));
  return rv->msize;
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl, std::uint32_t msize)
    : impl_(std::move(impl)), msize_(msize) {}

Session::~Session() {
  if (!impl_ || !impl_->conn) return;
  // A clean end: let the last requests (typically the clunks of dropped handles) complete
  // before closing, so the server sees every fid released. Some servers (diod) also mishandle
  // a connection that closes with requests still in progress.
  impl_->conn->wait_idle_for(kCloseDrainTimeout);
  impl_->conn->shutdown(Error{ESHUTDOWN, "session closed"});
}

Result<std::shared_ptr<Session>> Session::start(UniqueFd conn, const SessionOptions& opts) {
  if (!conn) return fail(EBADF, "no connection");
  if (opts.msize < kMinMsize)
    return fail(EINVAL, fmt::format("msize {} is below the minimum {}", opts.msize, kMinMsize));
  int timeout_ms = opts.request_timeout.count() > 0 ? static_cast<int>(opts.request_timeout.count())
                                                    : kVersionTimeoutMs;
  transport::Stream stream(std::move(conn));
  stream.set_poll_max(opts.poll_max);
  auto msize = negotiate_version(stream, opts.msize, timeout_ms);
  if (!msize) return std::unexpected(msize.error());
  auto impl = std::make_unique<Impl>();
  impl->opts = opts;
  impl->conn =
      std::make_unique<Connection>(std::move(stream), *msize, opts.max_in_flight, impl->fids);
  impl->conn->start_reader();
  return std::shared_ptr<Session>(new Session(std::move(impl), *msize));
}

Result<std::shared_ptr<Session>> Session::connect(const transport::Address& addr,
                                                  const SessionOptions& opts) {
  auto fd = transport::dial(addr);
  if (!fd) return std::unexpected(fd.error());
  auto s = start(std::move(*fd), opts);
  if (!s) return fail(s.error().code, fmt::format("{}: {}", addr.to_string(), s.error().message));
  return s;
}

Result<std::shared_ptr<Session>> Session::connect(std::string_view address,
                                                  const SessionOptions& opts) {
  auto addr = transport::parse_address(address);
  if (!addr) return std::unexpected(addr.error());
  return connect(*addr, opts);
}

Result<Fid> Session::attach(std::string_view uname, std::string_view aname, std::uint32_t n_uname) {
  auto fid = alloc_fid();
  if (!fid) return std::unexpected(fid.error());
  p9::Qid qid;
  auto r = call(p9::Tattach{*fid, p9::kNoFid, uname, aname, n_uname},
                [&](const p9::Message& m) -> Result<void> {
                  qid = std::get<p9::Rattach>(m).qid;
                  return {};
                });
  if (!r) {
    release_fid(*fid);
    return fail(r.error().code, r.error().message.empty()
                                    ? fmt::format("attach to '{}'", aname)
                                    : fmt::format("attach to '{}': {}", aname, r.error().message));
  }
  return Fid(shared_from_this(), *fid, qid);
}

void Session::shutdown() {
  impl_->conn->shutdown(Error{ESHUTDOWN, "session closed"});
}
bool Session::connected() const {
  return impl_->conn->alive();
}
Error Session::connection_error() const {
  return impl_->conn->error();
}

SessionStats Session::stats() const {
  SessionStats s;
  s.tags_in_use = impl_->conn->in_flight();
  s.fids_in_use = impl_->fids.in_use();
  s.requests = impl_->conn->requests();
  s.flushes = impl_->conn->flushes();
  s.own_replies = impl_->conn->own_replies();
  return s;
}

void Session::wait_idle() {
  impl_->conn->wait_idle();
}

CallOptions Session::default_call() const {
  return CallOptions{};
}

Result<void> Session::call(const p9::Message& request, ReplyFn on_reply, void* ctx,
                           const CallOptions& opts) {
  auto tag = impl_->conn->begin(request);
  if (!tag) return std::unexpected(tag.error());
  auto r = impl_->conn->finish(*tag, reply_type(p9::type_of(request)), on_reply, ctx,
                               to_wait(opts, impl_->opts.request_timeout));
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<void> Session::call(const p9::Message& request, const CallOptions& opts) {
  return call(request, nullptr, nullptr, opts);
}

Result<std::size_t> Session::call_read(const p9::Tread& request, std::span<std::uint8_t> dst,
                                       const CallOptions& opts) {
  p9::Tread req = request;
  req.count = static_cast<std::uint32_t>(
      std::min<std::size_t>({req.count, dst.size(), std::size_t(max_io())}));
  if (req.count == 0) return 0;
  auto tag = impl_->conn->begin(req, dst.first(req.count));
  if (!tag) return std::unexpected(tag.error());
  return impl_->conn->finish(*tag, p9::Type::Rread, nullptr, nullptr,
                             to_wait(opts, impl_->opts.request_timeout));
}

Result<std::size_t> Session::call_readdir(const p9::Treaddir& request, std::span<std::uint8_t> dst,
                                          const CallOptions& opts) {
  p9::Treaddir req = request;
  req.count = static_cast<std::uint32_t>(
      std::min<std::size_t>({req.count, dst.size(), std::size_t(max_io())}));
  if (req.count == 0) return fail(EINVAL, "readdir into an empty buffer");
  auto tag = impl_->conn->begin(req, dst.first(req.count));
  if (!tag) return std::unexpected(tag.error());
  return impl_->conn->finish(*tag, p9::Type::Rreaddir, nullptr, nullptr,
                             to_wait(opts, impl_->opts.request_timeout));
}

Result<std::size_t> Session::call_write(const p9::Twrite& request, const CallOptions& opts) {
  auto tag = impl_->conn->begin_write(request.fid, request.offset, request.data);
  if (!tag) return std::unexpected(tag.error());
  std::size_t count = 0;
  auto r = impl_->conn->finish(
      *tag, p9::Type::Rwrite,
      [](void* c, const p9::Message& m) -> Result<void> {
        *static_cast<std::size_t*>(c) = std::get<p9::Rwrite>(m).count;
        return {};
      },
      &count, to_wait(opts, impl_->opts.request_timeout));
  if (!r) return std::unexpected(r.error());
  return count;
}

Result<void> Session::flush(std::uint16_t oldtag) {
  return impl_->conn->flush(oldtag);
}

Result<std::uint32_t> Session::alloc_fid() {
  return impl_->fids.alloc();
}
void Session::release_fid(std::uint32_t fid) {
  impl_->fids.release(fid);
}
void Session::clunk_async(std::uint32_t fid) {
  impl_->conn->clunk_async(fid);
}

bool Session::unlinkat_unsupported() const {
  return impl_->no_unlinkat.load();
}
void Session::set_unlinkat_unsupported() {
  impl_->no_unlinkat.store(true);
}
bool Session::renameat_unsupported() const {
  return impl_->no_renameat.load();
}
void Session::set_renameat_unsupported() {
  impl_->no_renameat.store(true);
}

}  // namespace ninep::client
