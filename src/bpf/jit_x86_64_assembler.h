// A minimal x86-64 assembler for the cBPF JIT: the few instruction encodings it needs, and an
// emitter that writes code backwards (from the end of a buffer towards its start), so that a
// forward jump always knows its distance when it is written.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace ninep::bpf::jit_x86_64 {

enum Reg : unsigned {
  kRax = 0,
  kRcx = 1,
  kRdx = 2,
  kRsp = 4,
  kRbp = 5,
  kRsi = 6,
  kRdi = 7,
  kR8 = 8,
  kR9 = 9,
  kR10 = 10,
  kR11 = 11,
};

// Condition codes: the low nibble of Jcc/CMOVcc; kAlways and kNoJump are pseudo-conditions.
enum Cond : std::uint8_t {
  kBelow = 0x2,
  kAboveEqual = 0x3,
  kEqual = 0x4,
  kNotEqual = 0x5,
  kAbove = 0x7,
  kSign = 0x8,
  kGreater = 0xf,
  kAlways = 0xfe,
  kNoJump = 0xff,
};
constexpr std::uint8_t invert(std::uint8_t cond) {
  return cond ^ 1;
}

// ALU operations of the 0x81/0x83 immediate group, and of opcodes `ext * 8 + 1` (op rm, reg).
enum Alu : unsigned { kAdd = 0, kOr = 1, kAnd = 4, kSub = 5, kXor = 6, kCmp = 7 };

// One encoded machine instruction (at most 15 bytes).
struct Bytes {
  std::uint8_t b[15];
  std::uint8_t n = 0;

  Bytes& put(std::uint8_t v) {
    b[n++] = v;
    return *this;
  }
  Bytes& put16(std::uint16_t v) {
    std::memcpy(b + n, &v, 2);
    n += 2;
    return *this;
  }
  Bytes& put32(std::uint32_t v) {
    std::memcpy(b + n, &v, 4);
    n += 4;
    return *this;
  }
  Bytes& put64(std::uint64_t v) {
    std::memcpy(b + n, &v, 8);
    n += 8;
    return *this;
  }
};

struct Mem {
  unsigned base;
  int index = -1;  // none
  std::int32_t disp = 0;
};

inline bool fits8(std::int64_t v) {
  return v >= -128 && v <= 127;
}

// Prefix(es), REX and opcode bytes; `reg`, `index` and `base` contribute their high bits to REX.
inline Bytes opcode_bytes(std::initializer_list<std::uint8_t> opcode, bool wide, unsigned reg,
                          unsigned index, unsigned base, bool operand16 = false) {
  Bytes o;
  if (operand16) o.put(0x66);
  const unsigned rex = (wide ? 8u : 0u) | ((reg >> 3) << 2) | ((index >> 3) << 1) | (base >> 3);
  if (rex != 0) o.put(static_cast<std::uint8_t>(0x40 | rex));
  for (std::uint8_t byte : opcode) o.put(byte);
  return o;
}

// `opcode reg, rm` with both operands registers (reg may be an opcode extension /digit).
inline Bytes op_reg(std::initializer_list<std::uint8_t> opcode, unsigned reg, unsigned rm,
                    bool wide = false, bool operand16 = false) {
  Bytes o = opcode_bytes(opcode, wide, reg, 0, rm, operand16);
  return o.put(static_cast<std::uint8_t>(0xc0 | ((reg & 7) << 3) | (rm & 7)));
}

// `opcode reg, [base + index + disp]`.
inline Bytes op_mem(std::initializer_list<std::uint8_t> opcode, unsigned reg, Mem m,
                    bool wide = false, bool operand16 = false) {
  const unsigned index = m.index < 0 ? 0 : static_cast<unsigned>(m.index);
  Bytes o = opcode_bytes(opcode, wide, reg, index, m.base, operand16);
  const unsigned base = m.base & 7;
  const unsigned mod = (m.disp == 0 && base != kRbp) ? 0 : fits8(m.disp) ? 1 : 2;
  if (m.index >= 0) {
    o.put(static_cast<std::uint8_t>((mod << 6) | ((reg & 7) << 3) | 4));
    o.put(static_cast<std::uint8_t>(((index & 7) << 3) | base));
  } else {
    o.put(static_cast<std::uint8_t>((mod << 6) | ((reg & 7) << 3) | base));
    if (base == kRsp) o.put(0x24);
  }
  if (mod == 1) o.put(static_cast<std::uint8_t>(m.disp));
  if (mod == 2) o.put32(static_cast<std::uint32_t>(m.disp));
  return o;
}

// `op rm, reg` for the classic ALU operations (add, or, and, sub, xor, cmp).
inline Bytes alu_reg(Alu op, unsigned rm, unsigned reg, bool wide = false) {
  return op_reg({static_cast<std::uint8_t>(op * 8 + 1)}, reg, rm, wide);
}

// `op rm, imm` (32 or 64-bit), with the short encodings where they exist.
inline Bytes alu_imm(Alu op, unsigned rm, std::uint32_t imm, bool wide = false) {
  const auto s = static_cast<std::int32_t>(imm);
  if (fits8(s)) return op_reg({0x83}, op, rm, wide).put(static_cast<std::uint8_t>(imm));
  if (rm == kRax)
    return opcode_bytes({static_cast<std::uint8_t>(op * 8 + 5)}, wide, 0, 0, 0).put32(imm);
  return op_reg({0x81}, op, rm, wide).put32(imm);
}

// `cmp size [m], imm` (size 1, 2 or 4 bytes).
inline Bytes cmp_mem_imm(unsigned size, Mem m, std::uint32_t imm) {
  if (size == 1) return op_mem({0x80}, kCmp, m).put(static_cast<std::uint8_t>(imm));
  const bool half = size == 2;
  const auto s = half ? static_cast<std::int16_t>(imm) : static_cast<std::int32_t>(imm);
  if (fits8(s)) return op_mem({0x83}, kCmp, m, false, half).put(static_cast<std::uint8_t>(imm));
  Bytes o = op_mem({0x81}, kCmp, m, false, half);
  return half ? o.put16(static_cast<std::uint16_t>(imm)) : o.put32(imm);
}

// `test size [m], imm`.
inline Bytes test_mem_imm(unsigned size, Mem m, std::uint32_t imm) {
  if (size == 1) return op_mem({0xf6}, 0, m).put(static_cast<std::uint8_t>(imm));
  Bytes o = op_mem({0xf7}, 0, m, false, size == 2);
  return size == 2 ? o.put16(static_cast<std::uint16_t>(imm)) : o.put32(imm);
}

// `test r32, imm` (`test al, imm8` when the mask fits in the low byte of eax).
inline Bytes test_imm(unsigned r, std::uint32_t imm) {
  if (r == kRax && imm <= 0xff) return Bytes{}.put(0xa8).put(static_cast<std::uint8_t>(imm));
  if (r == kRax) return Bytes{}.put(0xa9).put32(imm);
  return op_reg({0xf7}, 0, r).put32(imm);
}

// Shifts by an immediate: ext 4 = shl, 5 = shr.
inline Bytes shift_imm(unsigned ext, unsigned rm, std::uint8_t count) {
  return op_reg({0xc1}, ext, rm).put(count);
}

// r = imm (xor when zero, which clobbers the flags: use mov_imm_keep_flags between a compare
// and its use).
inline Bytes mov_imm_keep_flags(unsigned r, std::uint32_t imm) {
  return opcode_bytes({static_cast<std::uint8_t>(0xb8 | (r & 7))}, false, 0, 0, r).put32(imm);
}
inline Bytes mov_imm(unsigned r, std::uint32_t imm) {
  return imm == 0 ? alu_reg(kXor, r, r) : mov_imm_keep_flags(r, imm);
}
inline Bytes mov_imm64(unsigned r, std::uint64_t imm) {
  return opcode_bytes({static_cast<std::uint8_t>(0xb8 | (r & 7))}, true, 0, 0, r).put64(imm);
}
inline Bytes mov(unsigned dst, unsigned src, bool wide = false) {
  return op_reg({0x89}, src, dst, wide);
}
inline Bytes push(unsigned r) {
  return opcode_bytes({static_cast<std::uint8_t>(0x50 | (r & 7))}, false, 0, 0, r);
}
inline Bytes pop(unsigned r) {
  return opcode_bytes({static_cast<std::uint8_t>(0x58 | (r & 7))}, false, 0, 0, r);
}
inline Bytes ret() {
  return Bytes{}.put(0xc3);
}

// The machine code of one BPF instruction (or a fused pair), in execution order; a jump names
// its target as a position counted from the end of the code and is encoded when emitted.
struct Sequence {
  struct Op {
    Bytes bytes;
    std::uint8_t cond = kNoJump;
    std::uint32_t target = 0;
  };
  // A jump target meaning "the code right after this sequence".
  static constexpr std::uint32_t kEnd = 0xffffffff;

  std::array<Op, 24> ops;
  unsigned n = 0;
  unsigned mark = ~0u;  // the op whose position Emitter::marked() reports, if any
  // For an indirect load: where its out-of-line stub goes and the load's size.
  std::uint32_t stub_at = 0;
  std::uint32_t stub_size = 0;

  void add(const Bytes& b) { ops[n++] = Op{b, kNoJump, 0}; }
  void jump(std::uint8_t cond, std::uint32_t target) { ops[n++] = Op{Bytes{}, cond, target}; }
  void mark_next() { mark = n; }
};

// Writes code backwards from the end of a buffer.
class Emitter {
 public:
  // Code is prepended in front of the last `reserved` bytes, which write_at() fills.
  Emitter(std::uint8_t* begin, std::uint8_t* end, std::size_t reserved)
      : begin_(begin), end_(end), cur_(end - reserved) {}

  // The distance from the end of the code to the start of what is emitted so far.
  std::uint32_t pos() const { return static_cast<std::uint32_t>(end_ - cur_); }
  bool overflowed() const { return overflow_; }
  const std::uint8_t* start() const { return cur_; }
  // The position of the marked op of the last sequence emitted.
  std::uint32_t marked() const { return marked_; }

  void emit(const Sequence& s) {
    const std::uint32_t end = pos();
    for (unsigned i = s.n; i-- > 0;) {
      const auto& op = s.ops[i];
      if (op.cond == kNoJump) {
        prepend(op.bytes);
      } else {
        jump(op.cond, op.target == Sequence::kEnd ? end : op.target);
      }
      if (i == s.mark) marked_ = pos();
    }
  }

  // Writes `n` bytes starting at position `at` of the reserved area.
  void write_at(std::uint32_t at, const std::uint8_t* bytes, std::size_t n) {
    std::memcpy(end_ - at, bytes, n);
  }

 private:
  void prepend(const Bytes& b) {
    if (static_cast<std::size_t>(cur_ - begin_) < b.n) {
      overflow_ = true;
      return;
    }
    cur_ -= b.n;
    std::memcpy(cur_, b.b, b.n);
  }

  void jump(std::uint8_t cond, std::uint32_t target) {
    const std::uint32_t distance = pos() - target;  // the jump ends where emitted code begins
    if (distance == 0) return;                      // its target follows it: nothing to do
    Bytes o;
    if (distance <= 127) {
      o.put(cond == kAlways ? 0xeb : static_cast<std::uint8_t>(0x70 | cond));
      o.put(static_cast<std::uint8_t>(distance));
    } else if (cond == kAlways) {
      o.put(0xe9).put32(distance);
    } else {
      o.put(0x0f).put(static_cast<std::uint8_t>(0x80 | cond)).put32(distance);
    }
    prepend(o);
  }

  std::uint8_t* begin_;
  std::uint8_t* end_;
  std::uint8_t* cur_;
  std::uint32_t marked_ = 0;
  bool overflow_ = false;
};

// Code written forwards at a known position (its first byte's distance from the end of the
// code), whose jumps go to positions already known: the out-of-line stubs.
template <std::size_t Capacity>
class FixedCode {
 public:
  explicit FixedCode(std::uint32_t at) : at_(at) { std::memset(bytes_, 0xcc, Capacity); }

  void add(const Bytes& b) {
    if (Capacity - n_ < b.n) {
      overflow_ = true;
      return;
    }
    std::memcpy(bytes_ + n_, b.b, b.n);
    n_ += b.n;
  }
  // A rel32 jump (backwards or forwards).
  void jump(std::uint8_t cond, std::uint32_t target) {
    Bytes o;
    if (cond == kAlways) {
      o.put(0xe9);
    } else {
      o.put(0x0f).put(static_cast<std::uint8_t>(0x80 | cond));
    }
    const std::int64_t end = std::int64_t{at_} - n_ - o.n - 4;
    o.put32(static_cast<std::uint32_t>(static_cast<std::int32_t>(end - target)));
    add(o);
  }
  const std::uint8_t* data() const { return bytes_; }
  std::size_t size() const { return n_; }
  bool overflowed() const { return overflow_; }

 private:
  std::uint32_t at_;
  std::uint8_t bytes_[Capacity];
  std::size_t n_ = 0;
  bool overflow_ = false;
};

}  // namespace ninep::bpf::jit_x86_64
