// The names of classic BPF: every opcode the kernel accepts with its mnemonic and operand form,
// the ALU operations, the jump conditions (with bpf_asm's negated spellings and the typed
// JumpTest of each) and the extensions. The one table the parsers, printers, assembler and
// validator read; internal to bpf/.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "bpf/instruction.h"
#include "bpf/opcodes.h"

namespace ninep::bpf::mnemonic {

// How an instruction's operand is written (libpcap's listing form in brackets).
enum class Operand : std::uint8_t {
  None,      // neg, tax, txa
  A,         // ret a [ret]
  X,         // add x, jeq x
  Constant,  // #k
  Absolute,  // [k], or an extension name
  Indirect,  // [x + k]
  Scratch,   // M[k]
  Length,    // len [#pktlen]
  MemShift,  // 4*([k]&0xf)
  Skip,      // ja's offset [its absolute target]
};

struct Opcode {
  std::uint16_t code = 0;
  std::string_view name;  // libpcap's mnemonic (tcpdump -d), which bpf_asm reads too
  Operand operand = Operand::None;
  bool hex = false;  // libpcap prints the constant in hex (loads, bit masks, comparisons)
};

struct AluOperation {
  std::uint16_t op;  // the operation bits (op::kAdd, ...)
  std::string_view name;
  bool hex;  // bitwise: the operand reads best in hex
};
inline constexpr AluOperation kAluOperations[] = {
    {op::kAdd, "add", false}, {op::kSub, "sub", false}, {op::kMul, "mul", false},
    {op::kDiv, "div", false}, {op::kOr, "or", true},    {op::kAnd, "and", true},
    {op::kLsh, "lsh", false}, {op::kRsh, "rsh", false}, {op::kMod, "mod", false},
    {op::kXor, "xor", true}};

// A machine condition; bpf_asm spells "jump if it does not hold" with `negated` (none for jset:
// the typed form swaps the targets instead).
struct Condition {
  std::uint16_t op;  // the operation bits (op::kJeq, ...)
  std::string_view name;
  std::string_view negated;
  std::string_view negated_alias;  // bpf_asm's second spelling
  JumpTest test;
  JumpTest negated_test;
};
inline constexpr Condition kConditions[] = {
    {op::kJeq, "jeq", "jneq", "jne", JumpTest::Equal, JumpTest::NotEqual},
    {op::kJgt, "jgt", "jle", "", JumpTest::GreaterThan, JumpTest::LessOrEqual},
    {op::kJge, "jge", "jlt", "", JumpTest::GreaterOrEqual, JumpTest::LessThan},
    {op::kJset, "jset", "", "", JumpTest::BitsSet, JumpTest::BitsNotSet}};

// The ancillary loads (every Extension but Len).
struct ExtensionName {
  Extension ext;
  std::string_view name;     // bpf_asm's
  std::string_view libpcap;  // tcpdump -d's
  std::string_view alias;    // bpf_asm's second spelling
};
inline constexpr ExtensionName kExtensions[] = {
    {Extension::Protocol, "proto", "proto", ""},
    {Extension::PacketType, "type", "type", ""},
    {Extension::InterfaceIndex, "ifidx", "ifidx", ""},
    {Extension::NetlinkAttribute, "nla", "nla", ""},
    {Extension::NetlinkAttributeNested, "nlan", "nlan", ""},
    {Extension::Mark, "mark", "mark", ""},
    {Extension::Queue, "queue", "queue", ""},
    {Extension::LinkLayerType, "hatype", "hatype", ""},
    {Extension::RxHash, "rxhash", "rxhash", ""},
    {Extension::CpuId, "cpu", "cpu", ""},
    {Extension::AluXorX, "xor_x", "xor_x", ""},
    {Extension::VlanTag, "vlan_tci", "vlan_tci", ""},
    {Extension::VlanTagPresent, "vlan_avail", "vlanp", "vlan_pr"},
    {Extension::PayloadOffset, "poff", "poff", ""},
    {Extension::Random, "rand", "random", ""},
    {Extension::VlanProtocol, "vlan_tpid", "vlan_tpid", ""}};

namespace detail {
constexpr auto make_opcodes() {
  using namespace op;
  std::array<Opcode, 49> t{};
  std::size_t n = 0;
  auto add = [&](std::uint16_t code, std::string_view name, Operand operand, bool hex = false) {
    t[n++] = Opcode{code, name, operand, hex};
  };
  add(kLd | kImm, "ld", Operand::Constant, true);
  add(kLdx | kImm, "ldx", Operand::Constant, true);
  add(kLd | kW | kAbs, "ld", Operand::Absolute);
  add(kLd | kH | kAbs, "ldh", Operand::Absolute);
  add(kLd | kB | kAbs, "ldb", Operand::Absolute);
  add(kLd | kW | kInd, "ld", Operand::Indirect);
  add(kLd | kH | kInd, "ldh", Operand::Indirect);
  add(kLd | kB | kInd, "ldb", Operand::Indirect);
  add(kLd | kMem, "ld", Operand::Scratch);
  add(kLdx | kMem, "ldx", Operand::Scratch);
  add(kLd | kW | kLen, "ld", Operand::Length);
  add(kLdx | kW | kLen, "ldx", Operand::Length);
  add(kLdx | kB | kMsh, "ldxb", Operand::MemShift);
  add(kSt, "st", Operand::Scratch);
  add(kStx, "stx", Operand::Scratch);
  for (const AluOperation& a : kAluOperations) {
    add(kAlu | a.op | kK, a.name, Operand::Constant, a.hex);
    add(kAlu | a.op | kX, a.name, Operand::X);
  }
  add(kAlu | kNeg, "neg", Operand::None);
  add(kJmp | kJa, "ja", Operand::Skip);
  for (const Condition& c : kConditions) {
    add(kJmp | c.op | kK, c.name, Operand::Constant, true);
    add(kJmp | c.op | kX, c.name, Operand::X);
  }
  add(kRet | kK, "ret", Operand::Constant);
  add(kRet | kA, "ret", Operand::A);
  add(kMisc | kTax, "tax", Operand::None);
  add(kMisc | kTxa, "txa", Operand::None);
  if (n != t.size()) throw "kOpcodes: wrong size";  // a compile error in a constant expression
  return t;
}
}  // namespace detail

// Every opcode the kernel accepts (linux/filter.h's sk_chk_filter list), nothing else.
inline constexpr std::array<Opcode, 49> kOpcodes = detail::make_opcodes();

// Lookups; nullptr when there is none. Names compare caselessly.
const Opcode* opcode(std::uint16_t code);
const Opcode* find_opcode(std::string_view name, Operand operand);
bool is_opcode_name(std::string_view name);
const AluOperation* alu_operation(std::uint16_t op_bits);
const AluOperation* find_alu_operation(std::string_view name);
const Condition* condition(std::uint16_t op_bits);
// The condition spelled `name`; `negated` says whether it was its negated spelling.
const Condition* find_condition(std::string_view name, bool& negated);
// The condition of `test`; `negated` says whether `test` is its negated_test.
const Condition* condition_of(JumpTest test, bool& negated);
const ExtensionName* extension(Extension ext);
// By bpf_asm's name or alias.
const ExtensionName* find_extension(std::string_view name);
const ExtensionName* find_libpcap_extension(std::string_view name);

// ld, ldh or ldb for the size bits op::kW, kH, kB.
std::string_view load_name(std::uint16_t size_bits);
// Whether the opcode is a jump with true and false targets.
constexpr bool is_conditional(std::uint16_t code) {
  return op::cls(code) == op::kJmp && op::alu_op(code) != op::kJa;
}

}  // namespace ninep::bpf::mnemonic
