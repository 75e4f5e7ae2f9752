// The shared cBPF anchors (../shared/anchors/bpf): libpcap-compiled filters (tcpdump -ddd form)
// and the mix.pcap capture, read without libpcap.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bpf/raw.h"

namespace ninep::bpf::test {

// The anchors directory, or nothing when it is not there (the caller skips with a reason).
std::optional<std::filesystem::path> anchors_directory();

// "N,op jt jf k,op jt jf k,..." (commas or newlines between instructions); nothing if malformed.
std::optional<std::vector<RawInstruction>> parse_bytecode(const std::string& text);

struct NamedProgram {
  std::string name;  // the file name
  std::vector<RawInstruction> program;
};
// Every filters/*.ddd, sorted by name.
std::vector<NamedProgram> anchor_filters(const std::filesystem::path& dir);

// The captured bytes of every record of a classic pcap file (either byte order, micro- or
// nanosecond); empty when the file cannot be read.
std::vector<std::vector<std::uint8_t>> read_pcap(const std::filesystem::path& file);

}  // namespace ninep::bpf::test
