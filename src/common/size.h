// Sizes as people write them on command lines: 4096, 64K, 1M, 2G (powers of 1024).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace ninep {

inline Result<std::uint64_t> parse_size(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  const std::string quoted = "'" + std::string(s) + "'";
  if (ec != std::errc() || p == s.data()) return fail(EINVAL, quoted + " is not a size");
  const std::string_view unit(p, static_cast<std::size_t>(s.data() + s.size() - p));
  int shift = 0;
  if (unit == "k" || unit == "K" || unit == "KiB")
    shift = 10;
  else if (unit == "m" || unit == "M" || unit == "MiB")
    shift = 20;
  else if (unit == "g" || unit == "G" || unit == "GiB")
    shift = 30;
  else if (!unit.empty())
    return fail(EINVAL, quoted + " is not a size (units: K, M, G)");
  if (v > (std::uint64_t{1} << (50 - shift))) return fail(EINVAL, quoted + " is too large");
  return v << shift;
}

}  // namespace ninep
