// The JIT behind the Vm's engine interface.
#include <utility>

#include "bpf/jit.h"

namespace ninep::bpf::jit {
namespace {

class CompiledCode final : public engine::Compiled {
 public:
  explicit CompiledCode(JitCode code) : code_(std::move(code)) {}

 private:
  JitCode code_;  // owns the code pages
};

}  // namespace

Result<engine::Program> compile(std::span<const RawInstruction> program) {
  auto code = JitCode::compile(program);
  if (!code) return std::unexpected(std::move(code.error()));
  engine::Program compiled;
  compiled.engine = Engine::Jit;
  compiled.run = code->run_function();
  compiled.owner = std::make_unique<CompiledCode>(std::move(*code));
  return compiled;
}

}  // namespace ninep::bpf::jit
