// The engines a Vm can use on this machine, so that semantic and differential tests cover each.
#pragma once

#include <vector>

#include "bpf/vm.h"

namespace ninep::bpf::testing {

inline const char* engine_name(Engine e) {
  return e == Engine::Jit ? "jit" : "interpreter";
}

// The interpreter first (the reference), then the JIT where there is one.
inline const std::vector<Engine>& available_engines() {
  static const std::vector<Engine> engines = [] {
    std::vector<Engine> out = {Engine::Interpreter};
    const RawInstruction ret[] = {{0x06, 0, 0, 0}};
    if (Vm::create(ret, Engine::Jit)) out.push_back(Engine::Jit);
    return out;
  }();
  return engines;
}

}  // namespace ninep::bpf::testing
