// Rules compiled and run in every engine, each verdict checked against the direct evaluator.
#pragma once

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "bpf/vm.h"
#include "engines.h"
#include "policy/record.h"
#include "policy/rules.h"

namespace ninep::policy::testing {

struct Compiled {
  Rules rules;
  bpf::Program program;
  std::vector<bpf::Vm> vms;  // one per available engine, the interpreter first
};

// Parses and compiles `text` (a test failure, and empty vms, when it does not).
inline Compiled compile_text(std::string_view text) {
  Compiled c;
  auto rules = parse_rules(text);
  if (!rules) {
    ADD_FAILURE() << rules.error().to_string() << "\nin:\n" << text;
    return c;
  }
  c.rules = std::move(*rules);
  c.program = compile(c.rules);
  for (bpf::Engine e : bpf::testing::available_engines()) {
    auto vm = bpf::Vm::create(c.program, e);
    if (!vm) {
      ADD_FAILURE() << vm.error().to_string() << "\nin:\n" << text;
      return c;
    }
    c.vms.push_back(std::move(*vm));
  }
  return c;
}

// The program's verdict for `r` (from the interpreter), checked against every other engine and
// against evaluate().
inline std::uint32_t verdict(const Compiled& c, const RequestRecord& r) {
  std::vector<std::uint8_t> packet;
  if (!encode(r, packet)) {
    ADD_FAILURE() << "record does not encode";
    return 0;
  }
  if (c.vms.empty()) return 0;
  const std::uint32_t v = c.vms.front().run(packet);
  for (const auto& vm : c.vms)
    EXPECT_EQ(vm.run(packet), v) << bpf::testing::engine_name(vm.engine()) << " disagrees";
  EXPECT_EQ(evaluate(c.rules, r), v) << "the evaluator disagrees with the program";
  return v;
}

inline RequestRecord request(std::uint32_t type, std::string_view path = "",
                             std::string_view name = "") {
  RequestRecord r;
  r.type = type;
  r.path = path;
  r.name = name;
  return r;
}

// 9P message types.
inline constexpr std::uint32_t kTstatfs = 8, kTlopen = 12, kTlcreate = 14, kTsymlink = 16,
                               kTmknod = 18, kTrename = 20, kTreadlink = 22, kTgetattr = 24,
                               kTsetattr = 26, kTxattrwalk = 30, kTxattrcreate = 32, kTreaddir = 40,
                               kTfsync = 50, kTlock = 52, kTgetlock = 54, kTlink = 70, kTmkdir = 72,
                               kTrenameat = 74, kTunlinkat = 76, kTattach = 104, kTflush = 108,
                               kTwalk = 110, kTread = 116, kTwrite = 118, kTclunk = 120,
                               kTremove = 122;

}  // namespace ninep::policy::testing
