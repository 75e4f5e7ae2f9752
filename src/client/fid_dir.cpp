// Fid operations on directories and links: readdir, creation, renaming, unlinking.
#include <vector>

#include "client/dir_listing.h"
#include "client/fid.h"
#include "client/session.h"

namespace ninep::client {
namespace {

// Servers that lack Tunlinkat/Trenameat answer one of these.
bool is_unsupported(const Error& e) {
  return e.code == EOPNOTSUPP || e.code == ENOSYS;
}

template <typename R>
Result<p9::Qid> qid_of(Session& s, const p9::Message& req) {
  p9::Qid q;
  auto r = s.call(req, [&](const p9::Message& m) -> Result<void> {
    q = std::get<R>(m).qid;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return q;
}

}  // namespace

Result<std::size_t> Fid::readdir_some(std::uint64_t offset, std::span<std::uint8_t> buf) const {
  if (!session_) return fail(EBADF);
  std::uint32_t io = iounit_ ? iounit_ : session_->max_io();
  auto count = static_cast<std::uint32_t>(std::min<std::size_t>(buf.size(), io));
  return session_->call_readdir(p9::Treaddir{fid_, offset, count}, buf);
}

Result<std::vector<DirEntry>> Fid::readdir_all() const {
  return read_directory(*this);
}

Result<p9::Qid> Fid::mkdir(std::string_view name, std::uint32_t mode, std::uint32_t gid) const {
  if (!session_) return fail(EBADF);
  return qid_of<p9::Rmkdir>(*session_, p9::Tmkdir{fid_, name, mode, gid});
}

Result<p9::Qid> Fid::symlink(std::string_view name, std::string_view target,
                             std::uint32_t gid) const {
  if (!session_) return fail(EBADF);
  return qid_of<p9::Rsymlink>(*session_, p9::Tsymlink{fid_, name, target, gid});
}

Result<p9::Qid> Fid::mknod(std::string_view name, std::uint32_t mode, std::uint32_t major,
                           std::uint32_t minor, std::uint32_t gid) const {
  if (!session_) return fail(EBADF);
  return qid_of<p9::Rmknod>(*session_, p9::Tmknod{fid_, name, mode, major, minor, gid});
}

Result<void> Fid::link(const Fid& target, std::string_view name) const {
  if (!session_ || !target) return fail(EBADF);
  return session_->call(p9::Tlink{fid_, target.fid_, name});
}

Result<void> Fid::renameat(std::string_view oldname, const Fid& newdir,
                           std::string_view newname) const {
  if (!session_ || !newdir) return fail(EBADF);
  if (!session_->renameat_unsupported()) {
    auto r = session_->call(p9::Trenameat{fid_, oldname, newdir.fid_, newname});
    if (r || !is_unsupported(r.error())) return r;
    session_->set_renameat_unsupported();
  }
  auto f = walk({oldname});
  if (!f) return std::unexpected(f.error());
  return f->rename(newdir, newname);
}

Result<void> Fid::unlinkat(std::string_view name, std::uint32_t flags) const {
  if (!session_) return fail(EBADF);
  if (!session_->unlinkat_unsupported()) {
    auto r = session_->call(p9::Tunlinkat{fid_, name, flags});
    if (r || !is_unsupported(r.error())) return r;
    session_->set_unlinkat_unsupported();
  }
  // Fallback: Tremove removes whatever the fid names, so check the kind first to keep
  // unlink/rmdir semantics.
  auto f = walk({name});
  if (!f) return std::unexpected(f.error());
  bool want_dir = (flags & p9::kAtRemovedir) != 0;
  if (want_dir && !f->is_dir()) return fail(ENOTDIR);
  if (!want_dir && f->is_dir()) return fail(EISDIR);
  return f->remove();
}

Result<std::string> Fid::readlink() const {
  if (!session_) return fail(EBADF);
  std::string target;
  auto r = session_->call(p9::Treadlink{fid_}, [&](const p9::Message& m) -> Result<void> {
    target = std::string(std::get<p9::Rreadlink>(m).target);
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return target;
}

Result<void> Fid::rename(const Fid& newdir, std::string_view name) const {
  if (!session_ || !newdir) return fail(EBADF);
  return session_->call(p9::Trename{fid_, newdir.fid_, name});
}

}  // namespace ninep::client
