// The Linux kernel's checks of a classic BPF program (net/core/filter.c: bpf_check_basics_ok,
// bpf_check_classic, check_load_and_stores), reproduced so that a program passes here exactly
// when SO_ATTACH_FILTER would accept it: no more, no less.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "bpf/raw.h"
#include "common/error.h"

namespace ninep::bpf {

struct Rejection {
  // 0-based index of the offending instruction; empty for a program of the wrong length.
  std::optional<std::size_t> index;
  std::string reason;  // e.g. "division by constant 0"

  // "instruction 3: division by constant 0" (or just the reason).
  std::string to_string() const;
};

// Why the kernel would reject `program`, naming the first instruction its checks trip over, or
// nothing when the kernel accepts it. Rejected: an empty program or one of more than 4096
// instructions; an opcode outside the kernel's list; division or modulo by constant 0; a
// constant shift by 32 or more; a scratch slot >= 16; a jump past the last instruction; an
// ancillary load (k >= SKF_AD_OFF) of an unknown extension; a last instruction that is not
// `ret`; a read of a scratch word that is not written on every path to it (with the kernel's
// own conservative analysis, e.g. a `ret` does not end the path for the instruction after it).
std::optional<Rejection> find_rejection(std::span<const RawInstruction> program);

// find_rejection() as a Result: EINVAL with the rejection's text.
Result<void> validate(std::span<const RawInstruction> program);

// Whether the kernel's opcode list contains `code` (chk_code_allowed).
bool opcode_allowed(std::uint16_t code);

}  // namespace ninep::bpf
