#include "bpf/vm.h"

#include "bpf/assemble.h"
#include "bpf/interpreter.h"
#include "bpf/validate.h"

namespace ninep::bpf {

Vm::Vm(std::vector<RawInstruction> instructions, engine::Program program)
    : instructions_(std::move(instructions)),
      program_(std::move(program)),
      shared_(std::make_unique<Shared>()) {}

Result<Vm> Vm::create(std::span<const RawInstruction> program, std::optional<Engine> force) {
  if (auto valid = validate(program); !valid) return std::unexpected(valid.error());
  // The one place that chooses an engine.
  if (force == Engine::Jit) return fail(ENOSYS, "JIT not available");
  engine::Program compiled = interpreter::compile(program);
  return Vm(std::vector<RawInstruction>(program.begin(), program.end()), std::move(compiled));
}

Result<Vm> Vm::create(std::span<const Instruction> program, std::optional<Engine> force) {
  auto raw = assemble(program);
  if (!raw) return std::unexpected(raw.error());
  return create(std::span<const RawInstruction>(*raw), force);
}

std::uint32_t Vm::run_with_own_random(std::span<const std::uint8_t> packet,
                                      const Context& context) const {
  Context with_random = context;
  with_random.random = shared_->context.random;
  with_random.random_state = shared_->context.random_state;
  return program_.run(packet.data(), length_of(packet), &with_random, program_.state);
}

}  // namespace ninep::bpf
