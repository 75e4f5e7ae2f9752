// The load generator behind bench_load and the load test: C connections to a 9P2000.L server,
// each with D requests truly in flight, for T seconds, over a known tree.
//
// Each connection attaches as one of several uids and carries D independent "slots". A slot is a
// small state machine with its own fid and tag that runs one short sequence of requests after
// another, one request at a time:
//   stat     Twalk shared/dK/fJ, Tgetattr, Tclunk
//   read     Twalk shared/dK/fJ, Tlopen, Tread (4-64 KiB, contents checked), Tclunk
//   readdir  Twalk shared/dK, Tlopen, Treaddir until empty (entries counted), Tclunk
//   create   Twalk u<uid>, Tlcreate (O_EXCL, a name unique to the slot), Twrite, Tclunk
//   write    Twalk u<uid>/<own file>, Tlopen, Twrite, Tclunk
//   remove   Twalk u<uid>/<own file>, Tremove
// A slot writes and removes only files it created, so nothing collides by design: every Rlerror
// is an error. The slots of all connections are driven by epoll from a few threads (one by
// default), so D x C requests are in flight without a thread each.
//
// At the deadline, slots finish their sequence and remove the files they still own (those
// requests are not counted in the figures, but their errors are), then the connections close.
// With a server pid to watch, its descriptor count and memory are sampled: before the clients
// connect (once the count holds still for 100 ms), during the run (peak), and after they
// disconnect (polled until the descriptor count is back to its baseline, up to a settle time).
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace ninep::bench::load {

// The tree the load runs over, under an export's root:
//   shared/d0 .. shared/d<dirs-1>, each with files f0 .. f<files-1> (root's, world-readable;
//     sizes cycle through 4 KiB .. 1 MiB; contents a known pattern, checked by reads)
//   u<uid> for each uid: a directory owned by that uid (and its primary group), 0755
struct Tree {
  int dirs = 4;
  int files = 32;  // per directory
  std::vector<std::uint32_t> uids;

  static std::uint64_t file_size(int file);
  // The 8-byte word at `offset` (a multiple of 8) of shared/d<dir>/f<file>, in host order.
  static std::uint64_t word_at(int dir, int file, std::uint64_t offset);
};

// Creates the tree in `root` (which must exist). Giving directories to other uids needs root.
Result<void> make_tree(const std::string& root, const Tree& tree);

// The uids to attach as by default: 1, 2, 3 and 65534 (daemon, bin, sys, nobody on Debian) when
// running as root, else only the caller's own.
std::vector<std::uint32_t> default_uids();

// Request types, in report order.
enum class Op { Walk, Getattr, Lopen, Read, Write, Lcreate, Readdir, Remove, Clunk };
inline constexpr int kOps = 9;
std::string_view op_name(Op op);

// Latencies in nanoseconds, in log-linear buckets (64 per power of two: about 1.5% precision).
class Histogram {
 public:
  Histogram();
  void add(std::uint64_t ns);
  void merge(const Histogram& o);
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  // The q-quantile (0 < q <= 1), within a bucket's precision; 0 when empty.
  std::uint64_t quantile(double q) const;

 private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0, max_ = 0;
};

struct Options {
  std::string address;  // unix:PATH, tcp:HOST:PORT, ...
  std::string aname;    // attach name (diod: the export's path)
  int connections = 64;
  int depth = 32;  // requests in flight per connection
  double seconds = 60;
  int threads = 1;              // driver threads (connections are split between them)
  std::uint32_t msize = 65536;  // asked for in Tversion
  Tree tree;                    // connection i attaches as tree.uids[i % n]
  pid_t watch_pid = 0;          // the server process to sample (0: none)
  std::chrono::milliseconds sample_every{100};
  // How long to wait for the server's descriptor count to hold still before the run (its
  // baseline), and to return to that baseline after it.
  std::chrono::milliseconds settle{5000};
  std::chrono::milliseconds drain{30000};  // wait for replies after the deadline
};

// The server's resources (see Options::watch_pid). -1 where /proc could not be read.
struct ServerWatch {
  pid_t pid = 0;
  long fds_before = -1, fds_peak = -1, fds_after = -1;
  long rss_before_kb = -1, rss_peak_kb = -1, rss_after_kb = -1;  // VmRSS; peak is VmHWM
  long anon_before_kb = -1, anon_after_kb = -1;  // RssAnon: VmRSS less the program's pages
  bool fds_back = false;                         // fds_after == fds_before
  double settle_s = 0;                           // how long after the disconnect fds_after was read
};

struct OpReport {
  std::uint64_t count = 0;  // replies received within the measured time
  Histogram latency;
};

struct Report {
  std::string address;
  int connections = 0, depth = 0, threads = 0;
  std::uint32_t msize = 0;  // negotiated
  std::vector<std::uint32_t> uids;
  double seconds = 0;  // the measured time
  std::array<OpReport, kOps> ops;
  // Errors by what failed ("Tlcreate", "connection", ...) and errno; and the first few in words.
  std::map<std::pair<std::string, int>, std::uint64_t> errors;
  std::vector<std::string> error_samples;
  std::uint64_t sequences = 0;  // sequences completed, whole runs and drain included
  std::optional<ServerWatch> server;

  std::uint64_t total_count() const;
  std::uint64_t total_errors() const;
  std::uint64_t errors_of(std::string_view what) const;
};

// Connects every connection (Tversion, Tattach), runs the load, disconnects. An error means the
// run could not start (connect, version or attach failed); errors during the run are in Report.
Result<Report> run(const Options& o);

// The report as a table; with the server's figures when watched.
void print_report(std::FILE* out, const Report& r);
// The report as CSV rows "metric,unit,value" (under that header): "total,ops/s,N", "<op>,ops/s",
// "<op> p50,us", "<op> p99,us", "<op> p99.9,us", "<op> errors,count", "errors,count",
// "server fds before,count", ... "server fds back,bool", "server rss before,KiB", ...
Result<void> write_csv(const std::string& path, const Report& r);

}  // namespace ninep::bench::load
