// What the JIT knows about a validated classic BPF program before generating code: its opcodes,
// and per-instruction facts found by two linear passes (jumps only go forwards, so one pass in
// each direction reaches a fixed point).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "bpf/instruction.h"
#include "bpf/opcodes.h"
#include "bpf/raw.h"
#include "common/error.h"

namespace ninep::bpf::jit {

// Classic BPF opcodes the kernel accepts (see mnemonics.h), by the names the code generator uses.
enum Opcode : std::uint16_t {
  kLdImm = op::kLd | op::kImm,
  kLdWAbs = op::kLd | op::kW | op::kAbs,
  kLdHAbs = op::kLd | op::kH | op::kAbs,
  kLdBAbs = op::kLd | op::kB | op::kAbs,
  kLdWInd = op::kLd | op::kW | op::kInd,
  kLdHInd = op::kLd | op::kH | op::kInd,
  kLdBInd = op::kLd | op::kB | op::kInd,
  kLdMem = op::kLd | op::kMem,
  kLdLen = op::kLd | op::kW | op::kLen,
  kLdxImm = op::kLdx | op::kImm,
  kLdxMem = op::kLdx | op::kMem,
  kLdxLen = op::kLdx | op::kW | op::kLen,
  kLdxMsh = op::kLdx | op::kB | op::kMsh,
  kSt = op::kSt,
  kStx = op::kStx,
  kAddK = op::kAlu | op::kAdd | op::kK,
  kAddX = op::kAlu | op::kAdd | op::kX,
  kSubK = op::kAlu | op::kSub | op::kK,
  kSubX = op::kAlu | op::kSub | op::kX,
  kMulK = op::kAlu | op::kMul | op::kK,
  kMulX = op::kAlu | op::kMul | op::kX,
  kDivK = op::kAlu | op::kDiv | op::kK,
  kDivX = op::kAlu | op::kDiv | op::kX,
  kOrK = op::kAlu | op::kOr | op::kK,
  kOrX = op::kAlu | op::kOr | op::kX,
  kAndK = op::kAlu | op::kAnd | op::kK,
  kAndX = op::kAlu | op::kAnd | op::kX,
  kLshK = op::kAlu | op::kLsh | op::kK,
  kLshX = op::kAlu | op::kLsh | op::kX,
  kRshK = op::kAlu | op::kRsh | op::kK,
  kRshX = op::kAlu | op::kRsh | op::kX,
  kNeg = op::kAlu | op::kNeg,
  kModK = op::kAlu | op::kMod | op::kK,
  kModX = op::kAlu | op::kMod | op::kX,
  kXorK = op::kAlu | op::kXor | op::kK,
  kXorX = op::kAlu | op::kXor | op::kX,
  kJa = op::kJmp | op::kJa,
  kJeqK = op::kJmp | op::kJeq | op::kK,
  kJeqX = op::kJmp | op::kJeq | op::kX,
  kJgtK = op::kJmp | op::kJgt | op::kK,
  kJgtX = op::kJmp | op::kJgt | op::kX,
  kJgeK = op::kJmp | op::kJge | op::kK,
  kJgeX = op::kJmp | op::kJge | op::kX,
  kJsetK = op::kJmp | op::kJset | op::kK,
  kJsetX = op::kJmp | op::kJset | op::kX,
  kRetK = op::kRet | op::kK,
  kRetA = op::kRet | op::kA,
  kTax = op::kMisc | op::kTax,
  kTxa = op::kMisc | op::kTxa,
};

// Absolute loads at SKF_AD_OFF + SKF_AD_* read kernel-provided values instead of the packet.
inline constexpr std::uint32_t kExtensionBase = op::kAncillaryBase;
constexpr std::uint32_t offset_of(bpf::Extension ext) {
  return static_cast<std::uint32_t>(ext);
}
enum Extension : std::uint32_t {
  kExtProtocol = offset_of(bpf::Extension::Protocol),
  kExtPktType = offset_of(bpf::Extension::PacketType),
  kExtIfIndex = offset_of(bpf::Extension::InterfaceIndex),
  kExtNlAttr = offset_of(bpf::Extension::NetlinkAttribute),
  kExtNlAttrNest = offset_of(bpf::Extension::NetlinkAttributeNested),
  kExtMark = offset_of(bpf::Extension::Mark),
  kExtQueue = offset_of(bpf::Extension::Queue),
  kExtHaType = offset_of(bpf::Extension::LinkLayerType),
  kExtRxHash = offset_of(bpf::Extension::RxHash),
  kExtCpu = offset_of(bpf::Extension::CpuId),
  kExtAluXorX = offset_of(bpf::Extension::AluXorX),
  kExtVlanTag = offset_of(bpf::Extension::VlanTag),
  kExtVlanTagPresent = offset_of(bpf::Extension::VlanTagPresent),
  kExtPayOffset = offset_of(bpf::Extension::PayloadOffset),
  kExtRandom = offset_of(bpf::Extension::Random),
  kExtVlanTpid = offset_of(bpf::Extension::VlanProtocol),
};
// The kernel computes packet offsets as int: from here on they are negative. Negative offsets
// from SKF_LL_OFF up address the link-layer header area, from SKF_NET_OFF up the network header
// area (Context::link_header, network_header); other negative offsets fail.
inline constexpr std::uint32_t kNegativeOffset = 0x80000000;
inline constexpr std::uint32_t kLinkHeaderBase = op::kLinkBase;        // SKF_LL_OFF
inline constexpr std::uint32_t kNetworkHeaderBase = op::kNetworkBase;  // SKF_NET_OFF

inline bool is_jump(std::uint16_t code) {
  return op::cls(code) == op::kJmp;
}
inline bool is_return(std::uint16_t code) {
  return op::cls(code) == op::kRet;
}
inline bool is_absolute_load(std::uint16_t code) {
  return code == kLdWAbs || code == kLdHAbs || code == kLdBAbs;
}
inline bool is_indirect_load(std::uint16_t code) {
  return code == kLdWInd || code == kLdHInd || code == kLdBInd;
}
inline bool is_extension(const RawInstruction& in) {
  return is_absolute_load(in.op) && in.k >= kExtensionBase;
}
// Bytes read by a packet load.
inline std::uint32_t load_size(std::uint16_t code) {
  return op::size_bytes(op::size(code));
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
