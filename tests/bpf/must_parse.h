// Programs the tests write in assembler: parsed, or a test failure and an empty program.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "bpf/text.h"

namespace ninep::bpf::testing {

inline Program must_parse(std::string_view text) {
  auto p = parse_assembler(text);
  EXPECT_TRUE(p) << p.error().message << "\n" << text;
  return p ? *p : Program{};
}

}  // namespace ninep::bpf::testing
