// Validate and run arbitrary raw programs over arbitrary packets.
//
// Input: byte 0 = instruction count n (0..255), then n raw instructions of 8 bytes (struct
// sock_filter, host order), then the packet. Checks: the validator never crashes; a program it
// accepts creates a Vm whose runs never read outside the packet (ASan) under several contexts;
// disassemble/assemble is the identity; the text forms round-trip.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "bpf/assemble.h"
#include "bpf/text.h"
#include "bpf/validate.h"
#include "bpf/vm.h"

using namespace ninep::bpf;

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

std::uint32_t counter(void* state) {
  return (*static_cast<std::uint32_t*>(state))++ * 2654435761u;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t n = std::min<std::size_t>(data[0], (size - 1) / sizeof(RawInstruction));
  std::vector<RawInstruction> program(n);
  if (n > 0) std::memcpy(program.data(), data + 1, n * sizeof(RawInstruction));
  const std::size_t offset = 1 + n * sizeof(RawInstruction);
  // The packet in its own allocation, so that ASan sees any read past its end.
  std::vector<std::uint8_t> packet(data + offset, data + size);

  for (const RawInstruction& r : program) {
    auto back = assemble(disassemble(r));
    check(back && *back == r);
  }
  auto text = parse_assembler(print_assembler(program));
  check(text && *text == program);

  const bool accepted = !find_rejection(program).has_value();
  auto vm = Vm::create(program, Engine::Interpreter);  // fuzz_bpf_jit compares the engines
  check(vm.has_value() == accepted);
  if (!vm) return 0;

  vm->run(packet);
  Context ctx;
  std::uint32_t state = 1;
  ctx.random = &counter;
  ctx.random_state = &state;
  const std::uint32_t verdict = vm->run(packet, ctx);
  state = 1;
  check(vm->run(packet, ctx) == verdict);  // the same inputs, the same verdict
  ctx.has_device = false;
  ctx.network_header = 0;
  vm->run(packet, ctx);
  ctx.has_device = true;
  ctx.link_header = 0;
  ctx.network_header = static_cast<std::int32_t>(packet.size() / 2);
  vm->run(packet, ctx);
  check(vm->kept_length(packet, ctx) <= packet.size());
  return 0;
}
