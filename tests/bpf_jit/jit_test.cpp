// The JIT instruction by instruction: every result is checked against a value worked out by
// hand (from the kernel's semantics) and against the interpreter.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bpf/jit.h"
#include "bpf/jit_program.h"
#include "bpf/random.h"
#include "bpf/vm.h"

namespace ninep::bpf {
namespace {

using namespace ninep::bpf::jit;  // opcodes

using Program = std::vector<RawInstruction>;
using Packet = std::vector<std::uint8_t>;

RawInstruction stmt(std::uint16_t op, std::uint32_t k = 0) {
  return {op, 0, 0, k};
}
RawInstruction jump(std::uint16_t op, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return {op, jt, jf, k};
}
constexpr std::uint32_t ext(std::uint32_t offset) {
  return kExtensionBase + offset;
}

// The JIT's verdict, after checking that the interpreter agrees.
std::uint32_t run(const Program& program, const Packet& packet, Context ctx = {}) {
  SplitMix64 jit_random(7), interpreter_random(7);
  auto code = JitCode::compile(program);
  EXPECT_TRUE(code.has_value()) << (code ? "" : code.error().to_string());
  if (!code) return 0xdeadbeef;
  auto vm = Vm::create(program, Engine::Interpreter);
  EXPECT_TRUE(vm.has_value()) << (vm ? "" : vm.error().to_string());
  if (!vm) return 0xdeadbeef;
  const std::uint32_t verdict = code->run(packet.data(), static_cast<std::uint32_t>(packet.size()),
                                          with_random(ctx, jit_random));
  EXPECT_EQ(verdict, vm->run(packet, with_random(ctx, interpreter_random)));
  return verdict;
}

const Packet kBytes = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a};

TEST(Jit, ReturnsConstantsAndA) {
  EXPECT_EQ(run({stmt(kRetK, 0x12345678)}, {}), 0x12345678u);
  EXPECT_EQ(run({stmt(kLdImm, 5), stmt(kRetA)}, {}), 5u);
  EXPECT_EQ(run({stmt(kRetK, 0)}, kBytes), 0u);
}

TEST(Jit, AAndXStartAtZero) {
  EXPECT_EQ(run({stmt(kRetA)}, kBytes), 0u);
  EXPECT_EQ(run({stmt(kTxa), stmt(kRetA)}, kBytes), 0u);
  EXPECT_EQ(run({stmt(kLdImm, 9), stmt(kAddX), stmt(kRetA)}, kBytes), 9u);
}

TEST(Jit, LoadsAreBigEndian) {
  EXPECT_EQ(run({stmt(kLdWAbs, 0), stmt(kRetA)}, kBytes), 0x01020304u);
  EXPECT_EQ(run({stmt(kLdHAbs, 1), stmt(kRetA)}, kBytes), 0x0203u);
  EXPECT_EQ(run({stmt(kLdBAbs, 3), stmt(kRetA)}, kBytes), 0x04u);
  EXPECT_EQ(run({stmt(kLdxImm, 2), stmt(kLdWInd, 1), stmt(kRetA)}, kBytes), 0x04050607u);
  EXPECT_EQ(run({stmt(kLdxImm, 2), stmt(kLdHInd, 1), stmt(kRetA)}, kBytes), 0x0405u);
  EXPECT_EQ(run({stmt(kLdxImm, 2), stmt(kLdBInd, 1), stmt(kRetA)}, kBytes), 0x04u);
}

// Every load at the last position that fits, and one past it (straddling the end): verdict 0.
TEST(Jit, LoadsAtTheEndOfThePacket) {
  for (std::uint32_t len = 0; len <= 9; ++len) {
    const Packet pkt(kBytes.begin(), kBytes.begin() + len);
    for (std::uint32_t size : {1u, 2u, 4u}) {
      const std::uint16_t abs = size == 1 ? kLdBAbs : size == 2 ? kLdHAbs : kLdWAbs;
      const std::uint16_t ind = size == 1 ? kLdBInd : size == 2 ? kLdHInd : kLdWInd;
      for (std::uint32_t off = len >= size ? len - size : 0; off <= len + 1; ++off) {
        const bool fits = off + size <= len;
        SCOPED_TRACE("len " + std::to_string(len) + " size " + std::to_string(size) + " offset " +
                     std::to_string(off));
        // ret #1 when the load succeeds, whatever it loaded.
        EXPECT_EQ(run({stmt(abs, off), stmt(kRetK, 1)}, pkt), fits ? 1u : 0u);
        EXPECT_EQ(run({stmt(kLdxImm, off), stmt(ind, 0), stmt(kRetK, 1)}, pkt), fits ? 1u : 0u);
        // X + k wraps to the same offset (k = 0xffffffff when the offset is 0).
        EXPECT_EQ(run({stmt(kLdxImm, 1), stmt(ind, off - 1), stmt(kRetK, 1)}, pkt), fits ? 1u : 0u);
      }
    }
    EXPECT_EQ(run({stmt(kLdxMsh, len), stmt(kRetK, 1)}, pkt), 0u);
    if (len > 0) {
      EXPECT_EQ(run({stmt(kLdxMsh, len - 1), stmt(kRetK, 1)}, pkt), 1u);
    }
  }
}

// A load proven by an earlier one needs no check of its own; one the earlier load does not cover
// still does, on every path.
TEST(Jit, ProvenLengthsOnlyCoverTheirPaths) {
  const Program p = {
      stmt(kLdBAbs, 0),
      jump(kJeqK, 1, 0, 2),  // byte 0 == 1: proves 8 bytes, else falls to the ldh
                             // [6]
      stmt(kLdWAbs, 4),
      stmt(kLdBAbs, 7),
      stmt(kLdHAbs, 6),  // reached with 1 or 8 bytes proven
      stmt(kRetA),
  };
  EXPECT_EQ(run(p, {1, 0, 0, 0, 0, 0, 0xab, 0xcd}), 0xabcdu);
  EXPECT_EQ(run(p, {2, 0, 0, 0, 0, 0, 0xab, 0xcd}), 0xabcdu);
  EXPECT_EQ(run(p, {2, 0, 0, 0, 0, 0, 0xab}), 0u);
  EXPECT_EQ(run(p, {1, 0, 0, 0, 0, 0, 0xab}), 0u);
}

TEST(Jit, IndirectOffsetsWrapModulo2To32) {
  EXPECT_EQ(run({stmt(kLdxImm, 0xffffffff), stmt(kLdBInd, 2), stmt(kRetA)}, kBytes), 0x02u);
  EXPECT_EQ(run({stmt(kLdxImm, 0xfffffff0), stmt(kLdWInd, 0x13), stmt(kRetA)}, kBytes),
            0x04050607u);
  EXPECT_EQ(run({stmt(kLdxImm, 0xfffffffe), stmt(kLdHInd, 1), stmt(kRetK, 1)}, kBytes), 0u);
  EXPECT_EQ(run({stmt(kLdxImm, 1), stmt(kLdBInd, 0xffffffff), stmt(kRetA)}, kBytes), 0x01u);
  EXPECT_EQ(run({stmt(kLdxImm, 0x80000000), stmt(kLdBInd, 0), stmt(kRetK, 1)}, kBytes), 0u);
}

// Offsets the kernel treats as negative address header areas, which a packet has not by default.
TEST(Jit, NegativeOffsetsFail) {
  for (std::uint32_t off :
       {0x80000000u, 0xffe00000u, 0xffe00001u, 0xfff00000u, 0xfff00004u, 0xffffefffu}) {
    EXPECT_EQ(run({stmt(kLdBAbs, off), stmt(kRetK, 1)}, kBytes), 0u) << off;
    EXPECT_EQ(run({stmt(kLdWAbs, off), stmt(kRetK, 1)}, kBytes), 0u) << off;
    EXPECT_EQ(run({stmt(kLdxMsh, off), stmt(kRetK, 1)}, kBytes), 0u) << off;
    EXPECT_EQ(run({stmt(kLdxImm, off), stmt(kLdHInd, 0), stmt(kRetK, 1)}, kBytes), 0u) << off;
  }
}

// With Context::network_header / link_header set, SKF_NET_OFF + k and SKF_LL_OFF + k (also
// reached by X + k wrapping below zero) read inside the packet, bounded by its end.
TEST(Jit, HeaderAreas) {
  Packet p(40);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i + 1);
  Context ctx;
  ctx.link_header = 0;
  ctx.network_header = 14;
  EXPECT_EQ(run({stmt(kLdBAbs, 0xfff00000), stmt(kRetA)}, p, ctx), 15u);
  EXPECT_EQ(run({stmt(kLdHAbs, 0xfff00002), stmt(kRetA)}, p, ctx), 0x1112u);
  EXPECT_EQ(run({stmt(kLdWAbs, 0xffe00000), stmt(kRetA)}, p, ctx), 0x01020304u);
  EXPECT_EQ(run({stmt(kLdBAbs, 0xfff00019), stmt(kRetA)}, p, ctx), 40u);  // the last byte
  EXPECT_EQ(run({stmt(kLdBAbs, 0xfff0001a), stmt(kRetK, 1)}, p, ctx), 0u);
  EXPECT_EQ(run({stmt(kLdHAbs, 0xfff00019), stmt(kRetK, 1)}, p, ctx), 0u);
  EXPECT_EQ(run({stmt(kLdWAbs, 0xfff00016), stmt(kRetA)}, p, ctx), 0x25262728u);
  EXPECT_EQ(run({stmt(kLdWAbs, 0xfff00017), stmt(kRetK, 1)}, p, ctx), 0u);
  EXPECT_EQ(run({stmt(kLdxMsh, 0xfff00000), stmt(kTxa), stmt(kRetA)}, p, ctx), 4u * 15);
  for (std::uint16_t ind : {kLdBInd, kLdHInd, kLdWInd}) {
    const std::uint32_t size = ind == kLdBInd ? 1 : ind == kLdHInd ? 2 : 4;
    // X + k wrapping into the network area, at its last fitting byte, and one past it.
    const Program at_end = {stmt(kLdxImm, 0xfff00000), stmt(ind, 26 - size), stmt(kRetK, 1)};
    EXPECT_EQ(run(at_end, p, ctx), 1u) << size;
    const Program past_end = {stmt(kLdxImm, 0xfff00000), stmt(ind, 27 - size), stmt(kRetK, 1)};
    EXPECT_EQ(run(past_end, p, ctx), 0u) << size;
    EXPECT_EQ(run({stmt(kLdxImm, 0xffe00000), stmt(ind, 0), stmt(kRetA)}, p, ctx),
              size == 1   ? 0x01u
              : size == 2 ? 0x0102u
                          : 0x01020304u);
    // Fused with a jump.
    EXPECT_EQ(run({stmt(kLdxImm, 0xfff00000), stmt(ind, 3), jump(kJsetK, 0x12, 0, 1),
                   stmt(kRetK, 10), stmt(kRetK, 20)},
                  p, ctx),
              10u);
  }
  EXPECT_EQ(run({stmt(kLdxImm, 0xffffffff), stmt(kLdBInd, 0), stmt(kRetK, 1)}, p, ctx), 0u);
  EXPECT_EQ(run({stmt(kLdxImm, 0xffdfffff), stmt(kLdBInd, 0), stmt(kRetK, 1)}, p, ctx), 0u);
  ctx.link_header = -1;
  EXPECT_EQ(run({stmt(kLdWAbs, 0xffe00000), stmt(kRetK, 1)}, p, ctx), 0u);
  EXPECT_EQ(run({stmt(kLdxImm, 0xffe00000), stmt(kLdBInd, 0), stmt(kRetK, 1)}, p, ctx), 0u);
  ctx.network_header = 40;  // the area starts at the end: nothing to read
  EXPECT_EQ(run({stmt(kLdBAbs, 0xfff00000), stmt(kRetK, 1)}, p, ctx), 0u);
  ctx.network_header = 0x7fffffff;
  EXPECT_EQ(run({stmt(kLdxImm, 0xfff00000), stmt(kLdWInd, 0), stmt(kRetK, 1)}, p, ctx), 0u);
}

TEST(Jit, LoadMemShift) {
  EXPECT_EQ(run({stmt(kLdxMsh, 0), stmt(kTxa), stmt(kRetA)}, {0x4f}), 60u);
  EXPECT_EQ(run({stmt(kLdImm, 77), stmt(kLdxMsh, 1), stmt(kAddX), stmt(kRetA)}, {0, 0x45}), 97u);
}

TEST(Jit, ShiftCountsFromXAreMaskedBy31) {
  for (std::uint32_t x : {0u, 1u, 31u, 32u, 33u, 63u, 0xffffffffu}) {
    EXPECT_EQ(run({stmt(kLdxImm, x), stmt(kLdImm, 0x80000001), stmt(kLshX), stmt(kRetA)}, {}),
              0x80000001u << (x & 31))
        << x;
    EXPECT_EQ(run({stmt(kLdxImm, x), stmt(kLdImm, 0x80000001), stmt(kRshX), stmt(kRetA)}, {}),
              0x80000001u >> (x & 31))
        << x;
  }
  EXPECT_EQ(run({stmt(kLdImm, 3), stmt(kLshK, 31), stmt(kRetA)}, {}), 0x80000000u);
  EXPECT_EQ(run({stmt(kLdImm, 0x80000000), stmt(kRshK, 31), stmt(kRetA)}, {}), 1u);
}

TEST(Jit, DivisionByXZeroEndsWithZero) {
  EXPECT_EQ(run({stmt(kLdImm, 10), stmt(kDivX), stmt(kRetK, 7)}, {}), 0u);
  EXPECT_EQ(run({stmt(kLdImm, 10), stmt(kModX), stmt(kRetK, 7)}, {}), 0u);
  EXPECT_EQ(run({stmt(kLdImm, 10), stmt(kLdxImm, 3), stmt(kDivX), stmt(kRetA)}, {}), 3u);
  EXPECT_EQ(run({stmt(kLdImm, 10), stmt(kLdxImm, 3), stmt(kModX), stmt(kRetA)}, {}), 1u);
}

// Division by a constant uses a multiplication: check it against `/` and `%` on edge dividends.
TEST(Jit, DivisionByConstants) {
  std::vector<std::uint32_t> divisors;
  for (std::uint32_t k = 1; k <= 70; ++k) divisors.push_back(k);
  for (std::uint32_t k : {100u, 641u, 1000u, 65535u, 65536u, 65537u, 0x7fffffffu, 0x80000000u,
                          0x80000001u, 0xfffffffeu, 0xffffffffu, 3221225473u, 0x12345678u}) {
    divisors.push_back(k);
  }
  std::vector<Packet> dividends;
  SplitMix64 rng(1);
  for (std::uint32_t a :
       {0u, 1u, 2u, 3u, 6u, 7u, 64u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu}) {
    dividends.push_back({static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                         static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)});
  }
  for (int i = 0; i < 64; ++i) {
    const std::uint32_t a = rng.next();
    dividends.push_back({static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                         static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)});
  }
  for (std::uint32_t k : divisors) {
    auto div = JitCode::compile(Program{stmt(kLdWAbs, 0), stmt(kDivK, k), stmt(kRetA)});
    auto mod = JitCode::compile(Program{stmt(kLdWAbs, 0), stmt(kModK, k), stmt(kRetA)});
    ASSERT_TRUE(div && mod);
    for (const Packet& p : dividends) {
      const std::uint32_t a = std::uint32_t{p[0]} << 24 | p[1] << 16 | p[2] << 8 | p[3];
      EXPECT_EQ(div->run(p.data(), 4, {}), a / k) << a << " / " << k;
      EXPECT_EQ(mod->run(p.data(), 4, {}), a % k) << a << " % " << k;
    }
  }
}

TEST(Jit, ArithmeticAndLogic) {
  struct Case {
    std::uint16_t op_k;
    std::uint32_t (*expected)(std::uint32_t, std::uint32_t);
  };
  const Case cases[] = {
      {kAddK, [](std::uint32_t a, std::uint32_t b) { return a + b; }},
      {kSubK, [](std::uint32_t a, std::uint32_t b) { return a - b; }},
      {kMulK, [](std::uint32_t a, std::uint32_t b) { return a * b; }},
      {kOrK, [](std::uint32_t a, std::uint32_t b) { return a | b; }},
      {kAndK, [](std::uint32_t a, std::uint32_t b) { return a & b; }},
      {kXorK, [](std::uint32_t a, std::uint32_t b) { return a ^ b; }},
  };
  const std::uint32_t values[] = {0,    1,          2,          3,          0x7f,      0x80,
                                  0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0x12345678};
  for (const Case& c : cases) {
    for (std::uint32_t a : values) {
      for (std::uint32_t b : values) {
        const std::uint16_t op_x = c.op_k | 0x08;
        EXPECT_EQ(run({stmt(kLdImm, a), stmt(c.op_k, b), stmt(kRetA)}, {}), c.expected(a, b))
            << std::hex << c.op_k << " " << a << " " << b;
        EXPECT_EQ(run({stmt(kLdImm, a), stmt(kLdxImm, b), stmt(op_x), stmt(kRetA)}, {}),
                  c.expected(a, b))
            << std::hex << op_x << " " << a << " " << b;
      }
    }
  }
  EXPECT_EQ(run({stmt(kLdImm, 5), stmt(kNeg), stmt(kRetA)}, {}), 0u - 5);
  EXPECT_EQ(run({stmt(kLdImm, 5), stmt(kTax), stmt(kLdImm, 1), stmt(kTxa), stmt(kRetA)}, {}), 5u);
  EXPECT_EQ(run({stmt(kLdLen), stmt(kRetA)}, kBytes), 10u);
  EXPECT_EQ(run({stmt(kLdxLen), stmt(kTxa), stmt(kRetA)}, kBytes), 10u);
}

TEST(Jit, ConditionalJumps) {
  struct Case {
    std::uint16_t op;
    bool (*holds)(std::uint32_t, std::uint32_t);
  };
  const Case cases[] = {
      {kJeqK, [](std::uint32_t a, std::uint32_t k) { return a == k; }},
      {kJgtK, [](std::uint32_t a, std::uint32_t k) { return a > k; }},
      {kJgeK, [](std::uint32_t a, std::uint32_t k) { return a >= k; }},
      {kJsetK, [](std::uint32_t a, std::uint32_t k) { return (a & k) != 0; }},
  };
  const std::uint32_t values[] = {0,    1,     2,          0x7f,       0x80,
                                  0xff, 0x100, 0x7fffffff, 0x80000000, 0xffffffff};
  for (const Case& c : cases) {
    for (std::uint32_t a : values) {
      for (std::uint32_t k : values) {
        const std::uint32_t want = c.holds(a, k) ? 10 : 20;
        // The two successors as returns (a conditional move), as code that falls through, and
        // with the compared value loaded from the packet (a compare with memory).
        EXPECT_EQ(run({stmt(kLdImm, a), jump(c.op, k, 0, 1), stmt(kRetK, 10), stmt(kRetK, 20)}, {}),
                  want);
        EXPECT_EQ(run({stmt(kLdImm, a), stmt(kLdxImm, k), jump(c.op | 0x08, 0, 2, 0),
                       stmt(kLdImm, 20), stmt(kRetA), stmt(kLdImm, 10), stmt(kRetA)},
                      {}),
                  want);
        const Packet bytes = {static_cast<std::uint8_t>(a >> 24),
                              static_cast<std::uint8_t>(a >> 16), static_cast<std::uint8_t>(a >> 8),
                              static_cast<std::uint8_t>(a)};
        for (std::uint32_t size : {1u, 2u, 4u}) {
          const std::uint16_t load = size == 1 ? kLdBAbs : size == 2 ? kLdHAbs : kLdWAbs;
          const std::uint32_t loaded = size == 4 ? a : a & ((1u << (8 * size)) - 1);
          const std::uint32_t at = 4 - size;
          EXPECT_EQ(run({stmt(load, at), jump(c.op, k, 2, 0), stmt(kLdImm, 20), stmt(kRetA),
                         stmt(kRetK, 10)},
                        bytes),
                    c.holds(loaded, k) ? 10u : 20u)
              << std::hex << c.op << " size " << size << " a " << loaded << " k " << k;
          EXPECT_EQ(run({stmt(kLdxImm, at), stmt(load + 0x20, 0), jump(c.op, k, 0, 1),
                         stmt(kRetK, 10), stmt(kRetK, 20)},
                        bytes),
                    c.holds(loaded, k) ? 10u : 20u);
        }
      }
    }
  }
}

// Jumps over more than 127 bytes of code need the long encoding.
TEST(Jit, LongJumps) {
  // 0: ldb [0]; 1: jeq #1 -> 2 else 257; 2: ja 256; 3..255: add #1; 256: ret #77; 257: ret #99
  Program p = {stmt(kLdBAbs, 0), jump(kJeqK, 1, 0, 255), stmt(kJa, 253)};
  for (int i = 0; i < 253; ++i) p.push_back(stmt(kAddK, 1));
  p.push_back(stmt(kRetK, 77));
  p.push_back(stmt(kRetK, 99));
  EXPECT_EQ(run(p, {1}), 77u);
  EXPECT_EQ(run(p, {2}), 99u);

  // 0: ldb [0]; 1: jeq #1 -> 2 else 257; 2..255: add #1; 256: ret a; 257: ret #99
  Program q = {stmt(kLdBAbs, 0), jump(kJeqK, 1, 0, 255)};
  for (int i = 0; i < 254; ++i) q.push_back(stmt(kAddK, 1));
  q.push_back(stmt(kRetA));
  q.push_back(stmt(kRetK, 99));
  EXPECT_EQ(run(q, {1}), 255u);
  EXPECT_EQ(run(q, {2}), 99u);
}

TEST(Jit, LargestProgram) {
  Program p(kMaxInstructions - 1, stmt(kAddK, 3));
  p.push_back(stmt(kRetA));
  EXPECT_EQ(run(p, {}), 3u * (kMaxInstructions - 1));
}

Program scratch_program(bool with_call) {
  Program p;
  for (std::uint32_t i = 0; i < kScratchWords; ++i) {
    p.push_back(stmt(i % 2 ? kLdxImm : kLdImm, 100 + i));
    p.push_back(stmt(i % 2 ? kStx : kSt, i));
  }
  if (with_call) p.push_back(stmt(kLdWAbs, ext(kExtRandom)));
  for (std::uint32_t i = 0; i < kScratchWords; ++i) {
    p.push_back(stmt(i % 2 ? kLdMem : kLdxMem, i));
    if (i % 2 == 0) p.push_back(stmt(kTxa));
    p.push_back(jump(kJeqK, 100 + i, 1, 0));
    p.push_back(stmt(kRetK, i + 1));
  }
  p.push_back(stmt(kLdMem, 15));
  p.push_back(stmt(kRetA));
  return p;
}

TEST(Jit, ScratchWords) {
  EXPECT_EQ(run(scratch_program(false), {}), 115u);
  // A helper call moves the scratch words from the red zone into a stack frame.
  EXPECT_EQ(run(scratch_program(true), {}), 115u);
}

TEST(Jit, ContextExtensions) {
  Context ctx;
  ctx.protocol = 0x86dd;
  ctx.pkt_type = 3;
  ctx.ifindex = 0x11223344;
  ctx.mark = 0xdeadbeef;
  ctx.queue = 5;
  ctx.hatype = 772;
  ctx.rxhash = 0x55aa55aa;
  ctx.cpu = 17;
  ctx.vlan_tci = 0x0123;
  ctx.vlan_present = 1;
  ctx.vlan_tpid = 0x88a8;
  ctx.payload_offset = 54;
  const std::pair<std::uint32_t, std::uint32_t> fields[] = {
      {kExtProtocol, 0x86dd},   {kExtPktType, 3},       {kExtIfIndex, 0x11223344},
      {kExtMark, 0xdeadbeef},   {kExtQueue, 5},         {kExtHaType, 772},
      {kExtRxHash, 0x55aa55aa}, {kExtCpu, 17},          {kExtVlanTag, 0x0123},
      {kExtVlanTagPresent, 1},  {kExtVlanTpid, 0x88a8}, {kExtPayOffset, 54}};
  for (auto [offset, value] : fields) {
    for (std::uint16_t load : {kLdWAbs, kLdHAbs, kLdBAbs}) {  // the size does not matter
      EXPECT_EQ(run({stmt(load, ext(offset)), stmt(kRetA)}, kBytes, ctx), value) << offset;
    }
  }
  EXPECT_EQ(
      run({stmt(kLdImm, 0xf0), stmt(kLdxImm, 0x3c), stmt(kLdWAbs, ext(kExtAluXorX)), stmt(kRetA)},
          {}),
      0xccu);
}

// Like the kernel, ifindex and hatype of a packet that came through no device end the run with
// the current A.
TEST(Jit, DeviceFieldsWithoutDeviceReturnA) {
  Context ctx;
  ctx.ifindex = 4;
  ctx.has_device = false;
  for (std::uint32_t offset : {kExtIfIndex, kExtHaType}) {
    EXPECT_EQ(run({stmt(kLdImm, 42), stmt(kLdWAbs, ext(offset)), stmt(kRetK, 1)}, {}, ctx), 42u);
    EXPECT_EQ(run({stmt(kLdWAbs, 0), stmt(kLdWAbs, ext(offset)), stmt(kRetK, 1)}, kBytes, ctx),
              0x01020304u);
  }
  ctx.has_device = true;
  EXPECT_EQ(run({stmt(kLdImm, 42), stmt(kLdWAbs, ext(kExtIfIndex)), stmt(kRetA)}, {}, ctx), 4u);
}

TEST(Jit, RandomComesFromTheContextSource) {
  SplitMix64 reference(7);
  const std::uint32_t first = reference.next();
  const std::uint32_t second = reference.next();
  EXPECT_EQ(run({stmt(kLdWAbs, ext(kExtRandom)), stmt(kRetA)}, {}), first);
  EXPECT_EQ(run({stmt(kLdWAbs, ext(kExtRandom)), stmt(kLdWAbs, ext(kExtRandom)), stmt(kRetA)}, {}),
            second);
  // A and X survive the call.
  EXPECT_EQ(run({stmt(kLdxImm, 5), stmt(kLdWAbs, ext(kExtRandom)), stmt(kTxa), stmt(kRetA)}, {}),
            5u);
}

Packet netlink_attributes() {
  // At offset 2: {len 8, type 1} {len 6, type 2 | NLA_F_NESTED} (padded to 8)
  //              {len 12, type 3, nested: {len 4, type 7} {len 4, type 8}}
  Packet p(2, 0xee);
  auto attr = [&](std::uint16_t len, std::uint16_t type) {
    p.push_back(static_cast<std::uint8_t>(len));
    p.push_back(static_cast<std::uint8_t>(len >> 8));
    p.push_back(static_cast<std::uint8_t>(type));
    p.push_back(static_cast<std::uint8_t>(type >> 8));
  };
  attr(8, 1);
  p.insert(p.end(), 4, 0xaa);
  attr(6, 0x8002);
  p.insert(p.end(), 4, 0xbb);
  attr(12, 3);
  attr(4, 7);
  attr(4, 8);
  return p;
}

TEST(Jit, NetlinkAttributes) {
  const Packet p = netlink_attributes();
  auto nla = [&](std::uint32_t a, std::uint32_t x, std::uint32_t which) {
    return run({stmt(kLdImm, a), stmt(kLdxImm, x), stmt(kLdWAbs, ext(which)), stmt(kRetA)}, p);
  };
  EXPECT_EQ(nla(2, 1, kExtNlAttr), 2u);
  EXPECT_EQ(nla(2, 2, kExtNlAttr), 10u);  // the type is masked
  EXPECT_EQ(nla(2, 3, kExtNlAttr), 18u);
  EXPECT_EQ(nla(2, 7, kExtNlAttr), 0u);  // nested, not at the top level
  EXPECT_EQ(nla(10, 3, kExtNlAttr), 18u);
  EXPECT_EQ(nla(18, 7, kExtNlAttrNest), 22u);
  EXPECT_EQ(nla(18, 8, kExtNlAttrNest), 26u);
  EXPECT_EQ(nla(18, 3, kExtNlAttrNest), 0u);
  EXPECT_EQ(nla(static_cast<std::uint32_t>(p.size()) - 3, 1, kExtNlAttr), 0u);
  EXPECT_EQ(nla(0xffffffff, 1, kExtNlAttrNest), 0u);
}

// The code pages are never writable once filled, and the JitCode owns them.
TEST(JitCode, CodeIsExecutableAndNotWritable) {
  auto code = JitCode::compile(Program{stmt(kLdLen), stmt(kRetA)});
  ASSERT_TRUE(code);
  const auto address = reinterpret_cast<std::uintptr_t>(code->code());
  std::ifstream maps("/proc/self/maps");
  std::string line;
  bool found = false;
  while (std::getline(maps, line)) {
    std::uintptr_t begin = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &begin, &end, perms) != 3) continue;
    if (address < begin || address >= end) continue;
    found = true;
    EXPECT_STREQ(perms, "r-xp") << line;
  }
  EXPECT_TRUE(found);
  EXPECT_GT(code->code_size(), 0u);

  JitCode moved = std::move(*code);
  EXPECT_EQ(moved.code(), reinterpret_cast<const void*>(address));
  EXPECT_EQ(moved.run(kBytes.data(), 7, {}), 7u);
  auto other = JitCode::compile(Program{stmt(kRetK, 3)});
  ASSERT_TRUE(other);
  moved = std::move(*other);
  EXPECT_EQ(moved.run(kBytes.data(), 7, {}), 3u);
}

TEST(JitCode, RejectsWhatItCannotTranslate) {
  EXPECT_EQ(JitCode::compile(Program{}).error().code, EINVAL);
  EXPECT_EQ(JitCode::compile(Program{stmt(0xffff), stmt(kRetA)}).error().code, EINVAL);
  EXPECT_EQ(JitCode::compile(Program{jump(kJeqK, 0, 5, 0), stmt(kRetA)}).error().code, EINVAL);
  EXPECT_EQ(JitCode::compile(Program{stmt(kLdImm)}).error().code, EINVAL);
  EXPECT_EQ(JitCode::compile(Program{stmt(kLdMem, 16), stmt(kRetA)}).error().code, EINVAL);
  EXPECT_TRUE(JitCode::available());
}

}  // namespace
}  // namespace ninep::bpf
