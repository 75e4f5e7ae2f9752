// A classic BPF instruction in its raw form, laid out exactly as Linux's struct sock_filter.
#pragma once

#include <cstdint>

namespace ninep::bpf {

struct RawInstruction {
  std::uint16_t op = 0;
  std::uint8_t jt = 0;
  std::uint8_t jf = 0;
  std::uint32_t k = 0;
  friend bool operator==(const RawInstruction&, const RawInstruction&) = default;
};
static_assert(sizeof(RawInstruction) == 8);

inline constexpr std::size_t kMaxInstructions = 4096;  // BPF_MAXINSNS
inline constexpr std::size_t kScratchWords = 16;       // BPF_MEMWORDS

}  // namespace ninep::bpf
