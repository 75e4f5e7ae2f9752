// Fid operations for extended attributes and POSIX locks.
#include <fmt/format.h>

#include <vector>

#include "client/fid.h"
#include "client/session.h"

namespace ninep::client {
namespace {

// Linux caps a value at XATTR_SIZE_MAX (64 KiB) and a name list at XATTR_LIST_MAX; allow more,
// but refuse absurd sizes from a broken server before allocating.
constexpr std::uint64_t kMaxXattrSize = 16u << 20;

}  // namespace

Result<std::vector<std::uint8_t>> Fid::xattr_get(std::string_view name) const {
  if (!session_) return fail(EBADF);
  auto newfid = session_->alloc_fid();
  if (!newfid) return std::unexpected(newfid.error());
  std::uint64_t size = 0;
  auto r = session_->call(p9::Txattrwalk{fid_, *newfid, name},
                          [&](const p9::Message& m) -> Result<void> {
                            size = std::get<p9::Rxattrwalk>(m).size;
                            return {};
                          });
  if (!r) {
    session_->release_fid(*newfid);
    return std::unexpected(r.error());
  }
  Fid x(session_, *newfid, p9::Qid{});
  if (size > kMaxXattrSize) return fail(E2BIG, fmt::format("extended attribute of {} bytes", size));
  std::vector<std::uint8_t> value(size);
  if (size > 0) {
    auto n = x.read(0, value);
    if (!n) return std::unexpected(n.error());
    value.resize(*n);
  }
  return value;
}

Result<std::vector<std::string>> Fid::xattr_list() const {
  auto raw = xattr_get("");
  if (!raw) return std::unexpected(raw.error());
  std::vector<std::string> names;
  std::size_t start = 0;
  for (std::size_t i = 0; i < raw->size(); ++i) {
    if ((*raw)[i] == 0) {
      if (i > start)
        names.emplace_back(reinterpret_cast<const char*>(raw->data()) + start, i - start);
      start = i + 1;
    }
  }
  if (start < raw->size())
    names.emplace_back(reinterpret_cast<const char*>(raw->data()) + start, raw->size() - start);
  return names;
}

Result<void> Fid::xattr_set(std::string_view name, std::span<const std::uint8_t> value,
                            std::uint32_t flags) const {
  // Txattrcreate turns the fid it is sent on into an xattr fid: use a clone.
  auto x = clone();
  if (!x) return std::unexpected(x.error());
  auto r = session_->call(p9::Txattrcreate{x->fid_, name, value.size(), flags});
  if (!r) return r;
  if (!value.empty()) {
    auto n = x->write(0, value);
    if (!n) return std::unexpected(n.error());
    if (*n != value.size()) return fail(EIO, "short write of extended attribute value");
  }
  // The server applies the attribute when the xattr fid is clunked.
  return x->clunk();
}

Result<void> Fid::xattr_remove(std::string_view name) const {
  return xattr_set(name, {}, 0);
}

Result<std::uint8_t> Fid::lock(const LockRequest& req) const {
  if (!session_) return fail(EBADF);
  std::uint8_t status = 0;
  auto r = session_->call(
      p9::Tlock{fid_, req.type, req.flags, req.start, req.length, req.proc_id, req.client_id},
      [&](const p9::Message& m) -> Result<void> {
        status = std::get<p9::Rlock>(m).status;
        return {};
      });
  if (!r) return std::unexpected(r.error());
  return status;
}

Result<LockInfo> Fid::getlock(const LockRequest& req) const {
  if (!session_) return fail(EBADF);
  LockInfo info;
  auto r = session_->call(
      p9::Tgetlock{fid_, req.type, req.start, req.length, req.proc_id, req.client_id},
      [&](const p9::Message& m) -> Result<void> {
        const auto& g = std::get<p9::Rgetlock>(m);
        info = LockInfo{g.type, g.start, g.length, g.proc_id, std::string(g.client_id)};
        return {};
      });
  if (!r) return std::unexpected(r.error());
  return info;
}

}  // namespace ninep::client
