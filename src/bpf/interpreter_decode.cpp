// Pre-decoding a validated program into the interpreter's ops (see interpreter_ops.h).
#include <algorithm>
#include <bit>
#include <cstddef>
#include <limits>
#include <vector>

#include "bpf/instruction.h"
#include "bpf/interpreter.h"
#include "bpf/interpreter_ops.h"
#include "bpf/opcodes.h"

namespace ninep::bpf::interpreter {
namespace {

using namespace op;

// Offsets a load can reach in the packet: Vm::run presents at most 2^31 - 1 bytes. Offsets that
// are negative as signed 32-bit numbers go to the header areas (from SKF_LL_OFF up) or fail.
constexpr std::uint64_t kMaxLength = std::numeric_limits<std::int32_t>::max();

// Whether an absolute load at `k` of `bytes` bytes can ever succeed.
bool reachable(std::uint32_t k, std::uint32_t bytes) {
  return k + std::uint64_t{bytes} <= kMaxLength || k >= kLinkBase;
}

struct Decoded {
  Kind kind = Kind::RET_K;
  std::uint32_t k = 0;
  std::uint32_t val = 0;
  std::size_t jt = 0;
  std::size_t jf = 0;
};

class DecodedProgram final : public engine::Compiled {
 public:
  std::vector<Op> ops;
};

Kind load_kind(std::uint16_t code) {
  static constexpr Kind kAbs[] = {Kind::LD_W_ABS, Kind::LD_H_ABS, Kind::LD_B_ABS};
  static constexpr Kind kInd[] = {Kind::LD_W_IND, Kind::LD_H_IND, Kind::LD_B_IND};
  const std::size_t width = size(code) >> 3;  // W=0, H=1, B=2
  return mode(code) == op::kAbs ? kAbs[width] : kInd[width];
}

Decoded extension(std::uint32_t offset) {
  switch (static_cast<Extension>(offset)) {
    case Extension::Protocol:
      return {Kind::LD_PROTO};
    case Extension::PacketType:
      return {Kind::LD_CTX32, offsetof(Context, pkt_type)};
    case Extension::InterfaceIndex:
      return {Kind::LD_DEVICE32, offsetof(Context, ifindex)};
    case Extension::LinkLayerType:
      return {Kind::LD_DEVICE32, offsetof(Context, hatype)};
    case Extension::NetlinkAttribute:
      return {Kind::LD_NLA};
    case Extension::NetlinkAttributeNested:
      return {Kind::LD_NLAN};
    case Extension::Mark:
      return {Kind::LD_CTX32, offsetof(Context, mark)};
    case Extension::Queue:
      return {Kind::LD_CTX32, offsetof(Context, queue)};
    case Extension::RxHash:
      return {Kind::LD_CTX32, offsetof(Context, rxhash)};
    case Extension::CpuId:
      return {Kind::LD_CTX32, offsetof(Context, cpu)};
    case Extension::AluXorX:
      return {Kind::XOR_X};
    case Extension::VlanTag:
      return {Kind::LD_CTX32, offsetof(Context, vlan_tci)};
    case Extension::VlanTagPresent:
      return {Kind::LD_CTX32, offsetof(Context, vlan_present)};
    case Extension::PayloadOffset:
      return {Kind::LD_CTX32, offsetof(Context, payload_offset)};
    case Extension::Random:
      return {Kind::LD_RAND};
    case Extension::VlanProtocol:
      return {Kind::LD_CTX32, offsetof(Context, vlan_tpid)};
    case Extension::Len:
      break;
  }
  return {Kind::RET_K, 0};  // unreachable for a validated program
}

Decoded alu(std::uint16_t code, std::uint32_t k) {
  const bool x = src(code) == op::kX;
  switch (alu_op(code)) {
    case kAdd:
      return x ? Decoded{Kind::ADD_X} : Decoded{Kind::ADD_K, k};
    case kSub:
      return x ? Decoded{Kind::SUB_X} : Decoded{Kind::ADD_K, 0u - k};
    case kMul:
      if (x) return {Kind::MUL_X};
      if (std::has_single_bit(k))
        return {Kind::LSH_K, static_cast<std::uint32_t>(std::countr_zero(k))};
      return {Kind::MUL_K, k};
    case kDiv:
      if (x) return {Kind::DIV_X};
      if (std::has_single_bit(k))
        return {Kind::RSH_K, static_cast<std::uint32_t>(std::countr_zero(k))};
      return {Kind::DIV_K, k};
    case kMod:
      if (x) return {Kind::MOD_X};
      if (std::has_single_bit(k)) return {Kind::AND_K, k - 1};
      return {Kind::MOD_K, k};
    case kAnd:
      return x ? Decoded{Kind::AND_X} : Decoded{Kind::AND_K, k};
    case kOr:
      return x ? Decoded{Kind::OR_X} : Decoded{Kind::OR_K, k};
    case kXor:
      return x ? Decoded{Kind::XOR_X} : Decoded{Kind::XOR_K, k};
    case kLsh:
      return x ? Decoded{Kind::LSH_X} : Decoded{Kind::LSH_K, k};
    case kRsh:
      return x ? Decoded{Kind::RSH_X} : Decoded{Kind::RSH_K, k};
    case kNeg:
      return {Kind::NEG};
  }
  return {Kind::RET_K, 0};
}

Kind jump_kind(std::uint16_t code) {
  const bool x = src(code) == op::kX;
  switch (alu_op(code)) {
    case kJeq:
      return x ? Kind::JEQ_X : Kind::JEQ_K;
    case kJgt:
      return x ? Kind::JGT_X : Kind::JGT_K;
    case kJge:
      return x ? Kind::JGE_X : Kind::JGE_K;
    default:
      return x ? Kind::JSET_X : Kind::JSET_K;
  }
}

// The op for instruction `i`, with jump targets as absolute indexes.
Decoded decode(const RawInstruction& in, std::size_t i) {
  const std::uint16_t code = in.op;
  switch (cls(code)) {
    case op::kLd:
      switch (mode(code)) {
        case op::kImm:
          return {Kind::LD_IMM, in.k};
        case op::kMem:
          return {Kind::LD_MEM, in.k};
        case op::kLen:
          return {Kind::LD_LEN};
        case op::kAbs:
          if (in.k >= kAncillaryBase) return extension(in.k - kAncillaryBase);
          // A load that can never be in bounds is a `ret #0`.
          if (!reachable(in.k, size_bytes(size(code)))) return {Kind::RET_K, 0};
          return {load_kind(code), in.k};
        default:  // kInd
          return {load_kind(code), in.k};
      }
    case op::kLdx:
      switch (mode(code)) {
        case op::kImm:
          return {Kind::LDX_IMM, in.k};
        case op::kMem:
          return {Kind::LDX_MEM, in.k};
        case op::kLen:
          return {Kind::LDX_LEN};
        default:  // kMsh
          if (!reachable(in.k, 1)) return {Kind::RET_K, 0};
          return {Kind::LDX_MSH, in.k};
      }
    case op::kSt:
      return {Kind::ST, in.k};
    case op::kStx:
      return {Kind::STX, in.k};
    case op::kAlu:
      return alu(code, in.k);
    case op::kJmp:
      if (code == (op::kJmp | op::kJa)) {
        const std::size_t target = i + 1 + in.k;
        return {Kind::JA, 0, 0, target, target};
      }
      if (in.jt == in.jf) return {Kind::JA, 0, 0, i + 1 + in.jt, i + 1 + in.jt};
      return {jump_kind(code), in.k, 0, i + 1 + in.jt, i + 1 + in.jf};
    case op::kRet:
      return rval(code) == op::kA ? Decoded{Kind::RET_A} : Decoded{Kind::RET_K, in.k};
    default:  // kMisc
      return code == (op::kMisc | op::kTax) ? Decoded{Kind::TAX} : Decoded{Kind::TXA};
  }
}

bool packet_load(Kind k) {
  return k >= Kind::LD_W_ABS && k <= Kind::LD_B_IND;
}

constexpr int index(Kind k) {
  return static_cast<int>(k);
}
constexpr Kind kind_at(int i) {
  return static_cast<Kind>(i);
}

// Conditional kinds come in fours (the plain op, then _RT, _RF, _RTF): JEQ/JGT/JGE/JSET on K,
// the same on X, then the fused ones, load by load.
constexpr int kVariants = 4;
bool conditional(Kind k) {
  return k >= Kind::JEQ_K && k < Kind::Count;
}
bool constant_jump(Kind k) {
  return k == Kind::JEQ_K || k == Kind::JGT_K || k == Kind::JGE_K || k == Kind::JSET_K;
}

// The fused op of a packet load followed by a conditional jump on a constant.
Kind fused(Kind load, Kind jump) {
  const int row = index(load) - index(Kind::LD_W_ABS);                // W,H,B abs; W,H,B ind
  const int column = (index(jump) - index(Kind::JEQ_K)) / kVariants;  // JEQ,JGT,JGE,JSET
  return kind_at(index(Kind::LD_W_ABS_JEQ) + (row * 4 + column) * kVariants);
}

static_assert(index(Kind::LD_B_IND) - index(Kind::LD_W_ABS) == 5);
static_assert(index(Kind::JSET_K) - index(Kind::JEQ_K) == 3 * kVariants);
static_assert(index(Kind::JEQ_K_RTF) - index(Kind::JEQ_K) == 3);
static_assert(index(Kind::LD_B_IND_JSET) - index(Kind::LD_W_ABS_JEQ) == 23 * kVariants);
static_assert(index(Kind::LD_B_IND_JSET_RTF) + 1 == index(Kind::Count));

}  // namespace

engine::Program compile(std::span<const RawInstruction> program) {
  const std::size_t n = program.size();
  std::vector<Decoded> decoded(n);
  for (std::size_t i = 0; i < n; ++i) decoded[i] = decode(program[i], i);

  // Thread jumps through unconditional jumps; jumps only go forwards, so a backwards pass sees
  // every target already resolved.
  for (std::size_t i = n; i-- > 0;) {
    Decoded& d = decoded[i];
    if (d.kind == Kind::JA || conditional(d.kind)) {
      if (decoded[d.jt].kind == Kind::JA) d.jt = decoded[d.jt].jt;
      if (decoded[d.jf].kind == Kind::JA) d.jf = decoded[d.jf].jt;
    }
  }
  // An unconditional jump to a `ret #k` is that return.
  for (Decoded& d : decoded)
    if (d.kind == Kind::JA && decoded[d.jt].kind == Kind::RET_K) d = decoded[d.jt];

  auto out = std::make_unique<DecodedProgram>();
  out->ops.resize(n);
  const bool calls = std::any_of(decoded.begin(), decoded.end(), [](const Decoded& d) {
    return d.kind == Kind::LD_RAND || d.kind == Kind::LD_NLA || d.kind == Kind::LD_NLAN;
  });
  const Runner executor = runner(calls);
  const void* const* handler = executor.handlers;
  for (std::size_t i = 0; i < n; ++i) {
    Decoded d = decoded[i];
    if (packet_load(d.kind) && i + 1 < n && constant_jump(decoded[i + 1].kind)) {
      const Decoded& j = decoded[i + 1];
      d = Decoded{fused(d.kind, j.kind), d.k, j.k, j.jt, j.jf};
    }
    std::uint32_t jt = static_cast<std::uint32_t>(d.jt), jf = static_cast<std::uint32_t>(d.jf);
    if (conditional(d.kind)) {
      // Targets that return a constant return it from the jump itself.
      const bool ret_true = decoded[d.jt].kind == Kind::RET_K;
      const bool ret_false = decoded[d.jf].kind == Kind::RET_K;
      if (ret_true) jt = decoded[d.jt].k;
      if (ret_false) jf = decoded[d.jf].k;
      d.kind = kind_at(index(d.kind) + (ret_true ? 1 : 0) + (ret_false ? 2 : 0));
    }
    Op& o = out->ops[i];
    o.handler = handler[static_cast<std::size_t>(d.kind)];
    o.k = d.k;
    o.val = d.val;
    o.jt = jt;
    o.jf = jf;
  }

  engine::Program result;
  result.engine = Engine::Interpreter;
  result.run = executor.run;
  result.state = out->ops.data();
  result.owner = std::move(out);
  return result;
}

}  // namespace ninep::bpf::interpreter
