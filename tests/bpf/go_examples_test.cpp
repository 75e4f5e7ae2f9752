// The examples of golang.org/x/net/bpf's documentation, written the same way in C++.
#include <gtest/gtest.h>

#include "bpf/assemble.h"
#include "bpf/random.h"
#include "bpf/vm.h"

namespace ninep::bpf {
namespace {

std::vector<std::uint8_t> ethernet_frame(std::uint16_t ethertype, std::size_t size = 60) {
  std::vector<std::uint8_t> f(size, 0);
  f[12] = static_cast<std::uint8_t>(ethertype >> 8);
  f[13] = static_cast<std::uint8_t>(ethertype);
  return f;
}

TEST(GoExamples, ArpFilter) {
  // "This packet filter selects all ARP packets."
  auto raw = assemble(std::vector<Instruction>{
      // Load "EtherType" field from the ethernet header.
      LoadAbsolute{.off = 12, .size = 2},
      // Skip over the next instruction if EtherType is not ARP.
      JumpIf{.cond = JumpTest::NotEqual, .val = 0x0806, .skip_true = 1},
      // Verdict is "send up to 4k of the packet to userspace."
      RetConstant{.val = 4096},
      // Verdict is "ignore packet."
      RetConstant{.val = 0},
  });
  ASSERT_TRUE(raw) << raw.error().message;
  // The same bytes as libpcap's `arp` program and ../shared/anchors/bpf/filters/arp.ddd.
  const std::vector<RawInstruction> expected = {
      {0x28, 0, 0, 12}, {0x15, 0, 1, 0x806}, {0x06, 0, 0, 4096}, {0x06, 0, 0, 0}};
  EXPECT_EQ(*raw, expected);

  auto vm = Vm::create(*raw);
  ASSERT_TRUE(vm) << vm.error().message;
  EXPECT_EQ(vm->run(ethernet_frame(0x0806)), 4096u);
  EXPECT_EQ(vm->kept_length(ethernet_frame(0x0806)), 60u);
  EXPECT_EQ(vm->run(ethernet_frame(0x0800)), 0u);
  EXPECT_EQ(vm->run(std::vector<std::uint8_t>(13, 0)), 0u);  // too short for the ethertype
}

// A seeded source of randomness for the sample: SplitMix64 with a fixed seed.
std::size_t sampled(const Vm& vm, std::uint64_t seed, std::size_t packets) {
  SplitMix64 generator(seed);
  const Context ctx = with_random(Context{}, generator);
  const auto frame = ethernet_frame(0x0800, 100);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < packets; ++i) kept += vm.run(frame, ctx) != 0;
  return kept;
}

TEST(GoExamples, OnePercentSampleWithExtRand) {
  // "This packet filter captures a random 1% sample of traffic."
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wparentheses"
  const std::vector<Instruction> verbatim = {
      // Get a 32-bit random number from the Linux kernel.
      LoadExtension{.ext = Extension::Random},
      // 1% dice roll?
      JumpIf{.cond = JumpTest::LessThan, .val = 2 ^ 32 / 100, .skip_false = 1},
      // Capture.
      RetConstant{.val = 4096},
      // Ignore.
      RetConstant{.val = 0},
  };
#pragma GCC diagnostic pop
  // Written verbatim, the threshold is 2 XOR (32 / 100) == 2 in C++ as in Go: the documented
  // program samples 2 packets in 2^32, not 1%.
  EXPECT_EQ(std::get<JumpIf>(verbatim[1]).val, 2u);
  auto vm = Vm::create(verbatim);
  ASSERT_TRUE(vm) << vm.error().message;
  EXPECT_EQ(sampled(*vm, 1, 100000), 0u);

  // What the example means: a threshold of 2^32 / 100.
  std::vector<Instruction> intended = verbatim;
  std::get<JumpIf>(intended[1]).val = static_cast<std::uint32_t>((std::uint64_t{1} << 32) / 100);
  auto one_percent = Vm::create(intended);
  ASSERT_TRUE(one_percent) << one_percent.error().message;
  const std::size_t kept = sampled(*one_percent, 1, 100000);
  EXPECT_GT(kept, 850u);  // 1000 expected; the bounds are > 4 standard deviations away
  EXPECT_LT(kept, 1150u);
  // Seeded, the sample is reproducible.
  EXPECT_EQ(sampled(*one_percent, 1, 100000), kept);
  EXPECT_NE(sampled(*one_percent, 2, 100000), kept);
}

}  // namespace
}  // namespace ninep::bpf
