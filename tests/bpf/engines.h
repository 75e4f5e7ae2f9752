// The engines a Vm can use on this machine, so that semantic and differential tests cover each.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
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

// A packet for messages: its bytes in hex.
inline std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

// Reports the first disagreement of each engine with the reference (later ones are mostly the same
// bug) and lets the comparison of the other engines go on.
class Disagreements {
 public:
  // `describe()` says what was being compared.
  template <typename T, typename Describe>
  void check(Engine engine, const T& ours, const T& expected, Describe&& describe) {
    bool& failed = failed_[engine == Engine::Jit ? 1 : 0];
    if (ours == expected || failed) return;
    failed = true;
    ADD_FAILURE() << engine_name(engine) << " gives " << ours << ", expected " << expected << ": "
                  << describe();
  }
  bool any() const { return failed_[0] || failed_[1]; }

 private:
  bool failed_[2] = {false, false};
};

}  // namespace ninep::bpf::testing
