// bench_load: C connections x D requests in flight for T seconds against a 9P2000.L server, over
// the tree `bench_load --make-tree DIR` creates (see load_driver.h for the mix). Prints ops/s and
// p50/p99/p99.9 latency per request type, the errors (by request and errno; there should be
// none), and with --watch-pid the server's descriptors and memory before, during and after.
// Exit status: 0 when the run had no error, 1 when it had errors (or could not start), 2 for
// usage errors.
//
//   bench_load --make-tree DIR [--uids 1,2,3,65534] [--dirs 4] [--files 32]
//   bench_load [-c 64] [-d 32] [-t 60] [--aname NAME] [--watch-pid PID] [--csv FILE] ADDRESS
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "load_driver.h"

namespace load = ninep::bench::load;

int main(int argc, char** argv) {
  CLI::App app{"9P2000.L load generator: connections x requests in flight for a time"};
  app.name("bench_load");
  load::Options o;
  o.tree.uids = load::default_uids();
  std::string address, make_tree, csv;
  int settle_ms = static_cast<int>(o.settle.count());
  app.add_option("ADDRESS", address, "the server: unix:PATH, tcp:HOST:PORT, ...");
  app.add_option("--make-tree", make_tree,
                 "create the tree in DIR (an existing directory: the export) and exit");
  app.add_option("-c,--connections", o.connections, "connections (default 64)");
  app.add_option("-d,--depth", o.depth, "requests in flight per connection (default 32)");
  app.add_option("-t,--seconds", o.seconds, "how long to run (default 60)");
  app.add_option("--threads", o.threads, "driver threads (default 1: one epoll loop)");
  app.add_option("--msize", o.msize, "msize asked for (default 65536)");
  app.add_option("--aname", o.aname, "attach name (diod: the export's path)");
  app.add_option("--uids", o.tree.uids,
                 "uids connections attach as, in turn (default 1,2,3,65534 as root, else yours)")
      ->delimiter(',');
  app.add_option("--dirs", o.tree.dirs, "directories in shared/ (default 4)");
  app.add_option("--files", o.tree.files, "files per directory (default 32)");
  app.add_option("--watch-pid", o.watch_pid,
                 "the server's pid: sample its descriptors and memory (/proc/PID)");
  app.add_option("--settle-ms", settle_ms,
                 "wait up to this long for the server's descriptor count to hold still before "
                 "the run, and to return to that baseline after it (default 5000)");
  app.add_option("--csv", csv, "also write the figures to FILE (metric,unit,value)");
  CLI11_PARSE(app, argc, argv);
  o.settle = std::chrono::milliseconds(settle_ms);

  if (!make_tree.empty()) {
    if (auto r = load::make_tree(make_tree, o.tree); !r) {
      std::fprintf(stderr, "bench_load: %s\n", r.error().to_string().c_str());
      return 1;
    }
    return 0;
  }
  if (address.empty()) {
    std::fprintf(stderr, "bench_load: an ADDRESS is needed (or --make-tree DIR)\n");
    return 2;
  }
  o.address = address;
  auto rep = load::run(o);
  if (!rep) {
    std::fprintf(stderr, "bench_load: %s\n", rep.error().to_string().c_str());
    return 1;
  }
  load::print_report(stdout, *rep);
  std::fflush(stdout);
  if (!csv.empty()) {
    if (auto r = load::write_csv(csv, *rep); !r) {
      std::fprintf(stderr, "bench_load: %s\n", r.error().to_string().c_str());
      return 1;
    }
  }
  return rep->total_errors() == 0 ? 0 : 1;
}
