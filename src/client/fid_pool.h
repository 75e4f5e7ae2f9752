// Allocation of fid numbers for one connection: freed numbers are reused first (most recently
// freed first, which keeps the server's fid table small), fresh ones counted up from 0.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "common/error.h"

namespace ninep::client {

class FidPool {
 public:
  Result<std::uint32_t> alloc();
  void release(std::uint32_t fid);
  std::uint32_t in_use() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::uint32_t> free_;
  std::uint32_t next_ = 0;
  std::uint32_t in_use_ = 0;
};

}  // namespace ninep::client
