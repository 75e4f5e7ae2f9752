// The VM's semantics, instruction by instruction, at the edges.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "bpf/random.h"
#include "bpf/text.h"
#include "bpf/vm.h"
#include "engines.h"

namespace ninep::bpf {
namespace {

using Bytes = std::vector<std::uint8_t>;

Vm vm_of(std::string_view text, Engine engine = Engine::Interpreter) {
  auto p = parse_assembler(text);
  EXPECT_TRUE(p) << p.error().message;
  auto vm = Vm::create(p ? *p : Program{{0x06, 0, 0, 0}}, engine);
  if (!vm) {
    ADD_FAILURE() << vm.error().message << "\n" << text;
    return std::move(*Vm::create(Program{{0x06, 0, 0, 0xbad}}, Engine::Interpreter));
  }
  return std::move(*vm);
}

// The interpreter's verdict; every other engine must agree with it.
std::uint32_t run(std::string_view text, const Bytes& packet = {}, const Context* ctx = nullptr) {
  std::uint32_t reference = 0;
  for (Engine engine : testing::available_engines()) {
    Vm vm = vm_of(text, engine);
    const std::uint32_t verdict = ctx ? vm.run(packet, *ctx) : vm.run(packet);
    if (engine == Engine::Interpreter)
      reference = verdict;
    else
      EXPECT_EQ(verdict, reference)
          << testing::engine_name(engine) << " disagrees with the interpreter on\n"
          << text;
  }
  return reference;
}

// A = a; X = x; then `op`; ret a.
std::uint32_t alu(std::uint32_t a, std::string_view op, std::uint32_t x = 0) {
  return run("ld #" + std::to_string(a) + "\nldx #" + std::to_string(x) + "\n" + std::string(op) +
             "\nret a");
}

Bytes iota(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i + 1);
  return b;
}

TEST(Vm, AluWithConstants) {
  EXPECT_EQ(alu(0xffffffff, "add #1"), 0u);
  EXPECT_EQ(alu(5, "add #-1"), 4u);
  EXPECT_EQ(alu(0, "sub #1"), 0xffffffffu);
  EXPECT_EQ(alu(10, "sub #3"), 7u);
  EXPECT_EQ(alu(0x10000, "mul #0x10000"), 0u);
  EXPECT_EQ(alu(3, "mul #7"), 21u);
  EXPECT_EQ(alu(3, "mul #8"), 24u);
  EXPECT_EQ(alu(0x80000001, "mul #2"), 2u);
  EXPECT_EQ(alu(7, "div #2"), 3u);
  EXPECT_EQ(alu(0xffffffff, "div #8"), 0x1fffffffu);
  EXPECT_EQ(alu(0xffffffff, "div #0xffffffff"), 1u);
  EXPECT_EQ(alu(0xffffffff, "div #0x80000000"), 1u);
  EXPECT_EQ(alu(7, "mod #3"), 1u);
  EXPECT_EQ(alu(0xffffffff, "mod #16"), 15u);
  EXPECT_EQ(alu(0xffffffff, "mod #0x80000000"), 0x7fffffffu);
  EXPECT_EQ(alu(0xf0f0, "and #0xff00"), 0xf000u);
  EXPECT_EQ(alu(0xf0f0, "or #0x0f"), 0xf0ffu);
  EXPECT_EQ(alu(0xf0f0, "xor #0xffff"), 0x0f0fu);
  EXPECT_EQ(alu(1, "lsh #31"), 0x80000000u);
  EXPECT_EQ(alu(0x80000000, "rsh #31"), 1u);
  EXPECT_EQ(alu(0x12345678, "lsh #0"), 0x12345678u);
  EXPECT_EQ(alu(0, "neg"), 0u);
  EXPECT_EQ(alu(1, "neg"), 0xffffffffu);
  EXPECT_EQ(alu(0x80000000, "neg"), 0x80000000u);
}

TEST(Vm, AluWithX) {
  EXPECT_EQ(alu(0xffffffff, "add x", 2), 1u);
  EXPECT_EQ(alu(1, "sub x", 2), 0xffffffffu);
  EXPECT_EQ(alu(0x10001, "mul x", 0x10001), 0x20001u);
  EXPECT_EQ(alu(100, "div x", 7), 14u);
  EXPECT_EQ(alu(100, "mod x", 7), 2u);
  EXPECT_EQ(alu(0xff, "and x", 0x0f), 0x0fu);
  EXPECT_EQ(alu(0xf0, "or x", 0x0f), 0xffu);
  EXPECT_EQ(alu(0xff, "xor x", 0x0f), 0xf0u);
  EXPECT_EQ(alu(0xff, "ld xor_x", 0x0f), 0xf0u);  // SKF_AD_ALU_XOR_X
  // Shift counts from X are masked with & 31, as the kernel does.
  EXPECT_EQ(alu(1, "lsh x", 31), 0x80000000u);
  EXPECT_EQ(alu(1, "lsh x", 32), 1u);
  EXPECT_EQ(alu(1, "lsh x", 33), 2u);
  EXPECT_EQ(alu(0x80000000, "rsh x", 35), 0x10000000u);
  EXPECT_EQ(alu(0x80000000, "rsh x", 0xffffffff), 1u);
}

TEST(Vm, DivisionByXZeroEndsTheRunWithVerdictZero) {
  EXPECT_EQ(run("ld #100\nldx #0\ndiv x\nret #77"), 0u);
  EXPECT_EQ(run("ld #100\nldx #0\nmod x\nret #77"), 0u);
  EXPECT_EQ(run("ld #100\nldx #1\ndiv x\nret #77"), 77u);
}

TEST(Vm, AbsoluteLoadsAreBigEndianAndBoundedByThePacket) {
  const Bytes p = {0x12, 0x34, 0x56, 0x78, 0x9a};
  EXPECT_EQ(run("ld [0]\nret a", p), 0x12345678u);
  EXPECT_EQ(run("ld [1]\nret a", p), 0x3456789au);
  EXPECT_EQ(run("ld [2]\nret #1", p), 0u);  // would read byte 5
  EXPECT_EQ(run("ldh [3]\nret a", p), 0x789au);
  EXPECT_EQ(run("ldh [4]\nret #1", p), 0u);
  EXPECT_EQ(run("ldb [4]\nret a", p), 0x9au);
  EXPECT_EQ(run("ldb [5]\nret #1", p), 0u);
  EXPECT_EQ(run("ldb [0]\nret #1", Bytes{}), 0u);
  EXPECT_EQ(run("ld [0x7fffffff]\nret #1", p), 0u);
  EXPECT_EQ(run("ld [0xffdffffe]\nret #1", p), 0u);   // negative, below the header areas
  EXPECT_EQ(run("ldb [0xffe00000]\nret #1", p), 0u);  // SKF_LL_OFF: no link-layer header here
  EXPECT_EQ(run("ldb [0xfff00000]\nret #1", p), 0u);  // SKF_NET_OFF: no network header here
}

TEST(Vm, HeaderAreasAreReachedThroughNegativeOffsets) {
  Bytes p = iota(40);
  Context ctx;
  ctx.link_header = 0;
  ctx.network_header = 14;
  EXPECT_EQ(run("ldb [0xfff00000]\nret a", p, &ctx), 15u);         // SKF_NET_OFF + 0
  EXPECT_EQ(run("ldh [0xfff00002]\nret a", p, &ctx), 0x1112u);     // SKF_NET_OFF + 2
  EXPECT_EQ(run("ld [0xffe00000]\nret a", p, &ctx), 0x01020304u);  // SKF_LL_OFF + 0
  EXPECT_EQ(run("ldb [0xfff00019]\nret a", p, &ctx), 40u);         // the last byte
  EXPECT_EQ(run("ldb [0xfff0001a]\nret #1", p, &ctx), 0u);         // past the end
  EXPECT_EQ(run("ldh [0xfff00019]\nret #1", p, &ctx), 0u);
  EXPECT_EQ(run("ldx #0xfff00000\nldb [x + 3]\nret a", p, &ctx), 18u);  // X + k wraps into it
  EXPECT_EQ(run("ldx #0xffffffff\nldb [x + 0]\nret #1", p, &ctx), 0u);  // SKF_NET_OFF + 0xfffff
  EXPECT_EQ(run("ldx 4*([0xfff00000]&0xf)\ntxa\nret a", p, &ctx), 4u * (15 & 0xf));
  ctx.link_header = -1;
  EXPECT_EQ(run("ld [0xffe00000]\nret #1", p, &ctx), 0u);
}

TEST(Vm, IndirectLoadsWrapXPlusKModulo2To32) {
  const Bytes p = iota(10);
  EXPECT_EQ(run("ldx #2\nldb [x + 3]\nret a", p), 6u);
  EXPECT_EQ(run("ldx #0xffffffff\nldb [x + 2]\nret a", p), 2u);          // X + k = 1
  EXPECT_EQ(run("ldx #0xfffffff0\nldh [x + 0x18]\nret a", p), 0x090au);  // X + k = 8
  EXPECT_EQ(run("ldx #6\nld [x + 0]\nret a", p), 0x0708090au);
  EXPECT_EQ(run("ldx #7\nld [x + 0]\nret #1", p), 0u);
  EXPECT_EQ(run("ldx #0x80000000\nldb [x + 0]\nret #1", p), 0u);
  EXPECT_EQ(run("ldx #9\nldb [x + 0]\nret a", p), 10u);
  EXPECT_EQ(run("ldx #10\nldb [x + 0]\nret #1", p), 0u);
}

TEST(Vm, LoadMemShiftIsTheIpHeaderLengthIdiom) {
  Bytes p = iota(20);
  p[14] = 0x45;
  EXPECT_EQ(run("ldx 4*([14]&0xf)\ntxa\nret a", p), 20u);
  EXPECT_EQ(run("ld #9\nldx 4*([14]&0xf)\nret a", p), 9u);  // A untouched
  EXPECT_EQ(run("ldx 4*([20]&0xf)\nret #1", p), 0u);
  EXPECT_EQ(run("ldx 4*([19]&0xf)\ntxa\nret a", p), 4u * (20 & 0xf));
}

TEST(Vm, LengthLoads) {
  EXPECT_EQ(run("ld len\nret a", iota(77)), 77u);
  EXPECT_EQ(run("ldx len\ntxa\nret a", iota(1500)), 1500u);
  EXPECT_EQ(run("ld len\nadd #1\nret a", Bytes{}), 1u);
}

TEST(Vm, RegistersAndScratchStartAtZero) {
  EXPECT_EQ(run("ret a"), 0u);
  EXPECT_EQ(run("txa\nret a"), 0u);
}

TEST(Vm, ScratchMemoryHasSixteenIndependentWords) {
  std::string text;
  for (int i = 0; i < 16; ++i)
    text += "ld #" + std::to_string(100 + i) + "\nst M[" + std::to_string(i) + "]\n";
  for (int i = 0; i < 16; ++i) text += "ldx M[" + std::to_string(i) + "]\nadd x\n";
  text += "ld M[7]\nldx M[15]\nadd x\nret a";  // 107 + 115
  EXPECT_EQ(run(text), 222u);
  EXPECT_EQ(run("ldx #5\nstx M[0]\nld M[0]\nret a"), 5u);
  EXPECT_EQ(run("ld #6\ntax\nld #0\ntxa\nret a"), 6u);
}

TEST(Vm, ConditionalJumpsCompareUnsigned) {
  auto check = [](std::string_view cond, std::uint32_t a, std::uint32_t k, bool expected) {
    const std::string ks = std::to_string(k), as = std::to_string(a);
    EXPECT_EQ(
        run("ld #" + as + "\n" + std::string(cond) + " #" + ks + ", yes\nret #1\nyes: ret #2"),
        expected ? 2u : 1u)
        << cond << " " << a << " " << k;
    EXPECT_EQ(run("ld #" + as + "\nldx #" + ks + "\n" + std::string(cond) +
                  " x, yes\nret #1\nyes: ret #2"),
              expected ? 2u : 1u)
        << cond << " x " << a << " " << k;
  };
  check("jeq", 5, 5, true);
  check("jeq", 5, 6, false);
  check("jgt", 0xffffffff, 1, true);
  check("jgt", 1, 1, false);
  check("jge", 1, 1, true);
  check("jge", 0, 0xffffffff, false);
  check("jset", 0x10, 0x30, true);
  check("jset", 0x10, 0x20, false);
  // The negated mnemonics fall through when the condition is false.
  EXPECT_EQ(run("ld #5\njneq #5, no\nret #1\nno: ret #2"), 1u);
  EXPECT_EQ(run("ld #4\njlt #5, lt\nret #1\nlt: ret #2"), 2u);
  EXPECT_EQ(run("ld #5\njle #5, le\nret #1\nle: ret #2"), 2u);
  EXPECT_EQ(run("ld #1\njeq #1, t, f\nt: ret #1\nf: ret #2"), 1u);
  EXPECT_EQ(run("ld #0\njeq #1, t, f\nt: ret #1\nf: ret #2"), 2u);
}

TEST(Vm, UnconditionalJumpsChain) {
  EXPECT_EQ(run("ja a1\nret #1\na1: ja a2\nret #2\na2: ja a3\nret #3\na3: ret #4"), 4u);
  EXPECT_EQ(run("ld #3\njeq #3, j1, j2\nj1: ja r1\nj2: ja r2\nr1: ret #10\nr2: ret #20"), 10u);
  EXPECT_EQ(run("jeq #0, same, same\nsame: ret #9"), 9u);
}

TEST(Vm, AJumpIntoTheJumpOfALoadJumpPairSeesTheJumpAlone) {
  // Instruction 2 (ldh) and 3 (jeq) run fused; 1 jumps straight to 3 with A = 7.
  const char* text =
      "ld #7\n"
      "jeq #7, cmp\n"
      "ldh [0]\n"
      "cmp: jeq #7, yes\n"
      "ret #1\n"
      "yes: ret #2";
  EXPECT_EQ(run(text, Bytes{0x00, 0x07}), 2u);
  EXPECT_EQ(
      run("ld #6\njeq #7, cmp\nldh [0]\ncmp: jeq #7, yes\nret #1\nyes: ret #2", Bytes{0x00, 0x07}),
      2u);
  EXPECT_EQ(
      run("ld #6\njeq #7, cmp\nldh [0]\ncmp: jeq #7, yes\nret #1\nyes: ret #2", Bytes{0x00, 0x08}),
      1u);
  EXPECT_EQ(run("ld #6\njeq #7, cmp\nldh [0]\ncmp: jeq #7, yes\nret #1\nyes: ret #2", Bytes{0x00}),
            0u);
}

TEST(Vm, FusedLoadsAndJumpsOfEverySizeAndCondition) {
  const Bytes p = {0x00, 0x00, 0x01, 0x00, 0x05};
  for (const char* size : {"ld", "ldh", "ldb"})
    for (const char* jump : {"jeq", "jgt", "jge", "jset"})
      for (bool indirect : {false, true}) {
        const std::string load =
            indirect ? std::string(size) + " [x + 1]" : std::string(size) + " [1]";
        const std::string text =
            "ldx #0\n" + load + "\n" + jump + " #1, yes\nret a\nyes: add #1000\nret a";
        const std::uint32_t a = size == std::string("ld")    ? 0x00010005u
                                : size == std::string("ldh") ? 1u
                                                             : 0u;
        bool taken = jump == std::string("jeq")   ? a == 1
                     : jump == std::string("jgt") ? a > 1
                     : jump == std::string("jge") ? a >= 1
                                                  : (a & 1) != 0;
        EXPECT_EQ(run(text, p), taken ? a + 1000 : a) << text;
        EXPECT_EQ(run(text, Bytes(p.begin(), p.begin() + 1)), 0u) << text;
      }
}

TEST(Vm, VerdictIsRawAndKeptLengthIsTheMinimum) {
  Vm vm = vm_of("ret #100000");
  const Bytes p = iota(64);
  EXPECT_EQ(vm.run(p), 100000u);
  EXPECT_EQ(vm.kept_length(p), 64u);
  EXPECT_EQ(Vm::kept_length(10, 64), 10u);
  EXPECT_EQ(Vm::kept_length(0, 64), 0u);
  EXPECT_EQ(run("ld #0xffffffff\nret a"), 0xffffffffu);
}

TEST(Vm, ExtensionsReadTheContext) {
  Context ctx;
  ctx.protocol = 0x86dd;
  ctx.pkt_type = 3;
  ctx.ifindex = 7;
  ctx.mark = 0xdeadbeef;
  ctx.queue = 2;
  ctx.hatype = 1;
  ctx.rxhash = 0x12345678;
  ctx.cpu = 5;
  ctx.vlan_tci = 0x1064;
  ctx.vlan_present = 1;
  ctx.vlan_tpid = 0x8100;
  ctx.payload_offset = 54;
  const std::pair<const char*, std::uint32_t> cases[] = {
      {"proto", 0x86dd},    {"type", 3},       {"ifidx", 7},           {"mark", 0xdeadbeef},
      {"queue", 2},         {"hatype", 1},     {"rxhash", 0x12345678}, {"cpu", 5},
      {"vlan_tci", 0x1064}, {"vlan_avail", 1}, {"vlan_tpid", 0x8100},  {"poff", 54}};
  for (const auto& [name, value] : cases) {
    EXPECT_EQ(run(std::string("ld ") + name + "\nret a", {}, &ctx), value) << name;
    EXPECT_EQ(run(std::string("ldb ") + name + "\nret a", {}, &ctx), value) << "ldb " << name;
    EXPECT_EQ(run(std::string("ld ") + name + "\nret a"), 0u) << name << " by default";
  }
}

TEST(Vm, InterfaceLoadsWithoutADeviceEndTheRunWithA) {
  Context ctx;
  ctx.has_device = false;
  ctx.ifindex = 3;
  EXPECT_EQ(run("ld #77\nld ifidx\nret #1", {}, &ctx), 77u);
  EXPECT_EQ(run("ld #78\nld hatype\nret #1", {}, &ctx), 78u);
  EXPECT_EQ(run("ld #79\nld mark\nret #1", {}, &ctx), 1u);
}

std::uint32_t counter(void* state) {
  return ++*static_cast<std::uint32_t*>(state);
}

TEST(Vm, RandomComesFromTheContextOrAFixedSeedGeneratorPerVm) {
  std::uint32_t count = 40;
  Context ctx;
  ctx.random = &counter;
  ctx.random_state = &count;
  Vm vm = vm_of("ld rand\ntax\nld rand\nadd x\nret a");
  EXPECT_EQ(vm.run({}, ctx), 41u + 42u);
  EXPECT_EQ(count, 42u);
  // Without one, every Vm draws the same sequence.
  Vm a = vm_of("ld rand\nret a");
  Vm b = vm_of("ld rand\nret a");
  std::vector<std::uint32_t> sa, sb;
  for (int i = 0; i < 5; ++i) sa.push_back(a.run({})), sb.push_back(b.run(Bytes{}, Context{}));
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa[0], sa[1]);
}

TEST(Vm, RunsFromSeveralThreadsAtOnce) {
  const Vm vm = vm_of("ld rand\nldh [0]\nret a");
  std::vector<std::thread> threads;
  std::atomic<int> wrong = 0;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i)
        if (vm.run(Bytes{0x01, 0x02}) != 0x0102) ++wrong;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

// struct nlattr { u16 nla_len; u16 nla_type; } in host order.
void put_attribute(Bytes& b, std::uint16_t len, std::uint16_t type) {
  std::uint8_t h[4];
  std::memcpy(h, &len, 2);
  std::memcpy(h + 2, &type, 2);
  b.insert(b.end(), h, h + 4);
}

TEST(Vm, NetlinkAttributeLookups) {
  Bytes p(16, 0);          // a netlink header's worth of bytes
  put_attribute(p, 5, 1);  // at 16: 5 bytes, padded to 8
  p.insert(p.end(), {0xaa, 0, 0, 0});
  put_attribute(p, 12, 0x8002);  // at 24: nested (NLA_F_NESTED) type 2, 12 bytes
  put_attribute(p, 8, 7);        //   at 28: type 7 inside
  p.insert(p.end(), {1, 2, 3, 4});
  put_attribute(p, 4, 3);  // at 36: type 3, empty
  EXPECT_EQ(run("ld #16\nldx #1\nld nla\nret a", p), 16u);
  EXPECT_EQ(run("ld #16\nldx #2\nld nla\nret a", p), 24u);  // the type mask drops NLA_F_NESTED
  EXPECT_EQ(run("ld #16\nldx #3\nld nla\nret a", p), 36u);
  EXPECT_EQ(run("ld #16\nldx #7\nld nla\nret a", p), 0u);  // only nested
  EXPECT_EQ(run("ld #24\nldx #7\nld nlan\nret a", p), 28u);
  EXPECT_EQ(run("ld #24\nldx #3\nld nlan\nret a", p), 0u);
  EXPECT_EQ(run("ld #37\nldx #3\nld nla\nret a", p), 0u);  // past len - 4
  EXPECT_EQ(run("ld #0xffffffff\nldx #3\nld nla\nret a", p), 0u);
  Bytes bad = p;
  bad[16] = 200;  // an attribute longer than what is left ends the walk
  EXPECT_EQ(run("ld #16\nldx #3\nld nla\nret a", bad), 0u);
}

TEST(Vm, CreateValidatesAndPicksAnEngine) {
  auto bad = Vm::create(Program{{0x34, 0, 0, 0}, {0x16, 0, 0, 0}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, EINVAL);
  EXPECT_EQ(bad.error().message, "instruction 0: division by constant 0");
  const Program ok = {{0x06, 0, 0, 1}};
  auto vm = Vm::create(ok);
  ASSERT_TRUE(vm);
  EXPECT_EQ(vm->program().size(), 1u);
  auto interp = Vm::create(ok, Engine::Interpreter);
  ASSERT_TRUE(interp);
  EXPECT_EQ(interp->engine(), Engine::Interpreter);
  EXPECT_EQ(interp->run(Bytes{}), 1u);
  // The JIT, where there is one; otherwise a clear ENOSYS.
  auto jit = Vm::create(ok, Engine::Jit);
  if (jit) {
    EXPECT_EQ(jit->engine(), Engine::Jit);
    EXPECT_EQ(jit->run(Bytes{}), 1u);
  } else {
    EXPECT_EQ(jit.error().code, ENOSYS);
  }
}

TEST(Vm, CreateFromTypedInstructions) {
  const std::vector<Instruction> program = {LoadAbsolute{.off = 0, .size = 1},
                                            ALUOpConstant{ALUOp::Add, 1}, RetA{}};
  auto vm = Vm::create(program);
  ASSERT_TRUE(vm) << vm.error().message;
  EXPECT_EQ(vm->run(Bytes{41}), 42u);
  const std::vector<Instruction> bad = {LoadScratch{Register::A, 16}, RetA{}};
  auto err = Vm::create(bad);
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().message, "instruction 0: bad scratch slot 16 (0..15)");
}

}  // namespace
}  // namespace ninep::bpf
