#include "client/fid_pool.h"

#include "p9/message.h"

namespace ninep::client {

Result<std::uint32_t> FidPool::alloc() {
  std::lock_guard lk(mu_);
  std::uint32_t fid;
  if (!free_.empty()) {
    fid = free_.back();
    free_.pop_back();
  } else {
    if (next_ == p9::kNoFid) return fail(ENFILE, "all fid numbers are in use");
    fid = next_++;
  }
  ++in_use_;
  return fid;
}

void FidPool::release(std::uint32_t fid) {
  std::lock_guard lk(mu_);
  free_.push_back(fid);
  --in_use_;
}

std::uint32_t FidPool::in_use() const {
  std::lock_guard lk(mu_);
  return in_use_;
}

}  // namespace ninep::client
