// JIT versus interpreter on arbitrary programs the validator accepts: any difference in verdict
// traps. The input is decoded into mostly well-formed instructions (opcodes from the kernel's
// list, jump offsets within the program, constants biased to edge values) so that most inputs
// validate; the remaining bytes are the context and the packet.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "bpf/jit.h"
#include "bpf/random.h"
#include "bpf/vm.h"

namespace {

using ninep::bpf::RawInstruction;

constexpr std::uint16_t kOpcodes[] = {0x00, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x80, 0x01,
                                      0x61, 0x81, 0xb1, 0x02, 0x03, 0x04, 0x0c, 0x14, 0x1c, 0x24,
                                      0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74,
                                      0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0x05, 0x15, 0x1d, 0x25,
                                      0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x06, 0x16, 0x07, 0x87};

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint32_t word() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | byte();
    return v;
  }
  const std::uint8_t* rest() const { return data_ + at_; }
  std::size_t rest_size() const { return size_ - at_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

std::uint32_t constant(Input& in) {
  const std::uint8_t mode = in.byte();
  const std::uint32_t raw = in.word();
  switch (mode % 8) {
    case 0:
      return raw & 0x3f;  // small offsets and counts
    case 1:
      return 0xfffff000 + (raw % 16) * 4;  // extensions (SKF_AD_OFF + n)
    case 2:
      return 0u - (raw & 0xff);  // just below 2^32: wrapping X + k
    case 3:
      return 1u << (raw & 31);
    case 4:
      return 0xfff00000 + (raw & 0xff);  // SKF_NET_OFF area
    default:
      return raw;
  }
}

// [guard][data][guard]: one page for packets of up to 4 KiB.
class GuardedPage {
 public:
  GuardedPage() {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    base_ = static_cast<std::uint8_t*>(
        mmap(nullptr, 3 * page_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base_ == MAP_FAILED || mprotect(base_ + page_, page_, PROT_READ | PROT_WRITE) != 0) {
      __builtin_trap();
    }
  }
  std::span<const std::uint8_t> place(const std::uint8_t* bytes, std::size_t n, bool at_end) {
    n = std::min(n, page_);
    std::uint8_t* data = base_ + page_ + (at_end ? page_ - n : 0);
    if (n != 0) std::memcpy(data, bytes, n);
    return {data, n};
  }

 private:
  std::size_t page_ = 0;
  std::uint8_t* base_ = nullptr;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const std::size_t n = 1 + in.byte() % 48;
  std::vector<RawInstruction> program(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t remaining = n - 1 - i;
    RawInstruction& insn = program[i];
    insn.op = kOpcodes[in.byte() % std::size(kOpcodes)];
    insn.jt = static_cast<std::uint8_t>(
        remaining ? in.byte() % std::min<std::size_t>(remaining, 256) : 0);
    insn.jf = static_cast<std::uint8_t>(
        remaining ? in.byte() % std::min<std::size_t>(remaining, 256) : 0);
    insn.k = constant(in);
    if (insn.op == 0x05 && remaining) insn.k %= remaining;
  }
  program.back().op = program.back().k & 1 ? 0x16 : 0x06;  // ret a / ret #k
  auto interpreter = ninep::bpf::Vm::create(program, ninep::bpf::Engine::Interpreter);
  if (!interpreter) return 0;  // the kernel would reject it
  auto jit = ninep::bpf::JitCode::compile(program);
  if (!jit) __builtin_trap();  // every valid program compiles

  ninep::bpf::Context ctx;
  ctx.protocol = static_cast<std::uint16_t>(in.word());
  ctx.ifindex = in.word();
  ctx.mark = in.word();
  ctx.hatype = in.byte();
  ctx.vlan_tci = in.word() & 0xffff;
  ctx.vlan_present = in.byte() & 1;
  ctx.has_device = (in.byte() & 3) != 0;
  const std::uint8_t headers = in.byte();
  ctx.network_header = headers & 1 ? -1 : headers >> 2;
  ctx.link_header = headers & 2 ? -1 : (headers >> 4) * 3;
  const std::uint64_t seed = in.word();
  // The packet ends (or starts) at an inaccessible page: AddressSanitizer does not see the JIT's
  // loads, a read outside the packet faults.
  static GuardedPage guarded;
  const std::span<const std::uint8_t> packet = guarded.place(in.rest(), in.rest_size(), seed & 1);
  ninep::bpf::SplitMix64 jit_random(seed), interpreter_random(seed);
  const std::uint32_t want = interpreter->run(packet, with_random(ctx, interpreter_random));
  const std::uint32_t got = jit->run(packet.data(), static_cast<std::uint32_t>(packet.size()),
                                     with_random(ctx, jit_random));
  if (got != want) __builtin_trap();
  return 0;
}
