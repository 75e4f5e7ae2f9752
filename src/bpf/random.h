// SplitMix64: the small, fast, seedable generator behind the default SKF_AD_RANDOM source, and a
// convenient seeded source for callers (tests, the `1% sample` example).
#pragma once

#include <atomic>
#include <cstdint>

#include "bpf/context.h"

namespace ninep::bpf {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed = 0) : state_(seed) {}

  std::uint32_t next() { return mix(state_ += kGamma); }

  // For Context::random: `ctx.random = &SplitMix64::next_of; ctx.random_state = &generator;`.
  static std::uint32_t next_of(void* generator) {
    return static_cast<SplitMix64*>(generator)->next();
  }

  // The high half of the 64-bit SplitMix64 output for the counter value `z`.
  static std::uint32_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
  }
  static constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ull;

 private:
  std::uint64_t state_;
};

// The same sequence, safe to draw from several threads at once (each draw is one atomic add), as
// a Vm shared by threads needs.
class SharedSplitMix64 {
 public:
  explicit SharedSplitMix64(std::uint64_t seed = 0) : state_(seed) {}

  std::uint32_t next() {
    return SplitMix64::mix(state_.fetch_add(SplitMix64::kGamma, std::memory_order_relaxed) +
                           SplitMix64::kGamma);
  }
  static std::uint32_t next_of(void* generator) {
    return static_cast<SharedSplitMix64*>(generator)->next();
  }

 private:
  std::atomic<std::uint64_t> state_;
};

// A copy of `ctx` whose random source is `generator`.
inline Context with_random(Context ctx, SplitMix64& generator) {
  ctx.random = &SplitMix64::next_of;
  ctx.random_state = &generator;
  return ctx;
}

}  // namespace ninep::bpf
