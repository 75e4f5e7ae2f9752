#include "server/fid_table.h"

#include "p9/message.h"

namespace ninep::server {
namespace {

std::size_t hash_fid(std::uint32_t id, std::size_t mask) {
  return (static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ull >> 32) & mask;
}

}  // namespace

void FidRef::reset() {
  if (f_ == nullptr) return;
  Fid* f = std::exchange(f_, nullptr);
  if (f->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) f->table_->recycle(f);
}

FidTable::FidTable(std::uint32_t max_fids, Budget::Account* account)
    : max_fids_(max_fids), account_(account), slots_(64, nullptr) {}

Result<void> FidTable::charge(Fid& f, Budget::Kind kind, std::uint64_t n, int error) {
  if (account_ == nullptr) return {};
  if (!account_->take(kind, n))
    return fail(error, kind == Budget::kBytes
                           ? "this connection holds its share of the server's memory budget"
                           : "this connection holds its share of the server's descriptors");
  f.charged[kind] += n;
  return {};
}

FidTable::~FidTable() {
  clear();
}

FidRef FidTable::make() {
  Fid* f = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      f = free_.back();
      free_.pop_back();
    } else {
      owned_.push_back(std::make_unique<Fid>());
      f = owned_.back().get();
      f->table_ = this;
    }
  }
  f->refs_.store(1, std::memory_order_relaxed);
  f->renew();
  return FidRef(f);
}

void FidTable::recycle(Fid* f) {
  // Releasing the node closes host descriptors: done outside the lock.
  f->node.reset();
  f->who.reset();
  f->xattr.reset();
  f->events.reset();
  f->exp = nullptr;
  f->kind = Fid::Kind::File;
  f->opened = false;
  f->listed = false;
  f->path.reset();
  f->depth = 0;
  f->id = 0;
  if (account_ != nullptr) {
    for (auto k : {Budget::kBytes, Budget::kDescriptors})
      if (f->charged[k] != 0) account_->give(k, f->charged[k]);
  }
  f->charged = {};
  std::lock_guard lock(mu_);
  free_.push_back(f);
}

std::size_t FidTable::find_slot(std::uint32_t id) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash_fid(id, mask);
  while (slots_[i] != nullptr && slots_[i]->id != id) i = (i + 1) & mask;
  return i;
}

void FidTable::grow() {
  std::vector<Fid*> old(slots_.size() * 2, nullptr);
  old.swap(slots_);
  for (Fid* f : old)
    if (f != nullptr) slots_[find_slot(f->id)] = f;
}

void FidTable::erase_slot(std::size_t slot) {
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = slot;
  slots_[hole] = nullptr;
  for (std::size_t i = (hole + 1) & mask; slots_[i] != nullptr; i = (i + 1) & mask) {
    std::size_t home = hash_fid(slots_[i]->id, mask);
    // Move the entry into the hole when its home is not in (hole, i] cyclically.
    bool between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (!between) {
      slots_[hole] = slots_[i];
      slots_[i] = nullptr;
      hole = i;
    }
  }
}

Result<void> FidTable::insert(std::uint32_t id, const FidRef& f) {
  if (id == p9::kNoFid) return fail(EBADF, "NOFID cannot name a fid");
  std::lock_guard lock(mu_);
  std::size_t slot = find_slot(id);
  if (slots_[slot] != nullptr) return fail(EBADF, "fid " + std::to_string(id) + " in use");
  if (count_ >= max_fids_)
    return fail(EMFILE, "too many fids on this connection (max " + std::to_string(max_fids_) + ")");
  if (f->charged[Budget::kDescriptors] == 0) {
    if (auto r = charge(*f, Budget::kDescriptors, 1, ENFILE); !r) return r;
  }
  f->id = id;
  f->refs_.fetch_add(1, std::memory_order_relaxed);
  slots_[slot] = f.get();
  if (++count_ * 2 > slots_.size()) grow();
  return {};
}

FidRef FidTable::get(std::uint32_t id) {
  std::lock_guard lock(mu_);
  Fid* f = slots_[find_slot(id)];
  if (f == nullptr) return {};
  f->refs_.fetch_add(1, std::memory_order_relaxed);
  return FidRef(f);
}

FidRef FidTable::take(std::uint32_t id) {
  std::lock_guard lock(mu_);
  std::size_t slot = find_slot(id);
  Fid* f = slots_[slot];
  if (f == nullptr) return {};
  erase_slot(slot);
  --count_;
  return FidRef(f);
}

void FidTable::clear() {
  std::vector<Fid*> all;
  {
    std::lock_guard lock(mu_);
    for (Fid*& f : slots_) {
      if (f != nullptr) all.push_back(f);
      f = nullptr;
    }
    count_ = 0;
  }
  for (Fid* f : all) FidRef drop(f);
}

std::size_t FidTable::size() const {
  std::lock_guard lock(mu_);
  return count_;
}

}  // namespace ninep::server
