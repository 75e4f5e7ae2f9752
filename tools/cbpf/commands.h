// The sub-commands of `cbpf`; each returns the process exit code (0 ok, 1 bad input or failure).
#pragma once

#include <optional>
#include <string>

#include "bpf/engine.h"

namespace ninep::cbpf {

enum class OutputFormat { Bytecode, Lines, CArray, Raw, Listing, Assembler };

int assemble(const std::string& file, OutputFormat format);
int disassemble(const std::string& file, OutputFormat format);
int check(const std::string& file, bool quiet);

struct RunOptions {
  std::string program;
  std::string pcap;  // one of pcap/hex
  std::string hex;
  std::optional<bpf::Engine> engine;
  bool verbose = false;  // one line per packet
};
int run(const RunOptions& options);

struct BenchOptions {
  std::string program;
  std::string pcap;
  std::optional<bpf::Engine> engine;
  int runs = 7;
  int milliseconds = 300;
  int cpu = -1;  // pin to this CPU when >= 0
};
int bench(const BenchOptions& options);

}  // namespace ninep::cbpf
