// Internal interface between JitCode (memory management) and the x86-64 code generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bpf/raw.h"
#include "common/error.h"

namespace ninep::bpf::jit_x86_64 {

// An upper bound of the code size for `program`.
std::size_t code_bound(std::span<const RawInstruction> program);

// Generates the function `uint32_t f(const uint8_t* packet, uint32_t len, const Context* ctx)`
// for `program` (already validated) into `buffer` (`capacity` >= code_bound(program) bytes,
// writable) and returns its length; the code starts at buffer[0] and is position independent.
Result<std::size_t> generate(std::span<const RawInstruction> program, std::uint8_t* buffer,
                             std::size_t capacity);

}  // namespace ninep::bpf::jit_x86_64
