// The fields of a classic BPF opcode and the kernel's ancillary-data offsets (linux/filter.h and
// linux/bpf_common.h), spelled out here so that bpf/ needs no kernel headers.
#pragma once

#include <cstdint>

namespace ninep::bpf::op {

// Instruction class: the low 3 bits.
inline constexpr std::uint16_t kLd = 0x00;
inline constexpr std::uint16_t kLdx = 0x01;
inline constexpr std::uint16_t kSt = 0x02;
inline constexpr std::uint16_t kStx = 0x03;
inline constexpr std::uint16_t kAlu = 0x04;
inline constexpr std::uint16_t kJmp = 0x05;
inline constexpr std::uint16_t kRet = 0x06;
inline constexpr std::uint16_t kMisc = 0x07;

// Load size (bits 3-4).
inline constexpr std::uint16_t kW = 0x00;
inline constexpr std::uint16_t kH = 0x08;
inline constexpr std::uint16_t kB = 0x10;

// Load mode (bits 5-7).
inline constexpr std::uint16_t kImm = 0x00;
inline constexpr std::uint16_t kAbs = 0x20;
inline constexpr std::uint16_t kInd = 0x40;
inline constexpr std::uint16_t kMem = 0x60;
inline constexpr std::uint16_t kLen = 0x80;
inline constexpr std::uint16_t kMsh = 0xa0;

// ALU and jump operation (bits 4-7).
inline constexpr std::uint16_t kAdd = 0x00;
inline constexpr std::uint16_t kSub = 0x10;
inline constexpr std::uint16_t kMul = 0x20;
inline constexpr std::uint16_t kDiv = 0x30;
inline constexpr std::uint16_t kOr = 0x40;
inline constexpr std::uint16_t kAnd = 0x50;
inline constexpr std::uint16_t kLsh = 0x60;
inline constexpr std::uint16_t kRsh = 0x70;
inline constexpr std::uint16_t kNeg = 0x80;
inline constexpr std::uint16_t kMod = 0x90;
inline constexpr std::uint16_t kXor = 0xa0;

inline constexpr std::uint16_t kJa = 0x00;
inline constexpr std::uint16_t kJeq = 0x10;
inline constexpr std::uint16_t kJgt = 0x20;
inline constexpr std::uint16_t kJge = 0x30;
inline constexpr std::uint16_t kJset = 0x40;

// Operand source (bit 3) for ALU and jumps; return value source (bits 3-4) for ret.
inline constexpr std::uint16_t kK = 0x00;
inline constexpr std::uint16_t kX = 0x08;
inline constexpr std::uint16_t kA = 0x10;

// Misc operation (bits 3-7).
inline constexpr std::uint16_t kTax = 0x00;
inline constexpr std::uint16_t kTxa = 0x80;

constexpr std::uint16_t cls(std::uint16_t code) {
  return code & 0x07;
}
constexpr std::uint16_t size(std::uint16_t code) {
  return code & 0x18;
}
constexpr std::uint16_t mode(std::uint16_t code) {
  return code & 0xe0;
}
constexpr std::uint16_t alu_op(std::uint16_t code) {
  return code & 0xf0;
}
constexpr std::uint16_t src(std::uint16_t code) {
  return code & 0x08;
}
constexpr std::uint16_t rval(std::uint16_t code) {
  return code & 0x18;
}  // ret: kK, kX or kA

// The bytes a load of size `size_bits` reads.
constexpr std::uint32_t size_bytes(std::uint16_t size_bits) {
  return size_bits == kW ? 4 : size_bits == kH ? 2 : 1;
}

// Ancillary data ("extensions"): an absolute load at kAncillaryBase + offset reads a value the
// kernel supplies instead of packet bytes (SKF_AD_OFF + SKF_AD_*).
inline constexpr std::uint32_t kAncillaryBase = 0xfffff000;  // SKF_AD_OFF (-0x1000)
inline constexpr std::uint32_t kNetworkBase = 0xfff00000;    // SKF_NET_OFF (-0x100000)
inline constexpr std::uint32_t kLinkBase = 0xffe00000;       // SKF_LL_OFF (-0x200000)

}  // namespace ninep::bpf::op
