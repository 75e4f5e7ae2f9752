// bench_policy: what a request policy costs per request, in ns: the record built and encoded
// (as the server does for every request) and the program run over it, in the interpreter and in
// the JIT, for the rules in FILE (bench/policy/rules20.txt by default in policy.sh). The records
// are those of a mixed workload (walks, getattrs, reads, writes, creates, readdirs) below a few
// directories. Prints one line per engine: ns per request (median of RUNS runs of N requests).
//
// usage: bench_policy RULES_FILE [N] [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bpf/vm.h"
#include "p9/message.h"
#include "policy/record.h"
#include "policy/rules.h"

namespace {

using namespace ninep;

std::vector<policy::RequestRecord> workload(std::vector<std::string>& names,
                                            std::vector<std::string>& paths) {
  for (int i = 0; i < 64; ++i) names.push_back("file" + std::to_string(i) + ".txt");
  paths = {"", "src", "src/lib", "docs/notes/2026", "build/objects/ab"};
  const p9::Type types[] = {p9::Type::Twalk,   p9::Type::Tgetattr, p9::Type::Tread,
                            p9::Type::Twrite,  p9::Type::Tlopen,   p9::Type::Tlcreate,
                            p9::Type::Treaddir};
  std::vector<policy::RequestRecord> out;
  for (std::size_t i = 0; i < 1024; ++i) {
    policy::RequestRecord r;
    r.type = static_cast<std::uint32_t>(types[i % std::size(types)]);
    r.uid = 1000;
    r.gid = 1000;
    r.file_type = r.type == static_cast<std::uint32_t>(p9::Type::Twalk) ? 0x4000 : 0x8000;
    r.path = paths[i % paths.size()];
    r.depth = static_cast<std::uint32_t>(std::count(r.path.begin(), r.path.end(), '/') + 1);
    if (r.type == static_cast<std::uint32_t>(p9::Type::Twalk) ||
        r.type == static_cast<std::uint32_t>(p9::Type::Tlcreate))
      r.name = names[i % names.size()];
    r.flags = r.type == static_cast<std::uint32_t>(p9::Type::Tlcreate) ? 01 : 0;
    r.count = 4096;
    out.push_back(r);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_policy RULES_FILE [N] [RUNS]\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream text;
  text << in.rdbuf();
  auto program = policy::compile_rules(text.str());
  if (!program) {
    std::fprintf(stderr, "bench_policy: %s: %s\n", argv[1], program.error().to_string().c_str());
    return 1;
  }
  const long n = argc > 2 ? std::atol(argv[2]) : 2000000;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  std::vector<std::string> names, paths;
  const auto records = workload(names, paths);
  std::printf("policy %s: %zu instructions; %ld requests per run, median of %d runs\n", argv[1],
              program->size(), n, runs);
  for (auto engine : {bpf::Engine::Interpreter, bpf::Engine::Jit}) {
    const char* name = engine == bpf::Engine::Jit ? "JIT" : "interpreter";
    auto vm = bpf::Vm::create(*program, engine);
    if (!vm) {
      std::printf("%-12s unavailable: %s\n", name, vm.error().to_string().c_str());
      continue;
    }
    std::vector<double> ns;
    std::uint64_t sink = 0;
    std::vector<std::uint8_t> packet;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (long i = 0; i < n; ++i) {
        policy::encode(records[static_cast<std::size_t>(i) % records.size()], packet);
        sink += vm->run(packet);
      }
      const auto t1 = std::chrono::steady_clock::now();
      ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / n);
    }
    std::sort(ns.begin(), ns.end());
    std::printf("%-12s %8.1f ns per request (min %.1f, max %.1f)%s\n", name, ns[ns.size() / 2],
                ns.front(), ns.back(), sink == 0 ? " (no verdict?)" : "");
  }
  return 0;
}
