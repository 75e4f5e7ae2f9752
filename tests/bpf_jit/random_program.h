// Random valid classic BPF programs, packets and contexts for differential tests, biased towards
// the edges where engines disagree: shift counts >= 32 taken from X, X + k offsets that wrap,
// loads at and across the end of the packet, negative offsets, division by X == 0, every
// extension, scratch words, netlink attribute chains, long jumps.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "bpf/context.h"
#include "bpf/raw.h"

namespace ninep::bpf::test {

class RandomPrograms {
 public:
  explicit RandomPrograms(std::uint64_t seed) : rng_(seed) {}

  // A program the validator accepts.
  std::vector<RawInstruction> program();
  // A packet of 0 to ~1500 bytes, mostly short, sometimes holding netlink attributes.
  std::vector<std::uint8_t> packet();
  // Random extension values (the random source is left to the caller).
  Context context();

 private:
  std::uint32_t below(std::uint32_t n) {
    return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng_);
  }
  bool chance(unsigned percent) { return below(100) < percent; }
  std::uint32_t any() { return static_cast<std::uint32_t>(rng_()); }
  std::uint32_t edgy_constant();
  std::uint32_t packet_offset();
  std::uint32_t indirect_offset();
  std::vector<RawInstruction> candidate();

  std::mt19937_64 rng_;
};

}  // namespace ninep::bpf::test
