// A packet placed against an inaccessible page, so that a generated load that reads even one
// byte outside it faults instead of reading a neighbour (AddressSanitizer does not see the JIT's
// loads).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <span>

namespace ninep::bpf::test {

class GuardedPacket {
 public:
  // Room for packets of up to one page: [guard][data][guard].
  GuardedPacket() {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* m = mmap(nullptr, 3 * page_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return;
    base_ = static_cast<std::uint8_t*>(m);
    if (mprotect(base_ + page_, page_, PROT_READ | PROT_WRITE) != 0) {
      munmap(base_, 3 * page_);
      base_ = nullptr;
    }
  }
  ~GuardedPacket() {
    if (base_ != nullptr) munmap(base_, 3 * page_);
  }
  GuardedPacket(const GuardedPacket&) = delete;
  GuardedPacket& operator=(const GuardedPacket&) = delete;

  bool ok() const { return base_ != nullptr; }
  std::size_t capacity() const { return page_; }

  // A copy of `bytes` (at most capacity()) ending at the guard page after it, or starting right
  // after the guard page before it.
  std::span<const std::uint8_t> place(std::span<const std::uint8_t> bytes, bool at_end) {
    const std::size_t n = bytes.size() < page_ ? bytes.size() : page_;
    std::uint8_t* data = base_ + page_ + (at_end ? page_ - n : 0);
    if (n != 0) std::memcpy(data, bytes.data(), n);
    return {data, n};
  }

 private:
  std::size_t page_ = 0;
  std::uint8_t* base_ = nullptr;
};

}  // namespace ninep::bpf::test
