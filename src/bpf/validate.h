// The Linux kernel's checks of a classic BPF program (net/core/filter.c: bpf_check_basics_ok,
// bpf_check_classic, check_load_and_stores), reproduced so that a program passes here exactly
// when SO_ATTACH_FILTER would accept it: no more, no less. In seccomp mode, also the checks
// seccomp(2) adds (kernel/seccomp.c: seccomp_check_filter), so that a program passes exactly
// when SECCOMP_SET_MODE_FILTER would accept it.
#pragma once

#include <cstddef>
#include <cstdint>
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

// What the program is checked for: a socket filter (SO_ATTACH_FILTER, the default) or a seccomp
// filter, which runs over a struct seccomp_data (64 bytes: nr, arch, instruction_pointer,
// args[6], in host byte order) instead of a packet.
enum class FilterKind { Socket, Seccomp };

// The 64 bytes of struct seccomp_data: a seccomp filter's whole "packet".
inline constexpr std::uint32_t kSeccompDataSize = 64;

// find_rejection() for `kind`. Seccomp adds, after the socket checks: the only loads from the
// data are `ld [k]` word loads with k 4-aligned and below 64 (no half-word or byte loads, no
// `ld [x + k]`, no `ldx 4*([k]&0xf)`, no extensions, which are loads at SKF_AD_OFF + n); no
// `mod` (not in seccomp's list); `ld len` and `ldx len` are allowed (the length is 64).
std::optional<Rejection> find_rejection(std::span<const RawInstruction> program, FilterKind kind);

// find_rejection() as a Result: EINVAL with the rejection's text.
Result<void> validate(std::span<const RawInstruction> program);
Result<void> validate(std::span<const RawInstruction> program, FilterKind kind);

// Whether the kernel's opcode list contains `code` (chk_code_allowed).
bool opcode_allowed(std::uint16_t code);

}  // namespace ninep::bpf
