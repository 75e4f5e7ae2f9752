// Our cBPF engines (interpreter and JIT) against libpcap's bpf_filter() and hand-written C, over
// the anchor capture (../shared/anchors/bpf/mix.pcap) and every anchor filter: ns/packet (median
// of several timed runs), ratios to libpcap and to the hand-written C, geometric means; then the
// JIT's compile time. Not a test: it prints figures.
//
//   bench_bpf_vm [mix.pcap] [filters-dir] [runs] [ms-per-run] [cpu]
//
// Pin to one CPU (the cpu argument, or taskset); bench/bpf/run.sh runs it right after the
// anchors' own harnesses (Go's x/net/bpf, libpcap) on the same CPU.
#include <fmt/format.h>
#include <pcap/pcap.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bpf/jit.h"
#include "bpf/pcap.h"
#include "bpf/text.h"
#include "bpf/vm.h"
#include "native_filters.h"

namespace {

using namespace ninep;

// Wall-clock time as the anchors' harnesses measure it, or (NINEP_BENCH_CLOCK=cpu) the thread's
// CPU time, which a busy machine disturbs less: time spent descheduled is not counted.
bool use_cpu_time() {
  const char* clock = std::getenv("NINEP_BENCH_CLOCK");
  return clock != nullptr && std::string(clock) == "cpu";
}
double now_ns() {
  static const clockid_t id = use_cpu_time() ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
  timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Packet {
  const std::uint8_t* data;
  std::uint32_t caplen;
  std::uint32_t len;
};

struct Measurement {
  double median = 0, min = 0, max = 0;
  std::uint64_t accepted = 0, verdict_sum = 0;
};

// Times `verdict` over all packets as the anchors' harnesses do: calibrate to a quarter of a
// run, then `runs` runs of four times that; ns per packet.
template <typename F>
Measurement measure(const std::vector<Packet>& packets, int runs, int ms, F&& verdict) {
  Measurement m;
  for (const Packet& p : packets) {
    const std::uint32_t v = verdict(p);
    m.accepted += v != 0;
    m.verdict_sum += v;
  }
  std::uint64_t sink = 0;
  auto pass = [&] {
    for (const Packet& p : packets) sink += verdict(p);
  };
  long iterations = 1;
  for (;;) {
    const double t0 = now_ns();
    for (long i = 0; i < iterations; ++i) pass();
    if (now_ns() - t0 > ms * 1e6 / 4) break;
    iterations *= 2;
  }
  iterations *= 4;
  std::vector<double> ns;
  for (int r = 0; r < runs; ++r) {
    const double t0 = now_ns();
    for (long i = 0; i < iterations; ++i) pass();
    ns.push_back((now_ns() - t0) / (static_cast<double>(iterations) * packets.size()));
  }
  std::sort(ns.begin(), ns.end());
  m.median = ns[ns.size() / 2], m.min = ns.front(), m.max = ns.back();
  if (sink == 1) std::printf(" ");
  return m;
}

struct Filter {
  std::string name;
  std::string expression;
  bpf::Program program;
};

std::vector<Filter> load_filters(const std::filesystem::path& dir) {
  std::vector<Filter> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".ddd") continue;
    auto program = bpf::parse_bytecode(read_file(e.path()));
    if (!program) {
      std::fprintf(stderr, "%s: %s\n", e.path().c_str(), program.error().message.c_str());
      std::exit(1);
    }
    std::string expr = read_file(std::filesystem::path(e.path()).replace_extension(".expr"));
    out.push_back({e.path().stem().string(), expr.substr(0, expr.find('\n')), std::move(*program)});
  }
  // The ARP example first, then NN in order (the order of the anchors' harnesses).
  std::sort(out.begin(), out.end(), [](const Filter& a, const Filter& b) {
    if ((a.name == "arp") != (b.name == "arp")) return a.name == "arp";
    return a.name < b.name;
  });
  return out;
}

void row(const std::string& filter, const char* impl, std::size_t insns, const Measurement& m) {
  std::printf("%-40s %-20s %5zu %7llu %12llu %9.2f %9.2f %9.2f\n", filter.c_str(), impl, insns,
              static_cast<unsigned long long>(m.accepted),
              static_cast<unsigned long long>(m.verdict_sum), m.median, m.min, m.max);
  std::fflush(stdout);
}

// JIT compile time of each anchor filter and of a libpcap program of about 100 instructions:
// JitCode::compile (generation, mmap, mprotect, and the munmap when it is freed), and the whole
// Vm::create (validation and copy included) of each engine; microseconds, median of 7 batches.
void report_compile_times(const std::vector<Filter>& filters) {
  if (!bpf::JitCode::available()) return;
  std::vector<std::pair<std::string, bpf::Program>> programs;
  for (const Filter& f : filters) programs.emplace_back(f.name, f.program);
  static constexpr char kLong[] =
      "tcp port 80 or tcp port 443 or udp port 53 or host 10.1.2.3 or net 192.168.0.0/16 or icmp "
      "or tcp port 8080 or udp port 123 or host 172.16.1.1 or host 10.9.8.7 or tcp port 25";
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 262144);
  bpf_program compiled;
  if (dead != nullptr && pcap_compile(dead, &compiled, kLong, 1, PCAP_NETMASK_UNKNOWN) == 0) {
    bpf::Program p;
    for (u_int i = 0; i < compiled.bf_len; ++i) {
      const bpf_insn& in = compiled.bf_insns[i];
      p.push_back({in.code, in.jt, in.jf, in.k});
    }
    programs.emplace_back("11 ports/hosts/nets (libpcap)", std::move(p));
    pcap_freecode(&compiled);
  }
  if (dead != nullptr) pcap_close(dead);

  auto median_us = [](auto&& once) {
    constexpr int kBatch = 200;
    std::vector<double> us;
    for (int r = 0; r < 7; ++r) {
      const double t0 = now_ns();
      for (int i = 0; i < kBatch; ++i) once();
      us.push_back((now_ns() - t0) / kBatch / 1e3);
    }
    std::sort(us.begin(), us.end());
    return us[us.size() / 2];
  };
  std::printf("\n%-40s %5s %12s %14s %14s %14s\n", "JIT compile time (us)", "insns", "JitCode",
              "per 100 insns", "Vm::create jit", "interpreter");
  for (const auto& [name, program] : programs) {
    const double jit = median_us([&] {
      if (!bpf::JitCode::compile(program)) std::abort();
    });
    const double vm_jit = median_us([&] {
      if (!bpf::Vm::create(program, bpf::Engine::Jit)) std::abort();
    });
    const double vm_interpreter = median_us([&] {
      if (!bpf::Vm::create(program, bpf::Engine::Interpreter)) std::abort();
    });
    std::printf("%-40s %5zu %12.2f %14.2f %14.2f %14.2f\n", name.c_str(), program.size(), jit,
                jit * 100 / program.size(), vm_jit, vm_interpreter);
  }
}

double geomean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::log(x);
  return std::exp(s / v.size());
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path anchors = NINEP_BPF_ANCHORS;
  const std::filesystem::path pcap_path = argc > 1 ? argv[1] : anchors / "mix.pcap";
  const std::filesystem::path filters_dir = argc > 2 ? argv[2] : anchors / "filters";
  const int runs = argc > 3 ? std::atoi(argv[3]) : 7;
  const int ms = argc > 4 ? std::atoi(argv[4]) : 300;
  if (argc > 5) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(std::atoi(argv[5]), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("sched_setaffinity");
  }

  const std::string bytes = read_file(pcap_path);
  auto capture =
      bpf::parse_pcap({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  if (!capture || capture->packets.empty()) {
    std::fprintf(stderr, "%s: %s\n", pcap_path.c_str(),
                 capture ? "no packets" : capture.error().message.c_str());
    return 1;
  }
  std::vector<Packet> packets;
  for (const auto& p : capture->packets)
    packets.push_back(
        {p.data.data(), static_cast<std::uint32_t>(p.data.size()), p.original_length});
  const auto filters = load_filters(filters_dir);

  std::printf("# %s, %zu packets, runs=%d, libpcap: %s, cpu %d, %s time\n", pcap_path.c_str(),
              packets.size(), runs, pcap_lib_version(), sched_getcpu(),
              use_cpu_time() ? "thread CPU" : "wall-clock");
  std::printf("%-40s %-20s %5s %7s %12s %9s %9s %9s\n", "filter", "impl", "insns", "accept",
              "verdictsum", "median", "min", "max");

  struct Result {
    std::string name;
    double ours, pcap;
    double jit = 0;  // 0: no JIT here
  };
  std::vector<Result> results;
  std::map<std::string, double> natives;
  for (const Filter& f : filters) {
    std::vector<bpf_insn> insns;
    for (const auto& r : f.program) insns.push_back(bpf_insn{r.op, r.jt, r.jf, r.k});
    auto vm = bpf::Vm::create(f.program, bpf::Engine::Interpreter);
    if (!vm) {
      std::fprintf(stderr, "%s: %s\n", f.name.c_str(), vm.error().message.c_str());
      return 1;
    }
    const Measurement pcap = measure(packets, runs, ms, [&](const Packet& p) {
      return bpf_filter(insns.data(), p.data, p.len, p.caplen);
    });
    row(f.expression, "pcap bpf_filter", insns.size(), pcap);
    const Measurement ours = measure(packets, runs, ms, [&](const Packet& p) {
      return vm->run({p.data, p.caplen});
    });
    row(f.expression, "ninep interpreter", insns.size(), ours);
    if (ours.verdict_sum != pcap.verdict_sum || ours.accepted != pcap.accepted)
      std::printf("  !! verdicts differ from libpcap's\n");
    results.push_back({f.name == "arp" ? "arp" : f.expression, ours.median, pcap.median});
    if (auto jit = bpf::Vm::create(f.program, bpf::Engine::Jit)) {
      const Measurement j = measure(packets, runs, ms, [&](const Packet& p) {
        return jit->run({p.data, p.caplen});
      });
      row(f.expression, "ninep jit", insns.size(), j);
      if (j.verdict_sum != pcap.verdict_sum || j.accepted != pcap.accepted)
        std::printf("  !! jit verdicts differ from libpcap's\n");
      results.back().jit = j.median;
    }
    if (f.name == "arp" || f.expression == "tcp port 80") {
      const auto native = f.name == "arp" ? bench::native_arp : bench::native_tcp_port_80;
      const Measurement c =
          measure(packets, runs, ms, [&](const Packet& p) { return native(p.data, p.caplen); });
      row(f.expression, "native C++", insns.size(), c);
      natives[f.name == "arp" ? "arp" : "tcp port 80"] = c.median;
      if (c.verdict_sum != pcap.verdict_sum)
        std::printf("  !! native verdicts differ from libpcap's\n");
    }
    if (f.name == "arp") {
      const Measurement c = measure(packets, runs, ms, [&](const Packet& p) {
        return bench::native_nothing(p.data, p.caplen);
      });
      row("(loop + call overhead: return 0)", "native C++", 0, c);
    }
  }

  const bool with_jit = !results.empty() && results.front().jit > 0;
  std::printf("\n%-40s %10s %10s %8s", "filter", "ours ns", "pcap ns", "ours/pcap");
  if (with_jit) std::printf(" %10s %8s", "jit ns", "jit/pcap");
  std::printf("\n");
  std::vector<double> ours_all, pcap_all, jit_all, ours8, pcap8, jit8;
  for (const Result& r : results) {
    std::printf("%-40s %10.2f %10.2f %8.2f", r.name.c_str(), r.ours, r.pcap, r.ours / r.pcap);
    if (with_jit) std::printf(" %10.2f %8.2f", r.jit, r.jit / r.pcap);
    std::printf("\n");
    ours_all.push_back(r.ours), pcap_all.push_back(r.pcap), jit_all.push_back(r.jit);
    if (r.name.find("tcpflags") == std::string::npos)
      ours8.push_back(r.ours), pcap8.push_back(r.pcap), jit8.push_back(r.jit);
  }
  auto summary = [&](const std::string& name, const std::vector<double>& ours,
                     const std::vector<double>& pcap, const std::vector<double>& jit) {
    std::printf("%-40s %10.2f %10.2f %8.2f", name.c_str(), geomean(ours), geomean(pcap),
                geomean(ours) / geomean(pcap));
    if (with_jit) std::printf(" %10.2f %8.2f", geomean(jit), geomean(jit) / geomean(pcap));
    std::printf("\n");
  };
  summary(fmt::format("geomean, all {}", results.size()), ours_all, pcap_all, jit_all);
  summary(fmt::format("geomean, {} (excl. tcpflags)", ours8.size()), ours8, pcap8, jit8);
  for (const auto& [name, ns] : natives) {
    auto it = std::find_if(results.begin(), results.end(),
                           [&](const Result& r) { return r.name == name; });
    if (it == results.end()) continue;
    std::printf("%-40s native %.2f ns: interpreter %.2fx native", name.c_str(), ns, it->ours / ns);
    if (it->jit > 0) std::printf(", jit %.2fx native", it->jit / ns);
    std::printf("\n");
  }
  report_compile_times(filters);
  return 0;
}
