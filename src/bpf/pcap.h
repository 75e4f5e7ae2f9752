// Reading classic pcap capture files (not pcapng) from memory: the packets a filter is run over
// by `cbpf run --pcap` and the benchmarks. Both byte orders, microsecond and nanosecond magic.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

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

}  // namespace ninep::bpf
