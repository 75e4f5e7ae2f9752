#include "bpf/vm.h"

#include "bpf/assemble.h"
#include "bpf/interpreter.h"
#include "bpf/jit.h"
#include "bpf/validate.h"

namespace ninep::bpf {

Vm::Vm(std::vector<RawInstruction> instructions, engine::Program program)
    : instructions_(std::move(instructions)),
      program_(std::move(program)),
      shared_(std::make_unique<Shared>()) {}

Result<Vm> Vm::create(std::span<const RawInstruction> program, std::optional<Engine> force) {
  if (auto valid = validate(program); !valid) return std::unexpected(valid.error());
  // The one place that chooses an engine: the JIT unless the interpreter is forced; the
  // interpreter also when the JIT fails (another CPU, executable memory refused) unless the JIT
  // is forced.
  std::vector<RawInstruction> instructions(program.begin(), program.end());
  if (force != Engine::Interpreter) {
    auto jitted = jit::compile(program);
    if (jitted) return Vm(std::move(instructions), std::move(*jitted));
    if (force == Engine::Jit) return std::unexpected(std::move(jitted.error()));
  }
  return Vm(std::move(instructions), interpreter::compile(program));
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
