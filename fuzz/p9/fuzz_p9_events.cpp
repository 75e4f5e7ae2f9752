// libFuzzer: decode the input as a batch of change-event records (p9/events.h). Any input gives
// events or an error, never a crash; every decoded event re-encodes and decodes to itself.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "p9/events.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ninep::p9;
  auto events = decode_events(Bytes(data, size));
  if (!events) {
    if (events.error().code != EPROTO) __builtin_trap();
    return 0;
  }
  for (const Event& e : *events) {
    std::vector<std::uint8_t> buf(event_size(e));
    auto n = encode_event(buf, e);
    if (!n || *n != buf.size()) __builtin_trap();
    auto again = decode_events(buf);
    if (!again || again->size() != 1 || again->front() != e) __builtin_trap();
  }
  return 0;
}
