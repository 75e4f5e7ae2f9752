#include "fuse/inode_table.h"

#include <algorithm>

namespace ninep::fuse {

void InodeTable::set_max_fids(std::size_t n) {
  std::lock_guard lk(mu_);
  max_fids_ = n;
}

namespace {

InodeFid* find_fid(Inode& node, std::uint32_t uid) {
  for (auto& f : node.fids)
    if (f.uid == uid) return &f;
  return nullptr;
}

}  // namespace

void InodeTable::touch_locked(Inode& node, std::uint32_t uid, Released* out) {
  InodeFid* mine = find_fid(node, uid);
  if (mine == nullptr) return;
  lru_.splice(lru_.begin(), lru_, mine->lru);
  if (out == nullptr || max_fids_ == 0) return;
  // Oldest first; a node removed by us cannot be walked to again, so it keeps its fids.
  auto it = lru_.end();
  while (lru_.size() > max_fids_ && it != lru_.begin()) {
    --it;
    auto [victim, victim_uid] = *it;
    if ((victim == &node && victim_uid == uid) || victim->unlinked) continue;
    for (std::size_t i = 0; i < victim->fids.size(); ++i) {
      if (victim->fids[i].uid != victim_uid) continue;
      out->push_back(std::move(victim->fids[i].fid));
      victim->fids[i] = std::move(victim->fids.back());
      victim->fids.pop_back();
      break;
    }
    it = lru_.erase(it);
  }
}

void InodeTable::put_fid_locked(Inode& node, std::shared_ptr<client::Fid> fid,
                                std::uint64_t generation, std::uint32_t uid, Released* out) {
  if (node.ino == FUSE_ROOT_ID) {
    out->push_back(std::move(fid));  // the root's fids are the attached roots
    return;
  }
  if (InodeFid* f = find_fid(node, uid)) {
    out->push_back(std::exchange(f->fid, std::move(fid)));
    f->generation = generation;
  } else {
    InodeFid nf;
    nf.uid = uid;
    nf.generation = generation;
    nf.fid = std::move(fid);
    nf.lru = lru_.insert(lru_.begin(), {&node, uid});
    node.fids.push_back(std::move(nf));
  }
  touch_locked(node, uid, out);
}

void InodeTable::drop_fid_locked(Inode& node, std::size_t index, Released* out) {
  lru_.erase(node.fids[index].lru);
  out->push_back(std::move(node.fids[index].fid));
  node.fids[index] = std::move(node.fids.back());
  node.fids.pop_back();
}

void InodeTable::set_root(const p9::Qid& qid) {
  auto root = std::make_shared<Inode>();
  root->ino = FUSE_ROOT_ID;
  root->qid = qid;
  root->nlookup = 1;  // the kernel never forgets the root
  std::lock_guard lk(mu_);
  by_ino_[FUSE_ROOT_ID] = root;
  by_qid_[root->qid.path] = root;
}

std::shared_ptr<Inode> InodeTable::get(fuse_ino_t ino) const {
  std::lock_guard lk(mu_);
  auto it = by_ino_.find(ino);
  return it == by_ino_.end() ? nullptr : it->second;
}

std::shared_ptr<Inode> InodeTable::remember(const std::shared_ptr<Inode>& parent,
                                            std::string_view name, const p9::Qid& qid,
                                            client::Fid&& fid, std::uint64_t generation,
                                            std::uint32_t uid) {
  auto shared = std::make_shared<client::Fid>(std::move(fid));
  Released dropped;  // clunked outside the lock (declared before the guard: released after it)
  std::lock_guard lk(mu_);
  auto it = by_qid_.find(qid.path);
  if (it != by_qid_.end() && it->second->nlookup > 0 &&
      (it->second->qid.type & p9::kQtDir) == (qid.type & p9::kQtDir)) {
    auto& node = it->second;
    ++node->nlookup;
    if (node->ino != FUSE_ROOT_ID) {
      // The newest path is the one most likely to still lead here (servers like diod keep paths
      // in their fids, so a renamed or re-created file is only reachable through a fresh walk).
      node->parent = parent;
      node->name = std::string(name);
      node->unlinked = false;
      put_fid_locked(*node, std::move(shared), generation, uid, &dropped);
    } else {
      dropped.push_back(std::move(shared));
    }
    return node;
  }
  auto node = std::make_shared<Inode>();
  node->ino = next_ino_++;
  node->qid = qid;
  node->nlookup = 1;
  node->parent = parent;
  node->name = std::string(name);
  by_ino_[node->ino] = node;
  by_qid_[qid.path] = node;  // replaces a stale node of another type with the same path
  put_fid_locked(*node, std::move(shared), generation, uid, &dropped);
  return node;
}

std::shared_ptr<Inode> InodeTable::find_qid(std::uint64_t qid_path) const {
  std::lock_guard lk(mu_);
  auto it = by_qid_.find(qid_path);
  return it == by_qid_.end() ? nullptr : it->second;
}

void InodeTable::forget(fuse_ino_t ino, std::uint64_t n) {
  if (ino == FUSE_ROOT_ID) return;
  std::shared_ptr<Inode> gone;
  Released fids;
  {
    std::lock_guard lk(mu_);
    auto it = by_ino_.find(ino);
    if (it == by_ino_.end()) return;
    auto& node = it->second;
    node->nlookup -= std::min(n, node->nlookup);
    if (node->nlookup > 0) return;
    gone = node;
    while (!node->fids.empty()) drop_fid_locked(*node, node->fids.size() - 1, &fids);
    by_ino_.erase(it);
    auto q = by_qid_.find(gone->qid.path);
    if (q != by_qid_.end() && q->second == gone) by_qid_.erase(q);
  }
  // `fids` (and the node, unless a child still names it as parent) are released here, outside
  // the lock: the clunks are asynchronous.
}

std::shared_ptr<client::Fid> InodeTable::fid_of(Inode& node, std::uint64_t generation,
                                                std::uint32_t uid) {
  std::lock_guard lk(mu_);
  InodeFid* f = find_fid(node, uid);
  if (f == nullptr || f->generation != generation || !f->fid) return nullptr;
  touch_locked(node, uid, nullptr);
  return f->fid;
}

void InodeTable::set_fid(Inode& node, std::shared_ptr<client::Fid> fid, std::uint64_t generation,
                         std::uint32_t uid) {
  Released old;  // clunked outside the lock
  std::lock_guard lk(mu_);
  if (InodeFid* f = find_fid(node, uid); f && f->generation > generation) return;
  if (node.nlookup == 0) return;  // forgotten meanwhile: do not resurrect its fid
  put_fid_locked(node, std::move(fid), generation, uid, &old);
}

std::size_t InodeTable::fids() const {
  std::lock_guard lk(mu_);
  return lru_.size();
}

std::shared_ptr<Inode> InodeTable::parent_of(const Inode& node) const {
  std::lock_guard lk(mu_);
  return node.parent;
}

bool InodeTable::path_of(const Inode& node, std::vector<std::string>& names) const {
  std::lock_guard lk(mu_);
  names.clear();
  const Inode* n = &node;
  while (n->parent) {
    if (n->unlinked) return false;
    names.push_back(n->name);
    n = n->parent.get();
  }
  if (n->ino != FUSE_ROOT_ID) return false;
  std::reverse(names.begin(), names.end());
  return true;
}

void InodeTable::moved(const std::shared_ptr<Inode>& node, const std::shared_ptr<Inode>& new_parent,
                       std::string_view name, std::uint32_t by) {
  Released others;  // clunked outside the lock
  std::lock_guard lk(mu_);
  if (node->ino == FUSE_ROOT_ID) return;
  node->parent = new_parent;
  node->name = std::string(name);
  node->unlinked = false;
  for (std::size_t i = node->fids.size(); i-- > 0;)
    if (node->fids[i].uid != by) drop_fid_locked(*node, i, &others);
}

void InodeTable::mark_unlinked(const std::shared_ptr<Inode>& node) {
  std::lock_guard lk(mu_);
  node->unlinked = true;
}

bool InodeTable::keep_cache(Inode& node, std::uint32_t version) {
  std::lock_guard lk(mu_);
  bool keep = node.version_known && version != 0 && node.cached_version == version;
  node.cached_version = version;
  node.version_known = version != 0;
  return keep;
}

void InodeTable::set_attr(Inode& node, const client::Attr& attr) {
  std::lock_guard lk(mu_);
  node.attr = attr;
  node.has_attr = true;
}

std::optional<client::Attr> InodeTable::last_attr(const Inode& node) const {
  std::lock_guard lk(mu_);
  if (!node.has_attr) return std::nullopt;
  return node.attr;
}

std::optional<client::Attr> InodeTable::cached_attr(const Inode& node, const p9::Qid& qid) const {
  std::lock_guard lk(mu_);
  if (!node.has_attr || node.attr.qid != qid) return std::nullopt;
  if ((node.attr.valid & p9::kGetattrBasic) != p9::kGetattrBasic) return std::nullopt;
  return node.attr;
}

void InodeTable::set_open_fid(Inode& node, const std::shared_ptr<client::Fid>& fid,
                              std::uint32_t uid) {
  std::lock_guard lk(mu_);
  node.open_fid = fid;
  node.open_fid_uid = uid;
}

std::shared_ptr<client::Fid> InodeTable::open_fid(const Inode& node, std::uint32_t uid) const {
  std::lock_guard lk(mu_);
  if (node.open_fid_uid != uid) return nullptr;
  return node.open_fid.lock();
}

bool InodeTable::known_absent_xattr(const Inode& node, std::string_view name,
                                    std::chrono::steady_clock::duration ttl) const {
  std::lock_guard lk(mu_);
  auto now = std::chrono::steady_clock::now();
  for (const auto& [n, since] : node.absent_xattrs)
    if (n == name) return now - since < ttl;
  return false;
}

void InodeTable::set_absent_xattr(Inode& node, std::string_view name) {
  std::lock_guard lk(mu_);
  auto now = std::chrono::steady_clock::now();
  for (auto& [n, since] : node.absent_xattrs) {
    if (n == name) {
      since = now;
      return;
    }
  }
  if (node.absent_xattrs.size() >= 8) node.absent_xattrs.erase(node.absent_xattrs.begin());
  node.absent_xattrs.emplace_back(std::string(name), now);
}

void InodeTable::forget_absent_xattrs(Inode& node) {
  std::lock_guard lk(mu_);
  node.absent_xattrs.clear();
}

std::vector<InodeTable::Cached> InodeTable::cached(std::optional<fuse_ino_t> parent) const {
  std::vector<Cached> out;
  std::lock_guard lk(mu_);
  for (const auto& [ino, node] : by_ino_) {
    fuse_ino_t p = node->parent ? node->parent->ino : 0;
    if (parent && p != *parent) continue;
    out.push_back(Cached{node, p, node->name});
  }
  return out;
}

std::size_t InodeTable::size() const {
  std::lock_guard lk(mu_);
  return by_ino_.size();
}

}  // namespace ninep::fuse
