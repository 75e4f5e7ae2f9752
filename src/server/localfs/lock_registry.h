// Who holds which byte-range lock, as far as 9P clients said: the host's OFD locks decide
// conflicts, but only know open file descriptions, so Tgetlock's answer (the holder's proc_id and
// client_id, which the guest shows as the conflicting lock's pid) comes from this record.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ninep::server::localfs {

class LockRegistry {
 public:
  struct Holder {
    std::uint32_t proc_id = 0;
    std::string client_id;
  };

  // A lock granted to `owner` on [start, end] (end inclusive; UINT64_MAX = to end of file).
  void granted(dev_t dev, ino_t ino, const void* owner, std::uint64_t start, std::uint64_t end,
               std::uint32_t proc_id, std::string_view client_id);
  // `owner` unlocked [start, end]: forget its records overlapping it.
  void released(dev_t dev, ino_t ino, const void* owner, std::uint64_t start, std::uint64_t end);
  // `owner` closed its file: forget all its records on that file.
  void forget(dev_t dev, ino_t ino, const void* owner);
  // The recorded holder (other than `self`) of a lock overlapping [start, end], if any.
  bool find(dev_t dev, ino_t ino, const void* self, std::uint64_t start, std::uint64_t end,
            Holder& out) const;

 private:
  struct Record {
    const void* owner;
    std::uint64_t start, end;
    Holder holder;
  };
  using Key = std::pair<dev_t, ino_t>;
  mutable std::mutex mu_;
  std::map<Key, std::vector<Record>> files_;
};

}  // namespace ninep::server::localfs
