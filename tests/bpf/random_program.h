// Random classic BPF programs and packets for differential tests (kernel, libpcap, JIT).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "bpf/text.h"

namespace ninep::bpf::testing {

struct RandomProgramOptions {
  std::size_t max_body = 40;       // instructions before the final return
  std::uint32_t max_packet = 320;  // packets are at most this long; offsets cluster below it
  bool allow_random = false;       // `ld rand` (not reproducible against another runtime)
  bool allow_extensions = true;
  bool fold_result = true;  // end with a hash of A and X mapped to 1..64 (observable
                            // exactly through a kept length)
};

// A program the kernel accepts (checked with find_rejection; regenerated until it passes), with
// every instruction kind, forward jumps of every form, edge constants and offsets at and past the
// packet's end, in the header areas and wrapping through X + k.
Program random_valid_program(std::mt19937_64& rng, const RandomProgramOptions& options = {});

// A program that is often invalid: a valid one with a few random corruptions of the kinds the
// kernel's checker looks for, or plain random instructions.
Program random_program(std::mt19937_64& rng);

std::vector<std::uint8_t> random_packet(std::mt19937_64& rng, std::uint32_t max_length);

}  // namespace ninep::bpf::testing
