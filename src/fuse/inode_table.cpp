#include "fuse/inode_table.h"

#include <algorithm>

namespace ninep::fuse {

void InodeTable::set_max_fids(std::size_t n) {
  std::lock_guard lk(mu_);
  max_fids_ = n;
}

void InodeTable::touch_locked(Inode& node, std::vector<std::shared_ptr<client::Fid>>* out) {
  if (node.ino == FUSE_ROOT_ID || !node.fid) return;
  if (node.in_lru) {
    lru_.splice(lru_.begin(), lru_, node.lru);
  } else {
    node.lru = lru_.insert(lru_.begin(), &node);
    node.in_lru = true;
  }
  if (out == nullptr || max_fids_ == 0) return;
  // Oldest first; a node removed by us cannot be walked to again, so it keeps its fid.
  auto it = lru_.end();
  while (lru_.size() > max_fids_ && it != lru_.begin()) {
    Inode* victim = *--it;
    if (victim == &node || victim->unlinked) continue;
    it = lru_.erase(it);
    victim->in_lru = false;
    out->push_back(std::move(victim->fid));
  }
}

void InodeTable::untrack_locked(Inode& node) {
  if (!node.in_lru) return;
  lru_.erase(node.lru);
  node.in_lru = false;
}

void InodeTable::set_root(std::shared_ptr<client::Fid> fid, std::uint64_t generation) {
  auto root = std::make_shared<Inode>();
  root->ino = FUSE_ROOT_ID;
  root->qid = fid->qid();
  root->nlookup = 1;  // the kernel never forgets the root
  root->fid = std::move(fid);
  root->generation = generation;
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
                                            client::Fid&& fid, std::uint64_t generation) {
  auto shared = std::make_shared<client::Fid>(std::move(fid));
  std::vector<std::shared_ptr<client::Fid>> dropped;  // clunked outside the lock
  std::lock_guard lk(mu_);
  auto it = by_qid_.find(qid.path);
  if (it != by_qid_.end() && it->second->nlookup > 0 &&
      (it->second->qid.type & p9::kQtDir) == (qid.type & p9::kQtDir)) {
    auto& node = it->second;
    ++node->nlookup;
    if (node->ino != FUSE_ROOT_ID) {
      // The newest path is the one most likely to still lead here (servers like diod keep paths
      // in their fids, so a renamed or re-created file is only reachable through a fresh walk).
      dropped.push_back(std::exchange(node->fid, std::move(shared)));
      node->generation = generation;
      node->parent = parent;
      node->name = std::string(name);
      node->unlinked = false;
      touch_locked(*node, &dropped);
    }
    return node;
  }
  auto node = std::make_shared<Inode>();
  node->ino = next_ino_++;
  node->qid = qid;
  node->nlookup = 1;
  node->parent = parent;
  node->name = std::string(name);
  node->fid = std::move(shared);
  node->generation = generation;
  by_ino_[node->ino] = node;
  by_qid_[qid.path] = node;  // replaces a stale node of another type with the same path
  touch_locked(*node, &dropped);
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
  std::shared_ptr<client::Fid> fid;
  {
    std::lock_guard lk(mu_);
    auto it = by_ino_.find(ino);
    if (it == by_ino_.end()) return;
    auto& node = it->second;
    node->nlookup -= std::min(n, node->nlookup);
    if (node->nlookup > 0) return;
    gone = node;
    untrack_locked(*node);
    fid = std::move(node->fid);
    by_ino_.erase(it);
    auto q = by_qid_.find(gone->qid.path);
    if (q != by_qid_.end() && q->second == gone) by_qid_.erase(q);
  }
  // `fid` (and the node, unless a child still names it as parent) are released here, outside
  // the lock: the clunk is asynchronous.
}

std::shared_ptr<client::Fid> InodeTable::fid_of(Inode& node, std::uint64_t generation) {
  std::lock_guard lk(mu_);
  if (node.generation != generation || !node.fid) return nullptr;
  touch_locked(node, nullptr);
  return node.fid;
}

void InodeTable::set_fid(Inode& node, std::shared_ptr<client::Fid> fid, std::uint64_t generation) {
  std::vector<std::shared_ptr<client::Fid>> old;  // clunked outside the lock
  std::lock_guard lk(mu_);
  if (node.generation > generation && node.fid) return;
  if (node.nlookup == 0) return;  // forgotten meanwhile: do not resurrect its fid
  old.push_back(std::exchange(node.fid, std::move(fid)));
  node.generation = generation;
  touch_locked(node, &old);
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
                       std::string_view name) {
  std::lock_guard lk(mu_);
  if (node->ino == FUSE_ROOT_ID) return;
  node->parent = new_parent;
  node->name = std::string(name);
  node->unlinked = false;
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

void InodeTable::set_open_fid(Inode& node, const std::shared_ptr<client::Fid>& fid) {
  std::lock_guard lk(mu_);
  node.open_fid = fid;
}

std::shared_ptr<client::Fid> InodeTable::open_fid(const Inode& node) const {
  std::lock_guard lk(mu_);
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

std::size_t InodeTable::size() const {
  std::lock_guard lk(mu_);
  return by_ino_.size();
}

}  // namespace ninep::fuse
