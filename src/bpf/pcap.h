// Reading classic pcap capture files (not pcapng) from memory: the packets a filter is run over
// by `cbpf run --pcap` and the benchmarks. Both byte orders, microsecond and nanosecond magic.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bpf/vm.h"
#include "common/error.h"

namespace ninep::bpf {

struct PcapPacket {
  std::uint64_t timestamp_ns = 0;
  std::uint32_t original_length = 0;   // on the wire; data may be shorter (snap length)
  std::span<const std::uint8_t> data;  // the captured bytes, inside the file's buffer
};

struct PcapFile {
  std::uint32_t link_type = 0;  // LINKTYPE_* (1 = Ethernet)
  std::uint32_t snap_length = 0;
  bool nanosecond = false;
  std::vector<PcapPacket> packets;
};

// Parses a whole capture file held in `bytes` (which must outlive the result). Fails with
// EINVAL naming the offset of a bad header or a truncated record.
Result<PcapFile> parse_pcap(std::span<const std::uint8_t> bytes);

// One packet written as hex digits (`cbpf run --hex`): "45 00 00 54", "4500:0054", "0x4500...";
// spaces, ':', '-' and '.' separate, a "0x" before a group is skipped. EINVAL naming the first
// character that is not a hex digit, or an odd number of digits.
Result<std::vector<std::uint8_t>> parse_hex_packet(std::string_view text);

// Nanoseconds per packet of `vm` over `packets` (not empty), `runs` times, sorted: the pass over
// all packets is repeated enough times to take about `run_time` each run (calibrated first).
std::vector<double> time_per_packet(const Vm& vm, std::span<const PcapPacket> packets, int runs,
                                    std::chrono::milliseconds run_time);

}  // namespace ninep::bpf
