// Handlers for requests on one file or directory, and those that create or remove names.
#include <algorithm>

#include "common/path.h"
#include "server/dispatch_internal.h"

namespace ninep::server::detail {
namespace {

// A fid that names a file, shared-locked and with the thread switched to its user.
struct FidInUse {
  FidRef ref;
  std::shared_lock<std::shared_mutex> lock;
  Fid& fid() const { return *ref; }
  Backend& backend() const { return *ref->exp->backend; }
  Node& node() const { return *ref->node; }
};

Result<FidInUse> use(RequestContext& c, std::uint32_t fid) {
  auto ref = lookup_file(c.s, fid);
  if (!ref) return std::unexpected(ref.error());
  std::shared_lock lock((*ref)->mu);
  if (!c.still_judged(fid, **ref)) return fail(EBUSY, "fid changed since it was judged");
  if (auto r = become(**ref); !r) return std::unexpected(r.error());
  return FidInUse{std::move(*ref), std::move(lock)};
}

// Two fids of the same export and the same identity (operations across fids run as one user:
// a guest must not combine what two users may do).
Result<void> same_export(const FidInUse& a, const FidInUse& b) {
  if (a.fid().exp != b.fid().exp) return fail(EXDEV);
  const Identity& x = *a.fid().who;
  const Identity& y = *b.fid().who;
  if (x.uid != y.uid || x.gid != y.gid || x.groups != y.groups)
    return fail(EPERM, "fids of two identities");
  return {};
}

// An open fid holds a second descriptor (charged once: a failed open keeps the charge for the
// next attempt).
Result<void> charge_open(Session& s, Fid& f) {
  if (f.charged[Budget::kDescriptors] > 1) return {};
  return s.fids.charge(f, Budget::kDescriptors, 1, ENFILE);
}

}  // namespace

Dispatched handle(RequestContext& c, const p9::Tlopen& m) {
  if (FidRef ev = c.s.fids.get(m.fid); ev && ev->kind == Fid::Kind::Events)
    return open_events(c, *ev, m);
  auto ref = lookup_file(c.s, m.fid);
  if (!ref) return c.error(ref.error());
  Fid& f = **ref;
  std::unique_lock lock(f.mu);
  if (f.opened || !c.still_judged(m.fid, f)) return c.error(EBUSY);
  if (auto r = become(f); !r) return c.error(r.error());
  if (auto r = charge_open(c.s, f); !r) return c.error(r.error());
  auto qid = f.exp->backend->open(*f.node, m.flags);
  if (!qid) return c.error(qid.error());
  f.opened = true;
  if ((qid->type & p9::kQtDir) != 0) touched(*f.exp, *f.node);
  return c.reply(p9::Rlopen{*qid, 0});
}

Dispatched handle(RequestContext& c, const p9::Tlcreate& m) {
  auto ref = lookup_file(c.s, m.fid);
  if (!ref) return c.error(ref.error());
  Fid& f = **ref;
  if (auto r = check_name(m.name, false); !r) return c.error(r.error());
  std::unique_lock lock(f.mu);
  if (f.opened || !c.still_judged(m.fid, f)) return c.error(EBUSY);
  if (auto r = become(f); !r) return c.error(r.error());
  if (auto r = charge_open(c.s, f); !r) return c.error(r.error());
  auto qid = f.exp->backend->create(*f.node, m.name, m.flags, m.mode, m.gid);
  if (!qid) return c.error(qid.error());
  f.opened = true;
  f.renew();
  if (f.path) {  // the fid now names the new file
    f.path = std::make_shared<const std::string>(child_path(*f.path, m.name));
    ++f.depth;
  }
  return c.reply(p9::Rlcreate{*qid, 0});
}

Dispatched handle(RequestContext& c, const p9::Tgetattr& m) {
  if (FidRef ev = c.s.fids.get(m.fid); ev && ev->kind == Fid::Kind::Events)
    return getattr_events(c, *ev);
  auto u = use(c, m.fid);
  if (!u) return c.error(u.error());
  p9::Rgetattr out;
  if (auto r = u->backend().getattr(u->node(), m.request_mask, out); !r) return c.error(r.error());
  if (c.s.cfg.report_owner) {
    out.uid = c.s.cfg.report_owner->uid;
    out.gid = c.s.cfg.report_owner->gid;
  }
  return c.reply(out);
}

Dispatched handle(RequestContext& c, const p9::Tsetattr& m) {
  auto u = use(c, m.fid);
  if (!u) return c.error(u.error());
  p9::Tsetattr req = m;
  // With --report-owner every file looks owned by one identity, so changing owners has no
  // visible meaning: accept it without touching the host (cp -a or tar would fail otherwise).
  if (c.s.cfg.report_owner) req.valid &= ~(p9::kSetattrUid | p9::kSetattrGid);
  if (auto r = u->backend().setattr(u->node(), req); !r) return c.error(r.error());
  return c.reply(p9::Rsetattr{});
}

Dispatched handle(RequestContext& c, const p9::Tstatfs& m) {
  auto u = use(c, m.fid);
  if (!u) return c.error(u.error());
  p9::Rstatfs out;
  if (auto r = u->backend().statfs(u->node(), out); !r) return c.error(r.error());
  return c.reply(out);
}

Dispatched handle(RequestContext& c, const p9::Treadlink& m) {
  auto u = use(c, m.fid);
  if (!u) return c.error(u.error());
  if (c.w.scratch.size() < 4096) c.w.scratch.resize(4096);
  auto n = u->backend().readlink(u->node(), c.w.scratch);
  if (!n) return c.error(n.error());
  return c.reply(p9::Rreadlink{std::string_view(c.w.scratch.data(), *n)});
}

Dispatched handle(RequestContext& c, const p9::Treaddir& m) {
  // What a backend keeps for a directory stream (localfs: a getdents buffer).
  constexpr std::uint64_t kDirectoryStreamBytes = 32 * 1024;
  auto u = use(c, m.fid);
  if (!u) return c.error(u.error());
  touched(*u->fid().exp, u->node());
  if (!u->fid().listed) {
    auto ch = c.s.fids.charge(u->fid(), Budget::kBytes, kDirectoryStreamBytes, ENOBUFS);
    if (!ch) return c.error(ch.error());
    u->fid().listed = true;
  }
  const std::size_t room = std::min<std::size_t>(m.count, c.max_payload());
  const std::span<std::uint8_t> out(c.w.buf.data() + p9::kRreadHeaderSize, room);
  std::size_t size = 0;
  if (!u->fid().exp->policy) {
    p9::ReaddirBuilder builder(out);
    if (auto r = u->backend().readdir(u->node(), m.offset, builder); !r) return c.error(r.error());
    size = builder.size();
  } else {
    // Entries the policy refuses to walk to are not listed. When a whole batch is hidden, the
    // next one is read: an empty reply would mean the end of the directory.
    std::uint64_t offset = m.offset;
    for (;;) {
      p9::ReaddirBuilder builder(out);
      if (auto r = u->backend().readdir(u->node(), offset, builder); !r) return c.error(r.error());
      if (builder.count() == 0) break;
      auto kept = keep_walkable_entries(c.s, u->fid(), out.first(builder.size()));
      if (!kept) return c.error(kept.error());
      if (kept->kill) return {Dispatched::Outcome::Kill, 0};
      size = kept->size;
      if (size > 0) break;
      offset = builder.last_offset();
    }
  }
  p9::encode_rreaddir_header(
      std::span<std::uint8_t, p9::kRreadHeaderSize>(c.w.buf.data(), p9::kRreadHeaderSize), c.tag,
      static_cast<std::uint32_t>(size));
  return {Dispatched::Outcome::Reply, p9::kRreadHeaderSize + size};
}

Dispatched handle(RequestContext& c, const p9::Tfsync& m) {
  auto u = use(c, m.fid);
  if (!u) return c.error(u.error());
  if (auto r = u->backend().fsync(u->node(), m.datasync != 0); !r) return c.error(r.error());
  return c.reply(p9::Rfsync{});
}

Dispatched handle(RequestContext& c, const p9::Tlock& m) {
  auto u = use(c, m.fid);
  if (!u) return c.error(u.error());
  if (m.type > p9::kLockUnlck || m.client_id.size() > kMaxLockClientId) return c.error(EINVAL);
  LockArgs args{c.s.conn_id, m.type, m.start, m.length, m.proc_id, m.client_id};
  auto status = u->backend().lock(u->node(), args);
  if (!status) return c.error(status.error());
  if (*status == p9::kLockBlocked && (m.flags & p9::kLockFlagBlock) != 0)
    return {Dispatched::Outcome::Park, 0};
  return c.reply(p9::Rlock{*status});
}

Dispatched handle(RequestContext& c, const p9::Tgetlock& m) {
  auto u = use(c, m.fid);
  if (!u) return c.error(u.error());
  if (m.type > p9::kLockUnlck || m.client_id.size() > kMaxLockClientId) return c.error(EINVAL);
  LockArgs args{c.s.conn_id, m.type, m.start, m.length, m.proc_id, m.client_id};
  LockHolder& h = c.w.holder;
  h = LockHolder{};
  if (auto r = u->backend().getlock(u->node(), args, h); !r) return c.error(r.error());
  std::string_view client_id = h.client_id_storage;
  // Another connection's client id may be longer than this connection's msize allows.
  const std::size_t room = c.msize - 1 - (p9::kHeaderSize + 1 + 8 + 8 + 4 + 2);
  if (client_id.size() > room) client_id = client_id.substr(0, room);
  return c.reply(p9::Rgetlock{h.type, h.start, h.length, h.proc_id, client_id});
}

Dispatched handle(RequestContext& c, const p9::Tmkdir& m) {
  if (auto r = check_name(m.name, false); !r) return c.error(r.error());
  auto u = use(c, m.dfid);
  if (!u) return c.error(u.error());
  auto qid = u->backend().mkdir(u->node(), m.name, m.mode, m.gid);
  if (!qid) return c.error(qid.error());
  return c.reply(p9::Rmkdir{*qid});
}

Dispatched handle(RequestContext& c, const p9::Tsymlink& m) {
  if (auto r = check_name(m.name, false); !r) return c.error(r.error());
  if (m.symtgt.empty()) return c.error(ENOENT);
  if (m.symtgt.find('\0') != std::string_view::npos) return c.error(EINVAL);
  if (m.symtgt.size() >= 4096) return c.error(ENAMETOOLONG);
  auto u = use(c, m.dfid);
  if (!u) return c.error(u.error());
  auto qid = u->backend().symlink(u->node(), m.name, m.symtgt, m.gid);
  if (!qid) return c.error(qid.error());
  return c.reply(p9::Rsymlink{*qid});
}

Dispatched handle(RequestContext& c, const p9::Tmknod& m) {
  if (auto r = check_name(m.name, false); !r) return c.error(r.error());
  auto u = use(c, m.dfid);
  if (!u) return c.error(u.error());
  auto qid = u->backend().mknod(u->node(), m.name, m.mode, m.major, m.minor, m.gid);
  if (!qid) return c.error(qid.error());
  return c.reply(p9::Rmknod{*qid});
}

Dispatched handle(RequestContext& c, const p9::Tlink& m) {
  if (auto r = check_name(m.name, false); !r) return c.error(r.error());
  if (m.dfid == m.fid) return c.error(EINVAL);
  auto dir = use(c, m.dfid);
  if (!dir) return c.error(dir.error());
  auto target = use(c, m.fid);
  if (!target) return c.error(target.error());
  if (auto r = same_export(*dir, *target); !r) return c.error(r.error());
  if (auto r = dir->backend().link(dir->node(), target->node(), m.name); !r)
    return c.error(r.error());
  return c.reply(p9::Rlink{});
}

Dispatched handle(RequestContext& c, const p9::Trename& m) {
  if (auto r = check_name(m.name, false); !r) return c.error(r.error());
  if (m.dfid == m.fid) return c.error(EINVAL);
  auto file = use(c, m.fid);
  if (!file) return c.error(file.error());
  auto dir = use(c, m.dfid);
  if (!dir) return c.error(dir.error());
  if (auto r = same_export(*file, *dir); !r) return c.error(r.error());
  if (auto r = file->backend().rename(file->node(), dir->node(), m.name); !r)
    return c.error(r.error());
  if (dir->fid().path) {
    // The fid is now reached by its new name (others that name the file keep their path).
    auto path = std::make_shared<const std::string>(child_path(*dir->fid().path, m.name));
    const std::uint32_t depth = dir->fid().depth + 1;
    dir->lock.unlock();
    file->lock.unlock();
    std::unique_lock lock(file->fid().mu);
    file->fid().path = std::move(path);
    file->fid().depth = depth;
  }
  return c.reply(p9::Rrename{});
}

Dispatched handle(RequestContext& c, const p9::Trenameat& m) {
  if (auto r = check_name(m.oldname, false); !r) return c.error(r.error());
  if (auto r = check_name(m.newname, false); !r) return c.error(r.error());
  auto olddir = use(c, m.olddirfid);
  if (!olddir) return c.error(olddir.error());
  if (m.newdirfid == m.olddirfid) {
    auto r = olddir->backend().renameat(olddir->node(), m.oldname, olddir->node(), m.newname);
    if (!r) return c.error(r.error());
    return c.reply(p9::Rrenameat{});
  }
  auto newdir = use(c, m.newdirfid);
  if (!newdir) return c.error(newdir.error());
  if (auto r = same_export(*olddir, *newdir); !r) return c.error(r.error());
  auto r = olddir->backend().renameat(olddir->node(), m.oldname, newdir->node(), m.newname);
  if (!r) return c.error(r.error());
  return c.reply(p9::Rrenameat{});
}

Dispatched handle(RequestContext& c, const p9::Tunlinkat& m) {
  if (auto r = check_name(m.name, false); !r) return c.error(r.error());
  if ((m.flags & ~p9::kAtRemovedir) != 0) return c.error(EINVAL);
  auto u = use(c, m.dirfid);
  if (!u) return c.error(u.error());
  if (auto r = u->backend().unlinkat(u->node(), m.name, m.flags); !r) return c.error(r.error());
  return c.reply(p9::Runlinkat{});
}

}  // namespace ninep::server::detail
