#include "server/localfs/lock_registry.h"

#include <algorithm>

namespace ninep::server::localfs {

void LockRegistry::granted(dev_t dev, ino_t ino, const void* owner, std::uint64_t start,
                           std::uint64_t end, std::uint32_t proc_id, std::string_view client_id) {
  std::lock_guard lk(mu_);
  auto& recs = files_[{dev, ino}];
  // A new lock replaces what the same owner had on the range.
  std::erase_if(
      recs, [&](const Record& r) { return r.owner == owner && r.start <= end && start <= r.end; });
  recs.push_back(Record{owner, start, end, Holder{proc_id, std::string(client_id)}});
}

void LockRegistry::released(dev_t dev, ino_t ino, const void* owner, std::uint64_t start,
                            std::uint64_t end) {
  std::lock_guard lk(mu_);
  auto it = files_.find({dev, ino});
  if (it == files_.end()) return;
  std::erase_if(it->second, [&](const Record& r) {
    return r.owner == owner && r.start <= end && start <= r.end;
  });
  if (it->second.empty()) files_.erase(it);
}

void LockRegistry::forget(dev_t dev, ino_t ino, const void* owner) {
  std::lock_guard lk(mu_);
  auto it = files_.find({dev, ino});
  if (it == files_.end()) return;
  std::erase_if(it->second, [&](const Record& r) { return r.owner == owner; });
  if (it->second.empty()) files_.erase(it);
}

bool LockRegistry::find(dev_t dev, ino_t ino, const void* self, std::uint64_t start,
                        std::uint64_t end, Holder& out) const {
  std::lock_guard lk(mu_);
  auto it = files_.find({dev, ino});
  if (it == files_.end()) return false;
  for (const Record& r : it->second) {
    if (r.owner != self && r.start <= end && start <= r.end) {
      out = r.holder;
      return true;
    }
  }
  return false;
}

}  // namespace ninep::server::localfs
