// The bytecode parser (xt_bpf / tcpdump -ddd form) over arbitrary text: no crash, and whatever
// parses prints back, in both layouts, to text that parses to the same program.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bpf/text.h"

using namespace ninep::bpf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = parse_bytecode(text);
  if (!p) return 0;
  for (bool one_per_line : {false, true}) {
    auto again = parse_bytecode(print_bytecode(*p, one_per_line));
    if (!again || *again != *p) __builtin_trap();
  }
  return 0;
}
