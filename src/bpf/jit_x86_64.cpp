// The x86-64 code generator for classic BPF.
//
// Register assignment (System V ABI: packet in rdi, length in esi, context in rdx):
//   eax = A (and the return value), ecx = X (so `shl eax, cl` masks shift counts by 31 as the
//   kernel does), rdi = packet, esi = length, r8 = context, r10 = length - 2 and r11 = length - 4
//   (signed 64-bit, for the bounds checks of indirect loads), edx and r9 scratch. The upper
//   halves of rax and rcx are kept zero.
// The scratch words live below the stack pointer (the red zone) when the program makes no call,
// else in a 16-byte aligned frame.
//
// Code is generated in a single pass from the last instruction to the first: jumps only go
// forwards, so every jump target is already placed when its jump is written and the shortest
// encoding (rel8 or rel32) is always known. Each instruction's translation is built forwards into
// a short list and then prepended to the code.
//
// Optimisations, all from the facts of jit_program.h: absolute loads within a packet length that
// every path has already proven need no bounds check; a load whose value only feeds the next
// conditional jump becomes a compare with memory (`cmp word [rdi + 12], 0x0008`); a conditional
// jump between two `ret #k` becomes a conditional move; A and X are only zeroed on entry when a
// path reads them before writing them.
#include "bpf/jit_x86_64.h"

#include <bit>
#include <cstddef>
#include <cstring>
#include <optional>

#include "bpf/context.h"
#include "bpf/jit_program.h"
#include "bpf/jit_x86_64_assembler.h"
#include "bpf/netlink_attribute.h"

namespace ninep::bpf::jit_x86_64 {
namespace {

using namespace ninep::bpf::jit;  // opcodes and program facts

constexpr unsigned kA = kRax;
constexpr unsigned kX = kRcx;
constexpr unsigned kTmp = kRdx;
constexpr unsigned kPacket = kRdi;
constexpr unsigned kLen = kRsi;
constexpr unsigned kCtx = kR8;
constexpr unsigned kTmp2 = kR9;
constexpr unsigned kLenMinus2 = kR10;
constexpr unsigned kLenMinus4 = kR11;

// Frame size when the program calls helpers: 16 scratch words plus 8 bytes keeps rsp 16-aligned.
constexpr std::int32_t kFrameSize = 72;
constexpr std::int32_t kRedZoneScratch = -64;
constexpr std::size_t kMaxFixedBytes = 48;  // prologue and the shared exit

// The out-of-line continuation of each indirect load (see write_header_stub).
constexpr std::size_t kStubSize = 80;

// An upper bound of the bytes translate() produces for `in` (a margin over the longest forms).
std::size_t max_translation_size(const RawInstruction& in) {
  if (calls_helper(in)) return 64;
  if (is_indirect_load(in.op)) return 40 + kStubSize;
  if (is_header_load(in)) return 64;
  return is_jump(in.op) || is_return(in.op) ? 24 : 40;
}

std::uint32_t byte_swapped(std::uint32_t k, std::uint32_t size) {
  if (size == 4) return std::byteswap(k);
  if (size == 2) return std::byteswap(static_cast<std::uint16_t>(k));
  return k;
}

class Generator {
 public:
  Generator(std::span<const RawInstruction> program, std::uint8_t* buffer, std::size_t capacity)
      : program_(program), buffer_(buffer), capacity_(capacity) {}

  Result<std::size_t> run() {
    if (auto ok = analyse(program_, facts_); !ok) return std::unexpected(std::move(ok.error()));
    // The stubs of the indirect loads go last, in an area of known size.
    next_stub_ = facts_.indirect_loads * kStubSize;
    if (next_stub_ > capacity_) return fail(EOVERFLOW, "jit: code bound exceeded");
    emitter_ = Emitter(buffer_, buffer_ + capacity_, next_stub_);
    emit_exits();
    for (std::size_t i = program_.size(); i-- > 0;) {
      Sequence s;
      std::size_t first = i;
      if (i > 0 && can_fuse(i - 1)) {
        first = i - 1;
        translate_fused(first, s);
      } else if (auto ok = translate(i, s); !ok) {
        return std::unexpected(std::move(ok.error()));
      }
      emitter_.emit(s);
      if (s.mark != ~0u) write_header_stub(s.stub_at, s.stub_size, emitter_.marked());
      for (std::size_t j = first; j <= i; ++j) label_[j] = emitter_.pos();
      if (program_[i].op == kRetK && program_[i].k == 0) ret0_ = label_[i];
      i = first;
    }
    emit_prologue();
    if (emitter_.overflowed() || stub_overflow_) {
      return fail(EOVERFLOW, "jit: code bound exceeded");
    }
    return emitter_.pos();
  }

  const std::uint8_t* start() const { return emitter_.start(); }

 private:
  // The shared exits at the very end: `return A` (device fields without a device) and
  // `return 0` (failed loads, division by zero), which a program ending in `ret #0` (as
  // libpcap's do) already has.
  void emit_exits() {
    const RawInstruction& last = program_.back();
    const bool return_0 = last.op != kRetK || last.k != 0;
    if (!return_0 && !facts_.device) return;
    Sequence s;
    add_return(s);
    emitter_.emit(s);
    return_a_ = emitter_.pos();
    if (return_0) {
      s.n = 0;
      s.add(mov_imm(kA, 0));
      emitter_.emit(s);
      ret0_ = emitter_.pos();
    }
  }

  void emit_prologue() {
    Sequence s;
    if (facts_.calls) s.add(alu_imm(kSub, kRsp, kFrameSize, true));
    if (facts_.context) s.add(mov(kCtx, kRdx, true));
    if (facts_.half_checks) {
      s.add(mov(kLenMinus2, kLen));
      s.add(alu_imm(kSub, kLenMinus2, 2, true));
    }
    if (facts_.word_checks) {
      s.add(mov(kLenMinus4, kLen));
      s.add(alu_imm(kSub, kLenMinus4, 4, true));
    }
    if (facts_.flags[0] & ProgramFacts::kLiveA) s.add(mov_imm(kA, 0));
    if (facts_.flags[0] & ProgramFacts::kLiveX) s.add(mov_imm(kX, 0));
    emitter_.emit(s);
  }

  void add_return(Sequence& s) const {
    if (facts_.calls) s.add(alu_imm(kAdd, kRsp, kFrameSize, true));
    s.add(ret());
  }

  Mem scratch(std::uint32_t k) const {
    return {kRsp, -1, (facts_.calls ? 0 : kRedZoneScratch) + static_cast<std::int32_t>(4 * k)};
  }

  // The packet length proven on entry to instruction i; valid until i is emitted, when the slot
  // becomes its label.
  std::uint32_t proven_len(std::size_t i) const { return facts_.proven_len[i]; }

  // Where packet[offset .. offset + size) is, after a bounds check that ends the run with 0 when
  // the bytes are neither all inside the packet nor all inside a header area (see Context).
  std::optional<Mem> add_checked_address(Sequence& s, const RawInstruction& in, std::size_t i) {
    const std::uint32_t size = in.op == kLdxMsh ? 1 : load_size(in.op);
    if (is_indirect_load(in.op)) {
      // offset = (X + k) mod 2^32; an offset past the packet continues in the load's stub,
      // which tries the header areas and resumes at the load (the marked op).
      if (in.k == 0) {
        s.add(mov(kTmp, kX));
      } else {
        s.add(op_mem({0x8d}, kTmp, {kX, -1, static_cast<std::int32_t>(in.k)}));  // lea edx
      }
      s.stub_at = next_stub_;
      s.stub_size = size;
      next_stub_ -= kStubSize;
      if (size == 1) {  // the offset fits in 32 bits here
        s.add(alu_reg(kCmp, kTmp, kLen));
        s.jump(kAboveEqual, s.stub_at);
      } else {
        add_end_check(s, kTmp, size, s.stub_at);
      }
      s.mark_next();
      return Mem{kPacket, kTmp, 0};
    }
    if (is_header_load(in)) {
      const bool network = in.k >= kNetworkHeaderBase;
      const std::uint32_t base = network ? kNetworkHeaderBase : kLinkHeaderBase;
      s.add(op_mem({0x63}, kTmp, header_field(network), true));  // movsxd rdx, header
      s.add(op_reg({0x85}, kTmp, kTmp, true));                   // absent (-1): fail
      s.jump(kSign, ret0_);
      if (in.k != base) s.add(alu_imm(kAdd, kTmp, in.k - base, true));
      add_end_check(s, kTmp, size, ret0_);
      return Mem{kPacket, kTmp, 0};
    }
    if (in.k >= kNegativeOffset) {  // negative, below the header areas: always fails
      s.jump(kAlways, ret0_);
      return std::nullopt;
    }
    const std::uint32_t end = in.k + size;
    if (end > proven_len(i)) {
      s.add(alu_imm(kCmp, kLen, end));
      s.jump(kBelow, ret0_);
    }
    return Mem{kPacket, -1, static_cast<std::int32_t>(in.k)};
  }

  static Mem header_field(bool network) {
    const std::size_t offset =
        network ? offsetof(Context, network_header) : offsetof(Context, link_header);
    return {kCtx, -1, static_cast<std::int32_t>(offset)};
  }

  // Jumps to `fail` unless `size` bytes at the 64-bit offset in `reg` (< 2^33) are inside the
  // packet.
  template <typename Code>
  static void add_end_check(Code& c, unsigned reg, std::uint32_t size, std::uint32_t fail) {
    if (size == 1) {
      c.add(mov(kTmp2, kLen));  // zero-extends the length
      c.add(alu_reg(kCmp, reg, kTmp2, true));
      c.jump(kAboveEqual, fail);  // offset >= len
    } else {
      c.add(alu_reg(kCmp, reg, size == 2 ? kLenMinus2 : kLenMinus4, true));
      c.jump(kGreater, fail);  // offset > len - size (signed 64-bit)
    }
  }

  // The continuation of the indirect load whose fast check failed, at position `at`: offsets
  // from SKF_LL_OFF up address the link-layer header area, from SKF_NET_OFF up the network one
  // (Context::link_header, network_header; -1 when absent); anything else fails. On success it
  // resumes at `back` (the load) with the offset in rdx. A is free: the load replaces it.
  void write_header_stub(std::uint32_t at, std::uint32_t size, std::uint32_t back) {
    FixedCode<kStubSize> c(at);
    c.add(mov(kTmp2, kTmp));                                 // r9d = offset
    c.add(alu_imm(kSub, kTmp2, kLinkHeaderBase));            // r9d = offset - SKF_LL_OFF
    c.add(alu_imm(kCmp, kTmp2, 2 * kAreaSize));              // in neither area:
    c.jump(kAboveEqual, ret0_);                              //   fail
    c.add(op_mem({0x63}, kTmp, header_field(false), true));  // movsxd rdx, link_header
    c.add(op_mem({0x63}, kA, header_field(true), true));     // movsxd rax, network_header
    c.add(alu_imm(kCmp, kTmp2, kAreaSize));
    c.add(op_reg({0x0f, 0x40 | kAboveEqual}, kTmp, kA, true));  // cmovae rdx, rax
    c.add(alu_imm(kAnd, kTmp2, kAreaSize - 1));                 // r9 = offset in the area
    c.add(op_reg({0x85}, kTmp, kTmp, true));                    // the area is absent (-1):
    c.jump(kSign, ret0_);                                       //   fail
    c.add(alu_reg(kAdd, kTmp, kTmp2, true));                    // rdx = where the bytes start
    add_end_check(c, kTmp, size, ret0_);
    c.jump(kAlways, back);
    stub_overflow_ |= c.overflowed();
    emitter_.write_at(at, c.data(), kStubSize);
  }

  // dst = the big-endian value of `size` bytes at m, zero-extended.
  static void add_packet_load(Sequence& s, unsigned dst, std::uint32_t size, Mem m) {
    if (size == 1) {
      s.add(op_mem({0x0f, 0xb6}, dst, m));  // movzx dst, byte
    } else if (size == 2) {
      s.add(op_mem({0x0f, 0xb7}, dst, m));                // movzx dst, word
      s.add(op_reg({0xc1}, 0, dst, false, true).put(8));  // rol dst16, 8
    } else {
      s.add(op_mem({0x8b}, dst, m));
      s.add(opcode_bytes({0x0f, static_cast<std::uint8_t>(0xc8 | (dst & 7))}, false, 0, 0, dst));
    }
  }

  void add_load(Sequence& s, std::size_t i, unsigned dst) {
    const RawInstruction& in = program_[i];
    if (auto m = add_checked_address(s, in, i)) {
      add_packet_load(s, dst, in.op == kLdxMsh ? 1 : load_size(in.op), *m);
    }
  }

  // The two successors of a conditional jump, as instruction indexes.
  std::size_t on_true(std::size_t i) const { return i + 1 + program_[i].jt; }
  std::size_t on_false(std::size_t i) const { return i + 1 + program_[i].jf; }

  // After a compare setting `cond` for "jump i is taken": the jumps, or a conditional move when
  // both successors are `ret #k`.
  void add_branch(Sequence& s, std::size_t i, std::uint8_t cond) {
    const RawInstruction& t = program_[on_true(i)];
    const RawInstruction& f = program_[on_false(i)];
    if (t.op == kRetK && f.op == kRetK) {
      s.add(mov_imm_keep_flags(kA, f.k));
      s.add(mov_imm_keep_flags(kTmp, t.k));
      s.add(op_reg({0x0f, static_cast<std::uint8_t>(0x40 | cond)}, kA, kTmp));  // cmovcc
      add_return(s);
      return;
    }
    const std::uint32_t to_true = label_[on_true(i)];
    const std::uint32_t to_false = label_[on_false(i)];
    const std::uint32_t next = label_[i + 1];
    if (to_false == next) {
      s.jump(cond, to_true);
    } else if (to_true == next) {
      s.jump(invert(cond), to_false);
    } else {
      s.jump(cond, to_true);
      s.jump(kAlways, to_false);
    }
  }

  // A load into A at i whose value only feeds the conditional jump at i + 1 (reached only from
  // i) can compare memory directly: equality and bit tests work on the byte-swapped constant,
  // order comparisons only on single bytes.
  bool can_fuse(std::size_t i) const {
    const RawInstruction& load = program_[i];
    const RawInstruction& jump = program_[i + 1];
    const bool packet_load =
        (is_absolute_load(load.op) && load.k < kNegativeOffset) || is_indirect_load(load.op);
    if (!packet_load || (facts_.flags[i + 1] & ProgramFacts::kJumpTarget)) return false;
    if ((facts_.flags[on_true(i + 1)] | facts_.flags[on_false(i + 1)]) & ProgramFacts::kLiveA) {
      return false;
    }
    const std::uint32_t size = load_size(load.op);
    const std::uint64_t limit = std::uint64_t{1} << (8 * size);
    switch (jump.op) {
      case kJeqK:
        return jump.k < limit;
      case kJsetK:
        return (jump.k & (limit - 1)) != 0;
      case kJgtK:
      case kJgeK:
        return size == 1 && jump.k < limit;
      default:
        return false;
    }
  }

  void translate_fused(std::size_t i, Sequence& s) {
    const RawInstruction& load = program_[i];
    const RawInstruction& jump = program_[i + 1];
    const auto m = add_checked_address(s, load, i);
    if (!m) return;
    const std::uint32_t size = load_size(load.op);
    const std::uint32_t k = byte_swapped(jump.k, size);
    std::uint8_t cond = kEqual;
    if (jump.op == kJsetK) {
      const std::uint32_t mask = size == 4 ? 0xffffffff : (1u << (8 * size)) - 1;
      s.add(test_mem_imm(size, *m, k & byte_swapped(mask, size)));
      cond = kNotEqual;
    } else {
      s.add(cmp_mem_imm(size, *m, k));
      cond = jump.op == kJeqK ? kEqual : jump.op == kJgtK ? kAbove : kAboveEqual;
    }
    add_branch(s, i + 1, cond);
  }

  Result<void> translate(std::size_t i, Sequence& s) {
    const RawInstruction& in = program_[i];
    const std::uint32_t k = in.k;
    switch (in.op) {
      case kLdImm:
        s.add(mov_imm(kA, k));
        break;
      case kLdxImm:
        s.add(mov_imm(kX, k));
        break;
      case kLdLen:
        s.add(mov(kA, kLen));
        break;
      case kLdxLen:
        s.add(mov(kX, kLen));
        break;
      case kLdMem:
        s.add(op_mem({0x8b}, kA, scratch(k)));
        break;
      case kLdxMem:
        s.add(op_mem({0x8b}, kX, scratch(k)));
        break;
      case kSt:
        s.add(op_mem({0x89}, kA, scratch(k)));
        break;
      case kStx:
        s.add(op_mem({0x89}, kX, scratch(k)));
        break;
      case kTax:
        s.add(mov(kX, kA));
        break;
      case kTxa:
        s.add(mov(kA, kX));
        break;
      case kLdWAbs:
      case kLdHAbs:
      case kLdBAbs:
        if (k >= kExtensionBase) return translate_extension(k - kExtensionBase, s);
        add_load(s, i, kA);
        break;
      case kLdWInd:
      case kLdHInd:
      case kLdBInd:
        add_load(s, i, kA);
        break;
      case kLdxMsh:  // X = 4 * (packet[k] & 0xf)
        add_load(s, i, kX);
        s.add(alu_imm(kAnd, kX, 0xf));
        s.add(shift_imm(4, kX, 2));
        break;
      case kAddK:
        if (k != 0) s.add(alu_imm(kAdd, kA, k));
        break;
      case kSubK:
        if (k != 0) s.add(alu_imm(kSub, kA, k));
        break;
      case kOrK:
        if (k != 0) s.add(alu_imm(kOr, kA, k));
        break;
      case kXorK:
        if (k != 0) s.add(alu_imm(kXor, kA, k));
        break;
      case kAndK:
        if (k != 0xffffffff) s.add(k == 0 ? mov_imm(kA, 0) : alu_imm(kAnd, kA, k));
        break;
      case kMulK:
        translate_multiply_constant(k, s);
        break;
      case kDivK:
      case kModK:
        translate_divide_constant(in.op == kModK, k, s);
        break;
      case kLshK:
        if ((k & 31) != 0) s.add(shift_imm(4, kA, static_cast<std::uint8_t>(k & 31)));
        break;
      case kRshK:
        if ((k & 31) != 0) s.add(shift_imm(5, kA, static_cast<std::uint8_t>(k & 31)));
        break;
      case kAddX:
        s.add(alu_reg(kAdd, kA, kX));
        break;
      case kSubX:
        s.add(alu_reg(kSub, kA, kX));
        break;
      case kOrX:
        s.add(alu_reg(kOr, kA, kX));
        break;
      case kAndX:
        s.add(alu_reg(kAnd, kA, kX));
        break;
      case kXorX:
        s.add(alu_reg(kXor, kA, kX));
        break;
      case kMulX:
        s.add(op_reg({0x0f, 0xaf}, kA, kX));  // imul eax, ecx
        break;
      case kDivX:
      case kModX:
        s.add(op_reg({0x85}, kX, kX));  // test ecx, ecx: division by zero ends with 0
        s.jump(kEqual, ret0_);
        s.add(mov_imm(kTmp, 0));
        s.add(op_reg({0xf7}, 6, kX));  // div ecx
        if (in.op == kModX) s.add(mov(kA, kTmp));
        break;
      case kLshX:
        s.add(op_reg({0xd3}, 4, kA));  // shl eax, cl
        break;
      case kRshX:
        s.add(op_reg({0xd3}, 5, kA));  // shr eax, cl
        break;
      case kNeg:
        s.add(op_reg({0xf7}, 3, kA));
        break;
      case kJa:
        s.jump(kAlways, label_[i + 1 + k]);
        break;
      case kJeqK:
      case kJeqX:
      case kJgtK:
      case kJgtX:
      case kJgeK:
      case kJgeX:
      case kJsetK:
      case kJsetX:
        translate_conditional_jump(i, s);
        break;
      case kRetK:
        s.add(mov_imm(kA, k));
        add_return(s);
        break;
      case kRetA:
        add_return(s);
        break;
      default:
        return fail(EINVAL, "jit: opcode not accepted by the kernel");
    }
    return {};
  }

  void translate_multiply_constant(std::uint32_t k, Sequence& s) {
    if (k == 0) {
      s.add(mov_imm(kA, 0));
    } else if (std::has_single_bit(k)) {
      if (k > 1) s.add(shift_imm(4, kA, static_cast<std::uint8_t>(std::countr_zero(k))));
    } else if (fits8(static_cast<std::int32_t>(k))) {
      s.add(op_reg({0x6b}, kA, kA).put(static_cast<std::uint8_t>(k)));  // imul eax, eax, k
    } else {
      s.add(op_reg({0x69}, kA, kA).put32(k));
    }
  }

  // A / k and A % k for a constant k != 0 (the validator rejects 0) without `div`: with
  // c = ceil(2^64 / k), A / k is the high half of c * A and A % k the high half of
  // (c * A mod 2^64) * k, exact for every 32-bit A and k >= 2 (Lemire, Kaser and Kurz,
  // "Faster remainder by direct computation", 2019).
  void translate_divide_constant(bool modulo, std::uint32_t k, Sequence& s) {
    if (k == 0) {  // not a valid program; end with 0 as the kernel's division by zero would
      s.jump(kAlways, ret0_);
      return;
    }
    if (std::has_single_bit(k)) {
      if (modulo) {
        s.add(k == 1 ? mov_imm(kA, 0) : alu_imm(kAnd, kA, k - 1));
      } else if (k > 1) {
        s.add(shift_imm(5, kA, static_cast<std::uint8_t>(std::countr_zero(k))));
      }
      return;
    }
    const std::uint64_t c = ~std::uint64_t{0} / k + 1;
    s.add(mov_imm64(kTmp2, c));
    if (modulo) {
      s.add(op_reg({0x0f, 0xaf}, kA, kTmp2, true));  // imul rax, r9: the low half of c * A
      s.add(mov_imm(kTmp2, k));
    }
    s.add(op_reg({0xf7}, 4, kTmp2, true));  // mul r9: rdx = the high half
    s.add(mov(kA, kTmp));
  }

  void translate_conditional_jump(std::size_t i, Sequence& s) {
    const RawInstruction& in = program_[i];
    if (on_true(i) == on_false(i)) {
      s.jump(kAlways, label_[on_true(i)]);
      return;
    }
    const bool with_x = (in.op & 0x08) != 0;
    const std::uint32_t k = in.k;
    std::uint8_t cond = kEqual;
    switch (in.op & 0xf0) {
      case 0x10:  // jeq
        s.add(with_x   ? alu_reg(kCmp, kA, kX)
              : k == 0 ? op_reg({0x85}, kA, kA)  // test eax, eax
                       : alu_imm(kCmp, kA, k));
        cond = kEqual;
        break;
      case 0x20:  // jgt
        if (!with_x && k == 0xffffffff) {
          s.jump(kAlways, label_[on_false(i)]);
          return;
        }
        s.add(with_x ? alu_reg(kCmp, kA, kX) : alu_imm(kCmp, kA, k));
        cond = kAbove;
        break;
      case 0x30:  // jge
        if (!with_x && k == 0) {
          s.jump(kAlways, label_[on_true(i)]);
          return;
        }
        s.add(with_x ? alu_reg(kCmp, kA, kX) : alu_imm(kCmp, kA, k));
        cond = kAboveEqual;
        break;
      default:  // jset
        if (!with_x && k == 0) {
          s.jump(kAlways, label_[on_false(i)]);
          return;
        }
        s.add(with_x ? op_reg({0x85}, kX, kA) : test_imm(kA, k));
        cond = kNotEqual;
        break;
    }
    add_branch(s, i, cond);
  }

  // Like the kernel, a device field of a packet without a device ends the run with verdict A.
  void add_device_check(Sequence& s) const {
    s.add(op_mem({0x80}, kCmp, {kCtx, -1, offsetof(Context, has_device)}).put(0));
    s.jump(kEqual, return_a_);
  }

  Result<void> translate_extension(std::uint32_t ext, Sequence& s) {
    auto field = [&](std::size_t offset, std::size_t size) {
      const Mem m{kCtx, -1, static_cast<std::int32_t>(offset)};
      s.add(size == 2 ? op_mem({0x0f, 0xb7}, kA, m) : op_mem({0x8b}, kA, m));
    };
#define NINEP_CONTEXT_FIELD(name) field(offsetof(Context, name), sizeof(Context::name))
    switch (ext) {
      case kExtProtocol:
        NINEP_CONTEXT_FIELD(protocol);
        break;
      case kExtPktType:
        NINEP_CONTEXT_FIELD(pkt_type);
        break;
      case kExtIfIndex:
        add_device_check(s);
        NINEP_CONTEXT_FIELD(ifindex);
        break;
      case kExtMark:
        NINEP_CONTEXT_FIELD(mark);
        break;
      case kExtQueue:
        NINEP_CONTEXT_FIELD(queue);
        break;
      case kExtHaType:
        add_device_check(s);
        NINEP_CONTEXT_FIELD(hatype);
        break;
      case kExtRxHash:
        NINEP_CONTEXT_FIELD(rxhash);
        break;
      case kExtCpu:
        NINEP_CONTEXT_FIELD(cpu);
        break;
      case kExtVlanTag:
        NINEP_CONTEXT_FIELD(vlan_tci);
        break;
      case kExtVlanTagPresent:
        NINEP_CONTEXT_FIELD(vlan_present);
        break;
      case kExtVlanTpid:
        NINEP_CONTEXT_FIELD(vlan_tpid);
        break;
      case kExtPayOffset:
        NINEP_CONTEXT_FIELD(payload_offset);
        break;
#undef NINEP_CONTEXT_FIELD
      case kExtAluXorX:
        s.add(alu_reg(kXor, kA, kX));
        break;
      case kExtNlAttr:
      case kExtNlAttrNest:
      case kExtRandom:
        add_call(s, ext);
        break;
      default:
        return fail(EINVAL, "jit: unknown extension");
    }
    return {};
  }

  // A = find(packet, len, A, X) for the netlink extensions, A = ctx->random(ctx->random_state)
  // for rand; every other register is kept.
  static void add_call(Sequence& s, std::uint32_t ext) {
    static constexpr unsigned kSaved[] = {kPacket, kLen, kX, kCtx, kLenMinus2, kLenMinus4};
    if (ext == kExtRandom) {
      // A = 0 without a source (a Vm always supplies one; a bare JitCode caller may not).
      s.add(mov_imm(kA, 0));
      s.add(op_mem({0x83}, kCmp, {kCtx, -1, offsetof(Context, random)}, true).put(0));
      s.jump(kEqual, Sequence::kEnd);
    }
    for (unsigned r : kSaved) s.add(push(r));  // six pushes keep rsp 16-aligned in the frame
    if (ext == kExtRandom) {
      s.add(op_mem({0x8b}, kRdi, {kCtx, -1, offsetof(Context, random_state)}, true));
      s.add(op_mem({0xff}, 2, {kCtx, -1, offsetof(Context, random)}));  // call [r8 + random]
    } else {
      // The packet and its length are already in rdi and esi, X in ecx.
      using Find =
          std::uint32_t (*)(const std::uint8_t*, std::uint32_t, std::uint32_t, std::uint32_t);
      const Find find =
          ext == kExtNlAttr ? &find_netlink_attribute : &find_nested_netlink_attribute;
      s.add(mov(kRdx, kA));
      s.add(mov_imm64(kRax, reinterpret_cast<std::uint64_t>(find)));
      s.add(op_reg({0xff}, 2, kRax));  // call rax
    }
    s.add(mov(kA, kA));  // the upper half of rax is undefined after a call
    for (unsigned j = std::size(kSaved); j-- > 0;) s.add(pop(kSaved[j]));
  }

  // The size of each header area (SKF_NET_OFF - SKF_LL_OFF, -SKF_NET_OFF).
  static constexpr std::uint32_t kAreaSize = kNetworkHeaderBase - kLinkHeaderBase;

  std::span<const RawInstruction> program_;
  std::uint8_t* buffer_;
  std::size_t capacity_;
  Emitter emitter_{nullptr, nullptr, 0};
  std::uint32_t next_stub_ = 0;  // the position of the next indirect load's stub
  bool stub_overflow_ = false;
  ProgramFacts facts_;
  // The position of each emitted instruction (counted from the end of the code): the slots of
  // the proven lengths, which are no longer needed once their instruction is emitted.
  std::array<std::uint32_t, kMaxInstructions>& label_ = facts_.proven_len;
  std::uint32_t ret0_ = 0;      // the nearest following code that returns 0
  std::uint32_t return_a_ = 0;  // code that returns A
};

}  // namespace

std::size_t code_bound(std::span<const RawInstruction> program) {
  std::size_t bound = kMaxFixedBytes;
  for (const RawInstruction& in : program) bound += max_translation_size(in);
  return bound;
}

Result<std::size_t> generate(std::span<const RawInstruction> program, std::uint8_t* buffer,
                             std::size_t capacity) {
  Generator gen(program, buffer, capacity);
  auto size = gen.run();
  if (!size) return size;
  std::memmove(buffer, gen.start(), *size);
  return *size;
}

}  // namespace ninep::bpf::jit_x86_64
