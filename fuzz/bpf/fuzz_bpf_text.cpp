// The bpf_asm parser, the listing parser and the C-array parser over arbitrary text: no crash,
// and whatever parses prints back to text that parses to the same program.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bpf/text.h"

using namespace ninep::bpf;

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto p = parse_assembler(text)) {
    auto again = parse_assembler(print_assembler(*p));
    check(again && *again == *p);
  }
  if (auto p = parse_listing(text)) {
    auto again = parse_listing(print_listing(*p));
    check(again && *again == *p);
  }
  if (auto p = parse_c_array(text)) {
    auto again = parse_c_array(print_c_array(*p));
    check(again && *again == *p);
  }
  return 0;
}
