// Hand-written reference frames: one table of requests and one of replies.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "p9/message.h"

namespace ninep::p9::test {

struct GoldenCase {
  std::string name;                 // test name suffix
  std::vector<std::uint8_t> bytes;  // the frame, written out by hand from docs/9p2000L.md
  Fcall expected;                   // what decoding it must give (and what must encode to it)
};

// gtest prints parameters with this instead of dumping the object's bytes.
inline void PrintTo(const GoldenCase& g, std::ostream* os) {
  *os << g.name;
}

std::vector<GoldenCase> golden_requests();
std::vector<GoldenCase> golden_replies();

// Concatenates byte lists (for frames that embed a separately declared payload).
inline std::vector<std::uint8_t> cat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace ninep::p9::test
