// What the Vm needs from an execution engine (the interpreter, the JIT): one function that runs
// a compiled program, and the state it runs from.
#pragma once

#include <cstdint>
#include <memory>

#include "bpf/context.h"

namespace ninep::bpf {

// The ways a Vm can run a program. Vm::engine() says which one a Vm uses.
enum class Engine { Interpreter, Jit };

namespace engine {

// Runs the compiled program kept in `state` over `length` bytes at `packet`. `context` is never
// null and its `random` is always set (the Vm supplies its own generator when the caller's is
// null). The JIT's generated code can have exactly this signature and ignore `state`.
using RunFunction = std::uint32_t (*)(const std::uint8_t* packet, std::uint32_t length,
                                      const Context* context, const void* state);

// Owns whatever a compiled program needs to stay alive (decoded instructions, code pages).
class Compiled {
 public:
  virtual ~Compiled() = default;
};

// One program compiled by one engine: call run(packet, length, context, state).
struct Program {
  Engine engine = Engine::Interpreter;
  RunFunction run = nullptr;
  const void* state = nullptr;
  std::unique_ptr<Compiled> owner;  // keeps `state` valid
};

}  // namespace engine
}  // namespace ninep::bpf
