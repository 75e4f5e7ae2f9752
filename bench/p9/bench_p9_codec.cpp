// Decode and encode cost of the messages on the server's hot path.
#include <benchmark/benchmark.h>

#include <vector>

#include "p9/codec.h"

namespace ninep::p9 {
namespace {

std::vector<std::uint8_t> encoded(const Message& m) {
  std::vector<std::uint8_t> buf(encoded_size(m));
  if (!encode(buf, 1, m)) std::abort();
  return buf;
}

void decode_loop(benchmark::State& state, const Message& m) {
  auto buf = encoded(m);
  for (auto _ : state) {
    auto f = decode(buf, 1 << 20);
    benchmark::DoNotOptimize(f);
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(buf.size()));
}

void encode_loop(benchmark::State& state, const Message& m) {
  std::vector<std::uint8_t> buf(encoded_size(m));
  for (auto _ : state) {
    auto n = encode(buf, 1, m);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(buf.data());
  }
}

Message walk() {
  return Twalk{0, 1, 3, {"usr", "share", "doc"}};
}
Message tread() {
  return Tread{1, 4096, 65536};
}
Message rgetattr() {
  Rgetattr r;
  r.valid = kGetattrBasic;
  r.qid = {kQtFile, 7, 123456};
  r.mode = 0100644;
  r.size = 1 << 20;
  return r;
}

void BM_DecodeTwalk(benchmark::State& s) {
  decode_loop(s, walk());
}
void BM_EncodeTwalk(benchmark::State& s) {
  encode_loop(s, walk());
}
void BM_DecodeTread(benchmark::State& s) {
  decode_loop(s, tread());
}
void BM_EncodeTread(benchmark::State& s) {
  encode_loop(s, tread());
}
void BM_DecodeRgetattr(benchmark::State& s) {
  decode_loop(s, rgetattr());
}
void BM_EncodeRgetattr(benchmark::State& s) {
  encode_loop(s, rgetattr());
}

// A 64 KiB Rread: the server writes only the header (the data is read into place), the client
// decodes the whole frame (a bounds check and a span, no copy).
void BM_EncodeRreadHeader64K(benchmark::State& state) {
  std::vector<std::uint8_t> frame(kRreadHeaderSize + 65536);
  for (auto _ : state) {
    encode_rread_header(std::span<std::uint8_t, kRreadHeaderSize>(frame.data(), kRreadHeaderSize),
                        1, 65536);
    benchmark::DoNotOptimize(frame.data());
  }
}
void BM_DecodeRread64K(benchmark::State& state) {
  std::vector<std::uint8_t> data(65536, 0x42);
  decode_loop(state, Rread{data});
}

BENCHMARK(BM_DecodeTwalk);
BENCHMARK(BM_EncodeTwalk);
BENCHMARK(BM_DecodeTread);
BENCHMARK(BM_EncodeTread);
BENCHMARK(BM_DecodeRgetattr);
BENCHMARK(BM_EncodeRgetattr);
BENCHMARK(BM_EncodeRreadHeader64K);
BENCHMARK(BM_DecodeRread64K);

}  // namespace
}  // namespace ninep::p9

BENCHMARK_MAIN();
