// bench_policy: what a request policy costs per request, in ns: the record built and encoded
// (as the server does for every request) and the program run over it, in the interpreter and in
// the JIT, for the rules in FILE (bench/policy/rules20.txt by default in policy.sh). The records
// are those of a mixed workload (walks, getattrs, reads, writes, creates, readdirs) below a few
// directories. Prints one line per engine: ns per request (median of RUNS runs of N requests).
// Then what a listing costs per entry: each entry is judged as a walk to it, the program run only
// for names the rules mention (policy::NameScreen), over the names of a few host directories
// (/usr/bin, /usr/include, /usr/share/doc, /etc: names as they come).
//
// usage: bench_policy RULES_FILE [N] [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bpf/vm.h"
#include "p9/dirent.h"
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

std::vector<std::string> host_names() {
  std::vector<std::string> out;
  for (const char* dir : {"/usr/bin", "/usr/include", "/usr/share/doc", "/etc"}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      out.push_back(e.path().filename().string());
  }
  return out;
}

// ns per entry of judging a listing of `names` in one directory as the server does: the
// Rreaddir entries it read from the backend parsed one by one, the program run for the names the
// screen passes, the first verdict of the others shared.
double listing_ns(const bpf::Vm& vm, const policy::NameScreen& screen,
                  const std::vector<std::string>& names, int runs, std::uint64_t& sink) {
  std::vector<std::uint8_t> entries(64 * 1024 * 16);
  p9::ReaddirBuilder builder(entries);
  std::size_t listed = 0;
  for (const auto& n : names) {
    if (!builder.add(p9::Dirent{p9::Qid{}, ++listed, 8, n})) break;
  }
  policy::RequestRecord dir;
  dir.type = static_cast<std::uint32_t>(p9::Type::Twalk);
  dir.uid = dir.gid = 1000;
  dir.file_type = 0x4000;
  dir.path = "src/lib";
  dir.depth = 2;
  std::vector<std::uint8_t> record;
  std::vector<double> ns;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int pass = 0; pass < 100; ++pass) {
      policy::encode(dir, record);
      std::optional<std::uint32_t> shared;
      p9::DirentReader reader(builder.data());
      for (;;) {
        auto d = reader.next();
        if (!d || !*d) break;
        const std::string_view name = (*d)->name;
        const bool named = screen.may_matter(name);
        if (!named && shared) {
          sink += *shared;
          continue;
        }
        policy::set_name(record, name);
        const std::uint32_t v = vm.run(record);
        if (!named) shared = v;
        sink += v;
      }
    }
    const auto t1 = std::chrono::steady_clock::now();
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                 (100.0 * static_cast<double>(listed)));
  }
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
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
  auto rules = policy::parse_rules(text.str());
  if (!rules) {
    std::fprintf(stderr, "bench_policy: %s: %s\n", argv[1], rules.error().to_string().c_str());
    return 1;
  }
  const auto program = policy::compile(*rules);
  const policy::NameScreen screen(*rules);
  const auto listing = host_names();
  const auto run_it = std::count_if(listing.begin(), listing.end(),
                                    [&](const std::string& n) { return screen.may_matter(n); });
  const long n = argc > 2 ? std::atol(argv[2]) : 2000000;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  std::vector<std::string> names, paths;
  const auto records = workload(names, paths);
  std::printf("policy %s: %zu instructions; %ld requests per run, median of %d runs\n", argv[1],
              program.size(), n, runs);
  for (auto engine : {bpf::Engine::Interpreter, bpf::Engine::Jit}) {
    const char* name = engine == bpf::Engine::Jit ? "JIT" : "interpreter";
    auto vm = bpf::Vm::create(program, engine);
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
    if (!listing.empty())
      std::printf("%-12s %8.1f ns per listed entry (%zu host names, %ld of them run the program)\n",
                  name, listing_ns(*vm, screen, listing, runs, sink), listing.size(),
                  static_cast<long>(run_it));
  }
  return 0;
}
