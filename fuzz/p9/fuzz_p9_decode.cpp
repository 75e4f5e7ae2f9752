// libFuzzer: decode any bytes as one frame; render what decodes; and a successful decode must
// re-encode to exactly the input (the decoder is strict, so there is one encoding per message).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "p9/codec.h"
#include "p9/format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ninep::p9;
  Bytes in(data, size);
  auto f = decode(in);
  if (!f) {
    // Errors must carry a code and a message; the header decoder agrees on size errors.
    if (f.error().code == 0 || f.error().message.empty()) __builtin_trap();
    return 0;
  }
  std::string line = to_string(*f);
  if (line.empty()) __builtin_trap();
  if (encoded_size(f->msg) != size) __builtin_trap();
  std::vector<std::uint8_t> out(size);
  auto n = encode(out, *f);
  if (!n || *n != size || std::memcmp(out.data(), data, size) != 0) __builtin_trap();
  // The same frame under the tightest msize must still decode.
  if (!decode(in, std::uint32_t(size))) __builtin_trap();
  return 0;
}
