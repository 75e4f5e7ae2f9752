// Random classic BPF programs, packets and contexts for the differential tests (against the
// kernel, libpcap and between the interpreter and the JIT), biased towards the edges where
// engines disagree: shift counts >= 32 taken from X, X + k offsets that wrap, loads at and past
// the end of the packet and at the int32 boundary, negative offsets into the header areas,
// division by X == 0, every extension, scratch words, netlink attribute chains, long programs
// with long jumps.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "bpf/context.h"
#include "bpf/text.h"

namespace ninep::bpf::testing {

struct RandomProgramOptions {
  std::size_t max_body = 40;       // instructions before the epilogue
  unsigned long_percent = 0;       // percent of programs with 100 to 500 instructions
  std::uint32_t max_packet = 320;  // packets are at most this long; offsets cluster below it
  bool allow_random = false;       // `ld rand` (not reproducible against another runtime)
  bool allow_extensions = true;
  bool fold_result = true;  // end with a hash of A and X mapped to 1..64 (observable exactly
                            // through a kept length); else with ret a or ret #k
};

class RandomPrograms {
 public:
  explicit RandomPrograms(std::uint64_t seed) : rng_(seed) {}

  // A program the kernel accepts (checked with find_rejection; regenerated until it passes), with
  // every instruction kind and forward jumps of every form.
  Program valid_program(const RandomProgramOptions& options = {});
  // A program that is often invalid: a valid one with a few random corruptions of the kinds the
  // kernel's checker looks for, or plain random instructions.
  Program any_program();
  // A packet of at most `max_length` bytes, often of a length at a header boundary, sometimes
  // with an IPv4-like header or a chain of netlink attributes.
  std::vector<std::uint8_t> packet(std::uint32_t max_length);
  // Random extension values and header areas (the random source is left to the caller).
  Context context();

 private:
  std::mt19937_64 rng_;
};

}  // namespace ninep::bpf::testing
