#include "commands.h"

#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <vector>

#include "bpf/pcap.h"
#include "bpf/text.h"
#include "bpf/validate.h"
#include "bpf/vm.h"

namespace ninep::cbpf {
namespace {

using bpf::Program;

void complain(const std::string& message) {
  std::fprintf(stderr, "cbpf: %s\n", message.c_str());
}

// The whole file ('-' is stdin), or nothing after saying why.
std::optional<std::string> read_file(const std::string& path) {
  if (path == "-") {
    std::ostringstream s;
    s << std::cin.rdbuf();
    return s.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    complain(fmt::format("{}: {}", path, std::strerror(errno)));
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) {
    complain(fmt::format("{}: read error", path));
    return std::nullopt;
  }
  return s.str();
}

std::optional<Program> load_program(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  auto program = bpf::parse_program(*text);
  if (!program) {
    complain(fmt::format("{}:{}", path, program.error().message));
    return std::nullopt;
  }
  return std::move(*program);
}

std::optional<bpf::Vm> load_vm(const std::string& path, std::optional<bpf::Engine> engine) {
  auto program = load_program(path);
  if (!program) return std::nullopt;
  auto vm = bpf::Vm::create(*program, engine);
  if (!vm) {
    complain(fmt::format("{}: {}", path, vm.error().to_string()));
    return std::nullopt;
  }
  return std::move(*vm);
}

std::string format_program(const Program& p, OutputFormat format) {
  switch (format) {
    case OutputFormat::Bytecode:
      return bpf::print_bytecode(p);
    case OutputFormat::Lines:
      return bpf::print_bytecode(p, true);
    case OutputFormat::CArray:
      return bpf::print_c_array(p);
    case OutputFormat::Listing:
      return bpf::print_listing(p);
    case OutputFormat::Assembler:
      return bpf::print_assembler(p);
    case OutputFormat::Raw:
      return std::string(reinterpret_cast<const char*>(p.data()), p.size() * sizeof(p[0]));
  }
  return {};
}

int print(const std::string& file, OutputFormat format) {
  auto program = load_program(file);
  if (!program) return 1;
  const std::string out = format_program(*program, format);
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    complain(fmt::format("writing the program: {}", std::strerror(errno)));
    return 1;
  }
  return 0;
}

const char* engine_name(bpf::Engine e) {
  return e == bpf::Engine::Jit ? "jit" : "interpreter";
}

struct Capture {
  std::vector<std::uint8_t> bytes;
  bpf::PcapFile file;
};
std::optional<Capture> load_capture(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  Capture c;
  c.bytes.assign(text->begin(), text->end());
  auto parsed = bpf::parse_pcap(c.bytes);
  if (!parsed) {
    complain(fmt::format("{}: {}", path, parsed.error().message));
    return std::nullopt;
  }
  c.file = std::move(*parsed);
  return c;
}

}  // namespace

int assemble(const std::string& file, OutputFormat format) {
  return print(file, format);
}

int disassemble(const std::string& file, OutputFormat format) {
  return print(file, format);
}

int check(const std::string& file, bool quiet) {
  auto program = load_program(file);
  if (!program) return 1;
  if (auto rejection = bpf::find_rejection(*program)) {
    if (!quiet) {
      std::string where;
      if (rejection->index && *rejection->index < program->size())
        where = fmt::format(" [{}]",
                            bpf::listing_line((*program)[*rejection->index], *rejection->index));
      complain(fmt::format("{}: rejected: {}{}", file, rejection->to_string(), where));
    }
    return 1;
  }
  if (!quiet) std::printf("%s: ok, %zu instructions\n", file.c_str(), program->size());
  return 0;
}

int run(const RunOptions& o) {
  auto vm = load_vm(o.program, o.engine);
  if (!vm) return 1;
  if (!o.hex.empty()) {
    auto packet = bpf::parse_hex_packet(o.hex);
    if (!packet) {
      complain("--hex: " + packet.error().message);
      return 1;
    }
    const std::uint32_t verdict = vm->run(*packet);
    std::printf("verdict %u: %s (%u of %zu bytes kept)\n", verdict, verdict ? "accept" : "drop",
                bpf::Vm::kept_length(verdict, packet->size()), packet->size());
    return 0;
  }
  auto capture = load_capture(o.pcap);
  if (!capture) return 1;
  std::uint64_t accepted = 0, kept = 0, total = 0;
  for (std::size_t i = 0; i < capture->file.packets.size(); ++i) {
    const auto& p = capture->file.packets[i];
    const std::uint32_t verdict = vm->run(p.data);
    const std::uint32_t k = bpf::Vm::kept_length(verdict, p.data.size());
    if (o.verbose)
      std::printf("%zu: %zu bytes, verdict %u, kept %u\n", i, p.data.size(), verdict, k);
    accepted += verdict != 0;
    kept += k;
    total += p.data.size();
  }
  std::printf("%zu packets, %llu accepted, %llu of %llu bytes kept\n", capture->file.packets.size(),
              static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(kept),
              static_cast<unsigned long long>(total));
  return 0;
}

int bench(const BenchOptions& o) {
  if (o.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(o.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      complain(fmt::format("pinning to CPU {}: {}", o.cpu, std::strerror(errno)));
      return 1;
    }
  }
  auto program = load_program(o.program);
  if (!program) return 1;
  if (auto valid = bpf::validate(*program); !valid) {
    complain(fmt::format("{}: {}", o.program, valid.error().to_string()));
    return 1;
  }
  auto capture = load_capture(o.pcap);
  if (!capture) return 1;
  const auto& packets = capture->file.packets;
  if (packets.empty()) {
    complain(fmt::format("{}: no packets", o.pcap));
    return 1;
  }
  // Both engines unless one is asked for; the JIT may be unavailable here.
  std::vector<bpf::Engine> engines = {bpf::Engine::Interpreter, bpf::Engine::Jit};
  if (o.engine) engines = {*o.engine};
  std::vector<double> medians;
  for (bpf::Engine engine : engines) {
    const auto t0 = std::chrono::steady_clock::now();
    auto vm = bpf::Vm::create(*program, engine);
    const double create_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    if (!vm) {
      if (o.engine) {
        complain(fmt::format("{}: {}: {}", o.program, engine_name(engine), vm.error().to_string()));
        return 1;
      }
      std::printf("%s: %s: not available (%s)\n", o.program.c_str(), engine_name(engine),
                  vm.error().to_string().c_str());
      continue;
    }
    const auto ns =
        bpf::time_per_packet(*vm, packets, o.runs, std::chrono::milliseconds(o.milliseconds));
    medians.push_back(ns[ns.size() / 2]);
    std::printf(
        "%s: %zu instructions, %s, %zu packets: %.2f ns/packet (median of %d; min %.2f, max "
        "%.2f); validated and prepared in %.1f us\n",
        o.program.c_str(), vm->program().size(), engine_name(vm->engine()), packets.size(),
        ns[ns.size() / 2], o.runs, ns.front(), ns.back(), create_us);
  }
  if (medians.size() == 2) {
    std::printf("%s: the jit takes %.2fx the interpreter's time per packet\n", o.program.c_str(),
                medians[1] / medians[0]);
  }
  return 0;
}

}  // namespace ninep::cbpf
