// Typed classic BPF instructions: the closed set a program is made of, each convertible to and
// from its raw form (see assemble.h) and printable in bpf_asm syntax.
//
// The set mirrors Go's golang.org/x/net/bpf so that programs read the same in both, with two
// corrections: `ldx len` (opcode 0x81, X = packet length) is LoadExtension{Len, X} rather than a
// load into A, and every kernel extension (SKF_AD_*) has a name.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "bpf/raw.h"

namespace ninep::bpf {

enum class Register : std::uint8_t { A = 0, X = 1 };

// Values are the opcode's operation bits, so op | class | source is the raw opcode.
enum class ALUOp : std::uint16_t {
  Add = 0x00,
  Sub = 0x10,
  Mul = 0x20,
  Div = 0x30,
  Or = 0x40,
  And = 0x50,
  Lsh = 0x60,
  Rsh = 0x70,
  Mod = 0x90,
  Xor = 0xa0,
};

// Conditions of JumpIf/JumpIfX. The machine has only ==, >, >= and bits-set; the others are
// encoded by swapping the true and false targets.
enum class JumpTest : std::uint8_t {
  Equal,           // A == operand
  NotEqual,        // A != operand
  GreaterThan,     // A > operand (unsigned)
  LessThan,        // A < operand
  GreaterOrEqual,  // A >= operand
  LessOrEqual,     // A <= operand
  BitsSet,         // (A & operand) != 0
  BitsNotSet,      // (A & operand) == 0
};

// Values the kernel supplies instead of packet bytes. Except for Len (its own opcode), each value
// is the SKF_AD_* offset, loaded by `ld [SKF_AD_OFF + value]`.
enum class Extension : std::uint32_t {
  Protocol = 0,                 // proto: the packet's ethertype (skb->protocol, host order)
  PacketType = 4,               // type: PACKET_HOST, PACKET_BROADCAST, ...
  InterfaceIndex = 8,           // ifidx
  NetlinkAttribute = 12,        // nla: offset of the netlink attribute of type X at offset A, or 0
  NetlinkAttributeNested = 16,  // nlan: the same inside the attribute at offset A
  Mark = 20,                    // mark
  Queue = 24,                   // queue: the queue mapping
  LinkLayerType = 28,           // hatype: ARPHRD_* of the device
  RxHash = 32,                  // rxhash
  CpuId = 36,                   // cpu: the CPU running the filter
  AluXorX = 40,                 // xor_x: not a load: A ^= X
  VlanTag = 44,                 // vlan_tci
  VlanTagPresent = 48,          // vlan_avail (also spelled vlan_pr)
  PayloadOffset = 52,           // poff: offset of the transport payload
  Random = 56,                  // rand: a random 32-bit number
  VlanProtocol = 60,            // vlan_tpid
  Len = 1,  // len: the packet length (ld len / ldx len; not an ancillary offset)
};

// A = val or X = val.
struct LoadConstant {
  Register dst = Register::A;
  std::uint32_t val = 0;
  friend bool operator==(const LoadConstant&, const LoadConstant&) = default;
};
// A = M[n] or X = M[n].
struct LoadScratch {
  Register dst = Register::A;
  std::uint32_t n = 0;
  friend bool operator==(const LoadScratch&, const LoadScratch&) = default;
};
// A = packet[off .. off+size) big-endian; size is 1, 2 or 4.
struct LoadAbsolute {
  std::uint32_t off = 0;
  std::uint32_t size = 4;
  friend bool operator==(const LoadAbsolute&, const LoadAbsolute&) = default;
};
// A = packet[X+off .. X+off+size) big-endian (X + off wraps modulo 2^32).
struct LoadIndirect {
  std::uint32_t off = 0;
  std::uint32_t size = 4;
  friend bool operator==(const LoadIndirect&, const LoadIndirect&) = default;
};
// X = 4 * (packet[off] & 0xf): the IPv4 header length idiom.
struct LoadMemShift {
  std::uint32_t off = 0;
  friend bool operator==(const LoadMemShift&, const LoadMemShift&) = default;
};
// A = extension value; dst may be X only for Len (`ldx len`).
struct LoadExtension {
  Extension ext = Extension::Len;
  Register dst = Register::A;
  friend bool operator==(const LoadExtension&, const LoadExtension&) = default;
};
// M[n] = A or M[n] = X.
struct StoreScratch {
  Register src = Register::A;
  std::uint32_t n = 0;
  friend bool operator==(const StoreScratch&, const StoreScratch&) = default;
};
// A = A op val.
struct ALUOpConstant {
  ALUOp op = ALUOp::Add;
  std::uint32_t val = 0;
  friend bool operator==(const ALUOpConstant&, const ALUOpConstant&) = default;
};
// A = A op X.
struct ALUOpX {
  ALUOp op = ALUOp::Add;
  friend bool operator==(const ALUOpX&, const ALUOpX&) = default;
};
// A = -A.
struct NegateA {
  friend bool operator==(const NegateA&, const NegateA&) = default;
};
// Skip `skip` instructions.
struct Jump {
  std::uint32_t skip = 0;
  friend bool operator==(const Jump&, const Jump&) = default;
};
// Skip skip_true instructions if `A cond val`, else skip_false.
struct JumpIf {
  JumpTest cond = JumpTest::Equal;
  std::uint32_t val = 0;
  std::uint8_t skip_true = 0;
  std::uint8_t skip_false = 0;
  friend bool operator==(const JumpIf&, const JumpIf&) = default;
};
// Skip skip_true instructions if `A cond X`, else skip_false.
struct JumpIfX {
  JumpTest cond = JumpTest::Equal;
  std::uint8_t skip_true = 0;
  std::uint8_t skip_false = 0;
  friend bool operator==(const JumpIfX&, const JumpIfX&) = default;
};
// End with verdict A.
struct RetA {
  friend bool operator==(const RetA&, const RetA&) = default;
};
// End with verdict val.
struct RetConstant {
  std::uint32_t val = 0;
  friend bool operator==(const RetConstant&, const RetConstant&) = default;
};
// A = X.
struct TXA {
  friend bool operator==(const TXA&, const TXA&) = default;
};
// X = A.
struct TAX {
  friend bool operator==(const TAX&, const TAX&) = default;
};

using Instruction =
    std::variant<LoadConstant, LoadScratch, LoadAbsolute, LoadIndirect, LoadMemShift, LoadExtension,
                 StoreScratch, ALUOpConstant, ALUOpX, NegateA, Jump, JumpIf, JumpIfX, RetA,
                 RetConstant, TXA, TAX, RawInstruction>;

// The instruction in assembler syntax, e.g. `ldh [x + 14]`, `jeq #0x806,1,0`, `ld rand`. Jumps
// show their skip counts (labels need a whole program: see text.h); a RawInstruction prints as
// `raw 0x28,0,0,12`, which the assembler reads back. A typed instruction with an invalid field
// (one assemble() rejects) prints as `invalid: <reason>`.
std::string to_string(const Instruction& instruction);

// Names of extensions and operations as the assembler spells them ("proto", "add", ...), or
// nullptr for a value outside the enumeration.
const char* extension_name(Extension ext);
const char* alu_op_name(ALUOp op);

}  // namespace ninep::bpf
