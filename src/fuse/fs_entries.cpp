// Name space operations: lookup/forget, attributes, creating, linking, renaming and removing.
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "fuse/attr.h"
#include "fuse/fs_retry.h"

namespace ninep::fuse {

FileSystem::FileSystem(Connection& conn, const FileSystemOptions& opts) : conn_(conn), opts_(opts) {
  auto snap = conn_.current();
  inodes_.set_max_fids(opts.max_fids);
  inodes_.set_root(snap.root->qid());
  start_gid_ = primary_gid(conn_.start_uid());
  max_io_ = snap.session->max_io();
  if (opts_.cache == CacheMode::Auto) {
    coherence_ = std::make_unique<Coherence>(conn_, inodes_);
    if (auto r = coherence_->subscribe(); !r) {
      // The server offers no events (diod): cache as the fallback says.
      events_error_ = r.error();
      coherence_.reset();
      opts_.cache = opts_.fallback;
    }
  }
}

std::uint32_t FileSystem::requester(fuse_req_t req) const {
  if (req == nullptr || !conn_.per_uid()) return conn_.start_uid();
  return fuse_req_ctx(req)->uid;
}

gid_t FileSystem::creator_gid(fuse_req_t req) const {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  // A single identity creates with its own group, unless it is the caller itself: a server may
  // refuse a group its user is not a member of (diod does).
  if (conn_.per_uid() || ctx->uid == conn_.start_uid()) return ctx->gid;
  return start_gid_;
}

FileSystem::Ticket FileSystem::ticket() const {
  return coherence_ ? coherence_->ticket() : 0;
}

std::shared_ptr<Inode> FileSystem::directory_of(fuse_ino_t ino) const {
  auto n = inodes_.get(ino);
  return n ? inodes_.parent_of(*n) : nullptr;
}

void FileSystem::reply_error(fuse_req_t req, const Error& e) {
  fuse_reply_err(req, to_errno(e, true));
}

Result<std::shared_ptr<Inode>> FileSystem::node(fuse_ino_t ino) const {
  auto n = inodes_.get(ino);
  if (!n) return fail(ESTALE, "unknown inode");
  return n;
}

Result<FileSystem::NodeFid> FileSystem::node_fid(fuse_ino_t ino, const Connection::Snapshot& snap) {
  auto n = node(ino);
  if (!n) return std::unexpected(n.error());
  auto f = fid_for(*n, snap);
  if (!f) return std::unexpected(f.error());
  return NodeFid{std::move(*n), std::move(*f)};
}

Result<std::shared_ptr<client::Fid>> FileSystem::fid_for(const std::shared_ptr<Inode>& node,
                                                         const Connection::Snapshot& snap) {
  if (node->ino == FUSE_ROOT_ID) return snap.root;
  if (auto f = inodes_.fid_of(*node, snap.generation, snap.uid)) return f;
  // A fid of an older connection (or none for this user): walk the node's path again from the
  // user's root. One Twalk, and the server checks the user may search every directory on it.
  std::vector<std::string> names;
  if (!inodes_.path_of(*node, names)) return fail(ESTALE, "file was removed");
  std::vector<std::string_view> views(names.begin(), names.end());
  auto f = snap.root->walk(views);
  if (!f) return fail(f.error().code == ENOENT ? ESTALE : f.error().code, f.error().message);
  if (f->qid().path != node->qid.path) return fail(ESTALE, "path leads to another file now");
  auto shared = std::make_shared<client::Fid>(std::move(*f));
  inodes_.set_fid(*node, shared, snap.generation, snap.uid);
  return shared;
}

fuse_entry_param FileSystem::make_entry(const Inode& node, const client::Attr& attr) const {
  fuse_entry_param e{};
  e.ino = node.ino;
  e.generation = 0;  // node ids are never reused
  e.attr = to_stat(attr);
  return e;  // timeouts: set by reply_cached
}

Result<fuse_entry_param> FileSystem::lookup_entry(const std::shared_ptr<Inode>& parent,
                                                  std::string_view name,
                                                  const Connection::Snapshot& snap) {
  auto pf = fid_for(parent, snap);
  if (!pf) return std::unexpected(pf.error());
  auto f = (*pf)->walk({name});
  if (!f) return std::unexpected(f.error());
  p9::Qid qid = f->qid();
  // A node we already know whose qid.version is unchanged has unchanged attributes (the version
  // follows data, size and ctime): its last attributes save a round trip. Version 0 means the
  // server does not say.
  std::optional<client::Attr> attr;
  if (qid.version != 0) {
    if (auto known = inodes_.find_qid(qid.path)) attr = inodes_.cached_attr(*known, qid);
  }
  if (!attr) {
    auto a = f->getattr(p9::kGetattrBasic);
    if (!a) return std::unexpected(a.error());
    attr = *a;
  }
  auto n = inodes_.remember(parent, name, qid, std::move(*f), snap.generation, snap.uid);
  inodes_.set_attr(*n, *attr);
  // The server watches the directory a walk ended in again (docs/events.md).
  ((qid.type & p9::kQtDir) ? n : parent)->unwatched.store(false);
  return make_entry(*n, *attr);
}

void FileSystem::reply_entry(fuse_req_t req, Ticket t, fuse_ino_t parent,
                             Result<fuse_entry_param> e) {
  if (!e) return reply_error(req, e.error());
  reply_cached(t, inodes_.get(parent).get(), [&](double timeout) {
    e->attr_timeout = e->entry_timeout = timeout;
    // The kernel counts a lookup only if the reply reaches it.
    if (fuse_reply_entry(req, &*e) != 0) inodes_.unremember(e->ino);
  });
}

void FileSystem::lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Ticket t = ticket();
  auto e = retrying<fuse_entry_param>(
      req, [&](const Connection::Snapshot& snap) -> Result<fuse_entry_param> {
        auto p = node(parent);
        if (!p) return std::unexpected(p.error());
        return lookup_entry(*p, name, snap);
      });
  if (!e && e.error().code == ENOENT && caching()) {
    // Negative entry: cached like a positive one.
    return reply_cached(t, inodes_.get(parent).get(), [&](double timeout) {
      fuse_entry_param neg{};
      neg.entry_timeout = coherence_ ? coherence_->note_negative(parent, name, timeout) : timeout;
      fuse_reply_entry(req, &neg);
    });
  }
  reply_entry(req, t, parent, std::move(e));
}

void FileSystem::forget(fuse_ino_t ino, std::uint64_t n) {
  inodes_.forget(ino, n);
  // A directory the kernel forgot has no negative entries left either.
  if (coherence_ && !inodes_.get(ino)) coherence_->forget_dir(ino);
}

namespace {
bool gone(const Error& e) {
  return e.code == ENOENT || e.code == ESTALE;
}
}  // namespace

Result<client::Attr> FileSystem::attributes(fuse_ino_t ino, fuse_file_info* fi,
                                            const client::SetAttr* change,
                                            const Connection::Snapshot& snap) {
  auto n = node(ino);
  if (!n) return std::unexpected(n.error());
  // The node's fid first: it follows renames. Servers whose fids are paths (diod) lose a file at
  // unlink, even for fids that have it open, while reads and writes still reach it: then the open
  // file's fid, and finally, while the file is open here, its last known attributes (with no
  // links left) keep it usable.
  // When none can be had, the reason is the answer: after a reconnect, a file whose path no
  // longer leads to it cannot be opened again (ESTALE), and reads and writes say the same.
  Error last_error{ENOENT, "file is gone"};
  std::shared_ptr<client::Fid> candidates[3];
  if (auto f = fid_for(*n, snap))
    candidates[0] = *f;
  else
    last_error = f.error();
  if (fi != nullptr && fi->fh != 0) {
    if (auto f = fid_for(*handle_of(fi), snap))
      candidates[1] = *f;
    else
      last_error = f.error();
  }
  candidates[2] = inodes_.open_fid(**n, snap.uid);
  if (candidates[2] && candidates[2]->session_ptr() != snap.session) candidates[2].reset();
  bool changed = change == nullptr || change->valid == 0;
  for (auto& c : candidates) {
    if (!c) continue;
    if (!changed) {
      auto r = c->setattr(*change);
      if (!r) {
        if (!gone(r.error())) return std::unexpected(r.error());
        last_error = r.error();
        continue;
      }
      changed = true;
    }
    auto a = c->getattr(p9::kGetattrBasic);
    if (a || !gone(a.error())) return a;
    last_error = a.error();
  }
  if (changed && (candidates[1] || candidates[2])) {
    if (auto last = inodes_.last_attr(**n)) {
      last->nlink = 0;
      return *last;
    }
  }
  return std::unexpected(last_error);
}

void FileSystem::getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  setattr(req, ino, nullptr, 0, fi);
}

void FileSystem::setattr(fuse_req_t req, fuse_ino_t ino, const struct stat* attr, int to_set,
                         fuse_file_info* fi) {
  Ticket t = ticket();
  client::SetAttr sa = attr ? to_setattr(*attr, to_set) : client::SetAttr{};
  auto a = retrying<client::Attr>(req, [&](const Connection::Snapshot& snap) {
    return attributes(ino, fi, attr ? &sa : nullptr, snap);
  });
  if (!a) return reply_error(req, a.error());
  if (auto n = inodes_.get(ino)) inodes_.set_attr(*n, *a);
  struct stat st = to_stat(*a);
  reply_cached(t, directory_of(ino).get(),
               [&](double timeout) { fuse_reply_attr(req, &st, timeout); });
}

void FileSystem::readlink(fuse_req_t req, fuse_ino_t ino) {
  auto t = retrying<std::string>(req, [&](const Connection::Snapshot& snap) -> Result<std::string> {
    auto n = node_fid(ino, snap);
    if (!n) return std::unexpected(n.error());
    return n->fid->readlink();
  });
  if (!t) return reply_error(req, t.error());
  fuse_reply_readlink(req, t->c_str());
}

void FileSystem::mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                       dev_t rdev) {
  gid_t gid = creator_gid(req);
  Ticket t = ticket();
  auto e = retrying<fuse_entry_param>(
      req, [&](const Connection::Snapshot& snap) -> Result<fuse_entry_param> {
        auto p = node_fid(parent, snap);
        if (!p) return std::unexpected(p.error());
        auto q = p->fid->mknod(name, mode, major(rdev), minor(rdev), gid);
        if (!q) return std::unexpected(q.error());
        return lookup_entry(p->node, name, snap);
      });
  reply_entry(req, t, parent, std::move(e));
}

void FileSystem::mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  gid_t gid = creator_gid(req);
  Ticket t = ticket();
  auto e = retrying<fuse_entry_param>(
      req, [&](const Connection::Snapshot& snap) -> Result<fuse_entry_param> {
        auto p = node_fid(parent, snap);
        if (!p) return std::unexpected(p.error());
        auto q = p->fid->mkdir(name, mode & 07777, gid);
        if (!q) return std::unexpected(q.error());
        return lookup_entry(p->node, name, snap);
      });
  reply_entry(req, t, parent, std::move(e));
}

void FileSystem::symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  gid_t gid = creator_gid(req);
  Ticket t = ticket();
  auto e = retrying<fuse_entry_param>(
      req, [&](const Connection::Snapshot& snap) -> Result<fuse_entry_param> {
        auto p = node_fid(parent, snap);
        if (!p) return std::unexpected(p.error());
        auto q = p->fid->symlink(name, target, gid);
        if (!q) return std::unexpected(q.error());
        return lookup_entry(p->node, name, snap);
      });
  reply_entry(req, t, parent, std::move(e));
}

void FileSystem::link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  Ticket t = ticket();
  auto e = retrying<fuse_entry_param>(
      req, [&](const Connection::Snapshot& snap) -> Result<fuse_entry_param> {
        auto n = node_fid(ino, snap);
        if (!n) return std::unexpected(n.error());
        auto p = node_fid(newparent, snap);
        if (!p) return std::unexpected(p.error());
        auto r = p->fid->link(*n->fid, newname);
        if (!r) return std::unexpected(r.error());
        return lookup_entry(p->node, newname, snap);
      });
  reply_entry(req, t, newparent, std::move(e));
}

void FileSystem::unlink(fuse_req_t req, fuse_ino_t parent, const char* name, bool dir) {
  auto r = retrying<void>(req, [&](const Connection::Snapshot& snap) -> Result<void> {
    auto p = node_fid(parent, snap);
    if (!p) return std::unexpected(p.error());
    return p->fid->unlinkat(name, dir ? p9::kAtRemovedir : 0);
  });
  if (!r) return reply_error(req, r.error());
  fuse_reply_err(req, 0);
}

void FileSystem::rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
                        const char* newname, unsigned flags) {
  if (flags & RENAME_EXCHANGE) return (void)fuse_reply_err(req, EINVAL);  // 9P cannot swap
  if (flags & ~unsigned(RENAME_NOREPLACE)) return (void)fuse_reply_err(req, EINVAL);
  bool noreplace = (flags & RENAME_NOREPLACE) != 0;
  auto r = retrying<void>(req, [&](const Connection::Snapshot& snap) -> Result<void> {
    auto p = node_fid(parent, snap);
    if (!p) return std::unexpected(p.error());
    auto np = node_fid(newparent, snap);
    if (!np) return std::unexpected(np.error());
    if (noreplace) {
      // 9P has no "rename unless the target exists". For files, a hard link under the new name
      // fails with EEXIST atomically on the server; removing the old name completes the move.
      // Directories cannot be linked: EINVAL, which callers of renameat2 treat as "unsupported".
      auto src = p->fid->walk({std::string_view(name)});
      if (!src) return std::unexpected(src.error());
      if (src->is_dir()) return fail(EINVAL, "RENAME_NOREPLACE of a directory");
      auto l = np->fid->link(*src, newname);
      if (!l) {
        if (l.error().code == EEXIST || !snap.alive()) return l;
        return fail(EINVAL, "RENAME_NOREPLACE needs hard links");
      }
      auto u = p->fid->unlinkat(name, 0);
      if (!u) return u;
    } else {
      auto rr = p->fid->renameat(name, *np->fid, newname);
      if (!rr) return rr;
    }
    // Keep the moved node's path (and, for path-based servers like diod, its fid) current.
    auto moved = np->fid->walk({std::string_view(newname)});
    if (moved) {
      p9::Qid qid = moved->qid();
      auto n = inodes_.find_qid(qid.path);
      if (n) {
        inodes_.moved(n, np->node, newname, snap.uid);
        inodes_.set_fid(*n, std::make_shared<client::Fid>(std::move(*moved)), snap.generation,
                        snap.uid);
      }
    }
    return {};
  });
  if (!r) return reply_error(req, r.error());
  fuse_reply_err(req, 0);
}

void FileSystem::statfs(fuse_req_t req, fuse_ino_t) {
  auto s = retrying<client::StatFs>(
      req, [&](const Connection::Snapshot& snap) { return snap.root->statfs(); });
  if (!s) return reply_error(req, s.error());
  struct statvfs v {};
  v.f_bsize = s->bsize;
  v.f_frsize = s->bsize;
  v.f_blocks = s->blocks;
  v.f_bfree = s->bfree;
  v.f_bavail = s->bavail;
  v.f_files = s->files;
  v.f_ffree = s->ffree;
  v.f_favail = s->ffree;
  v.f_fsid = s->fsid;
  v.f_namemax = s->namelen ? s->namelen : 255;
  fuse_reply_statfs(req, &v);
}

}  // namespace ninep::fuse
