// What the JIT knows about a validated classic BPF program before generating code: its opcodes,
// and per-instruction facts found by two linear passes (jumps only go forwards, so one pass in
// each direction reaches a fixed point).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "bpf/raw.h"
#include "common/error.h"

namespace ninep::bpf::jit {

// Classic BPF opcodes the kernel accepts (linux/filter.h, bpf_common.h).
enum Opcode : std::uint16_t {
  kLdImm = 0x00,
  kLdWAbs = 0x20,
  kLdHAbs = 0x28,
  kLdBAbs = 0x30,
  kLdWInd = 0x40,
  kLdHInd = 0x48,
  kLdBInd = 0x50,
  kLdMem = 0x60,
  kLdLen = 0x80,
  kLdxImm = 0x01,
  kLdxMem = 0x61,
  kLdxLen = 0x81,
  kLdxMsh = 0xb1,
  kSt = 0x02,
  kStx = 0x03,
  kAddK = 0x04,
  kAddX = 0x0c,
  kSubK = 0x14,
  kSubX = 0x1c,
  kMulK = 0x24,
  kMulX = 0x2c,
  kDivK = 0x34,
  kDivX = 0x3c,
  kOrK = 0x44,
  kOrX = 0x4c,
  kAndK = 0x54,
  kAndX = 0x5c,
  kLshK = 0x64,
  kLshX = 0x6c,
  kRshK = 0x74,
  kRshX = 0x7c,
  kNeg = 0x84,
  kModK = 0x94,
  kModX = 0x9c,
  kXorK = 0xa4,
  kXorX = 0xac,
  kJa = 0x05,
  kJeqK = 0x15,
  kJeqX = 0x1d,
  kJgtK = 0x25,
  kJgtX = 0x2d,
  kJgeK = 0x35,
  kJgeX = 0x3d,
  kJsetK = 0x45,
  kJsetX = 0x4d,
  kRetK = 0x06,
  kRetA = 0x16,
  kTax = 0x07,
  kTxa = 0x87,
};

// Absolute loads at SKF_AD_OFF + SKF_AD_* read kernel-provided values instead of the packet.
inline constexpr std::uint32_t kExtensionBase = 0xfffff000;
enum Extension : std::uint32_t {
  kExtProtocol = 0,
  kExtPktType = 4,
  kExtIfIndex = 8,
  kExtNlAttr = 12,
  kExtNlAttrNest = 16,
  kExtMark = 20,
  kExtQueue = 24,
  kExtHaType = 28,
  kExtRxHash = 32,
  kExtCpu = 36,
  kExtAluXorX = 40,
  kExtVlanTag = 44,
  kExtVlanTagPresent = 48,
  kExtPayOffset = 52,
  kExtRandom = 56,
  kExtVlanTpid = 60,
};
// The kernel computes packet offsets as int: from here on they are negative. Negative offsets
// from SKF_LL_OFF up address the link-layer header area, from SKF_NET_OFF up the network header
// area (Context::link_header, network_header); other negative offsets fail.
inline constexpr std::uint32_t kNegativeOffset = 0x80000000;
inline constexpr std::uint32_t kLinkHeaderBase = 0xffe00000;     // SKF_LL_OFF
inline constexpr std::uint32_t kNetworkHeaderBase = 0xfff00000;  // SKF_NET_OFF

inline bool is_jump(std::uint16_t op) {
  return (op & 0x07) == 0x05;
}
inline bool is_return(std::uint16_t op) {
  return (op & 0x07) == 0x06;
}
inline bool is_absolute_load(std::uint16_t op) {
  return op == kLdWAbs || op == kLdHAbs || op == kLdBAbs;
}
inline bool is_indirect_load(std::uint16_t op) {
  return op == kLdWInd || op == kLdHInd || op == kLdBInd;
}
inline bool is_extension(const RawInstruction& in) {
  return is_absolute_load(in.op) && in.k >= kExtensionBase;
}
// Bytes read by a packet load.
inline std::uint32_t load_size(std::uint16_t op) {
  return (op & 0x18) == 0x00 ? 4 : (op & 0x18) == 0x08 ? 2 : 1;
}
// An absolute load (or ldx msh) at a constant offset in a header area.
inline bool is_header_load(const RawInstruction& in) {
  return (is_absolute_load(in.op) || in.op == kLdxMsh) && in.k >= kLinkHeaderBase &&
         in.k < kExtensionBase;
}
// Extensions computed by a function call rather than read from the Context.
inline bool calls_helper(const RawInstruction& in) {
  if (!is_extension(in)) return false;
  const std::uint32_t ext = in.k - kExtensionBase;
  return ext == kExtNlAttr || ext == kExtNlAttrNest || ext == kExtRandom;
}

struct ProgramFacts {
  enum Flag : std::uint8_t {
    kLiveA = 1,       // A is read before being written on some path from here
    kLiveX = 2,       // the same for X
    kJumpTarget = 4,  // some jump lands here (not only the previous instruction's fall-through)
  };
  // On entry to each instruction, a packet length that every path to it has proven by absolute
  // loads that did not fail (0 for unreachable instructions). The code generator reuses the
  // slots for code positions once it has read them.
  std::array<std::uint32_t, kMaxInstructions> proven_len;
  std::array<std::uint8_t, kMaxInstructions> flags;
  bool calls = false;    // some extension calls a helper
  bool scratch = false;  // M[] is used
  bool context = false;  // something reads the Context (extensions, header areas)
  bool device = false;   // ifindex or hatype (which need Context::has_device)
  // Loads of 2 or 4 bytes at offsets only known at run time or in header areas, whose bounds
  // checks compare with len - 2 or len - 4.
  bool half_checks = false;
  bool word_checks = false;
  std::uint32_t indirect_loads = 0;  // `ld{,h,b} [x + k]` instructions
};

// Fills `facts` for `program`; fails (EINVAL) only on a structure the generator could not
// translate safely (jumps out of range, scratch index >= 16, no final return), which the
// validator rejects anyway.
Result<void> analyse(std::span<const RawInstruction> program, ProgramFacts& facts);

}  // namespace ninep::bpf::jit
