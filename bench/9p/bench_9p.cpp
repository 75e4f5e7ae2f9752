// bench_9p: a client-side 9P2000.L load generator. Runs a fixed set of workloads against any
// server ADDRESS (diod, our own server, ...) inside a scratch directory of the export and prints
// the median (and range) of N runs of each:
//   Tgetattr on one walked fid, serially: the bare round trip (ops/s)
//   walk+getattr+clunk, serially and from T threads (ops/s)
//   sequential write and read of one large file (MiB/s)
//   create + write 4 KiB + close of many files (files/s)
//   readdir of a directory with many entries (ms)
// Not a test: it asserts nothing about time; it checks only that the work was done.
// --poll-us sets how long the client polls for each reply (SessionOptions::poll_max; 0: never);
// --cpu prints the process's user+sys CPU seconds at the end (getrusage, every thread).
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "client/session.h"

namespace {

using ninep::Error;
using ninep::Result;
using ninep::client::Fid;
using ninep::client::Session;
using Clock = std::chrono::steady_clock;
namespace p9 = ninep::p9;

struct Options {
  std::string address, aname, dir = "ninep-bench";
  std::uint32_t msize = 512 * 1024;
  std::uint32_t uid = ::getuid();
  int runs = 5;
  int threads = 8;
  int walk_ops = 20000;
  int getattr_ops = 20000;
  std::uint32_t poll_us = ninep::transport::PollWindow::kDefaultMax.count();
  bool cpu = false;
  std::uint64_t file_mib = 256;
  int small_files = 2000;
  int entries = 10000;
  std::size_t io_size = 4u << 20;
  bool keep = false;
  std::vector<std::string> only;
};

[[noreturn]] void die(const std::string& what, const Error& e) {
  std::fprintf(stderr, "bench_9p: %s: %s\n", what.c_str(), e.to_string().c_str());
  std::exit(1);
}

template <typename T>
T check(Result<T> r, const std::string& what) {
  if (!r) die(what, r.error());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Stat {
  double median, min, max;
};

Stat summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double med = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return {med, v.front(), v.back()};
}

// Removes `name` (a file or a whole tree) inside `dir`.
void remove_tree(const Fid& dir, const std::string& name) {
  auto f = dir.walk({name});
  if (!f) return;
  if (f->is_dir()) {
    auto d = check(f->clone(), "clone");
    check(d.lopen(p9::kORdonly | p9::kODirectory), "open " + name);
    auto entries = check(d.readdir_all(), "readdir " + name);
    for (const auto& e : entries)
      if (e.name != "." && e.name != "..") remove_tree(*f, e.name);
    (void)dir.unlinkat(name, p9::kAtRemovedir);
  } else {
    (void)dir.unlinkat(name);
  }
}

class Bench {
 public:
  Bench(Options o) : o_(std::move(o)) {
    ninep::client::SessionOptions so;
    so.msize = o_.msize;
    so.poll_max = std::chrono::microseconds(o_.poll_us);
    session_ = check(Session::connect(o_.address, so), "connect " + o_.address);
    root_ = check(session_->attach("root", o_.aname, o_.uid), "attach '" + o_.aname + "'");
    remove_tree(root_, o_.dir);
    check(root_.mkdir(o_.dir, 0755, ::getgid()), "mkdir " + o_.dir);
    work_ = check(root_.walk({o_.dir}), "walk " + o_.dir);
  }
  ~Bench() {
    if (!o_.keep) remove_tree(root_, o_.dir);
  }

  void run() {
    std::printf("bench_9p %s  msize=%u  poll=%uus  runs=%d (median [min - max])\n",
                o_.address.c_str(), session_->msize(), o_.poll_us, o_.runs);
    if (wants("getattr")) {
      make_file(work_, "f", 0);
      report(fmt::format("Tgetattr serial ({} ops)", o_.getattr_ops), "ops/s",
             [&] { return getattr_ops(); });
    }
    if (wants("walk")) {
      make_file(work_, "f", 0);
      report(fmt::format("walk+getattr+clunk serial ({} ops)", o_.walk_ops), "ops/s",
             [&] { return walk_ops(1); });
      report(fmt::format("walk+getattr+clunk {} threads ({} ops)", o_.threads, o_.walk_ops),
             "ops/s", [&] { return walk_ops(o_.threads); });
    }
    if (wants("write") || wants("read")) {
      std::vector<std::uint8_t> buf(o_.io_size);
      for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(i * 31);
      report(fmt::format("sequential write {} MiB", o_.file_mib), "MiB/s",
             [&] { return seq_write(buf); });
      report(fmt::format("sequential read {} MiB", o_.file_mib), "MiB/s",
             [&] { return seq_read(buf); });
    }
    if (wants("create")) {
      report(fmt::format("create+write 4K+close x{}", o_.small_files), "files/s",
             [&] { return create_files(); });
    }
    if (wants("readdir")) {
      setup_readdir();
      report(fmt::format("readdir {} entries", o_.entries), "ms", [&] { return readdir(); });
    }
    session_->wait_idle();
    auto st = session_->stats();
    std::printf("requests sent: %llu, fids in use at end: %u\n", (unsigned long long)st.requests,
                st.fids_in_use);
    if (o_.cpu) {
      struct rusage ru {};
      ::getrusage(RUSAGE_SELF, &ru);
      auto secs = [](const timeval& tv) { return double(tv.tv_sec) + tv.tv_usec / 1e6; };
      double user = secs(ru.ru_utime), sys = secs(ru.ru_stime);
      std::printf("cpu: %.6f s user+sys (user %.6f, sys %.6f)\n", user + sys, user, sys);
    }
  }

 private:
  bool wants(const char* name) const {
    return o_.only.empty() || std::find(o_.only.begin(), o_.only.end(), name) != o_.only.end();
  }

  void report(const std::string& name, const char* unit, const std::function<double()>& fn) {
    std::vector<double> v;
    for (int i = 0; i < o_.runs; ++i) v.push_back(fn());
    Stat s = summarize(v);
    std::printf("%-44s %12.2f %-7s [%.2f - %.2f]\n", name.c_str(), s.median, unit, s.min, s.max);
    std::fflush(stdout);
  }

  void make_file(const Fid& dir, const std::string& name, std::size_t size) {
    auto f = check(dir.clone(), "clone");
    check(f.lcreate(name, p9::kOWronly | p9::kOCreate | p9::kOTrunc, 0644, ::getgid()),
          "create " + name);
    if (size) {
      std::vector<std::uint8_t> data(size, 'x');
      check(f.write(0, data), "write " + name);
    }
    check(f.clunk(), "clunk");
  }

  // Tgetattr round trips on one fid, one at a time: the server's cheapest request.
  double getattr_ops() {
    auto f = check(work_.walk({"f"}), "walk f");
    auto t0 = Clock::now();
    for (int i = 0; i < o_.getattr_ops; ++i) check(f.getattr(), "getattr");
    double rate = o_.getattr_ops / seconds_since(t0);
    check(f.clunk(), "clunk f");
    return rate;
  }

  double walk_ops(int threads) {
    std::atomic<int> next{0};
    auto worker = [&] {
      const std::string_view names[] = {o_.dir, "f"};
      while (next.fetch_add(1, std::memory_order_relaxed) < o_.walk_ops) {
        auto f = check(root_.walk(names), "walk");
        check(f.getattr(), "getattr");
        check(f.clunk(), "clunk");
      }
    };
    auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) ts.emplace_back(worker);
    for (auto& t : ts) t.join();
    return o_.walk_ops / seconds_since(t0);
  }

  double seq_write(const std::vector<std::uint8_t>& buf) {
    std::uint64_t total = o_.file_mib << 20;
    auto f = check(work_.clone(), "clone");
    auto t0 = Clock::now();
    check(f.lcreate("big", p9::kOWronly | p9::kOCreate | p9::kOTrunc, 0644, ::getgid()),
          "create big");
    for (std::uint64_t off = 0; off < total; off += buf.size()) {
      std::size_t n = std::min<std::uint64_t>(buf.size(), total - off);
      auto w = check(f.write(off, std::span(buf.data(), n)), "write big");
      if (w != n) die("write big", Error{EIO, "short write"});
    }
    check(f.clunk(), "clunk big");
    return double(o_.file_mib) / seconds_since(t0);
  }

  double seq_read(std::vector<std::uint8_t>& buf) {
    std::uint64_t total = o_.file_mib << 20;
    auto t0 = Clock::now();
    auto f = check(work_.walk({"big"}), "walk big");
    check(f.lopen(p9::kORdonly), "open big");
    std::uint64_t off = 0;
    for (;;) {
      auto n = check(f.read(off, buf), "read big");
      off += n;
      if (n < buf.size()) break;
    }
    check(f.clunk(), "clunk big");
    if (off != total) die("read big", Error{EIO, fmt::format("read {} of {} bytes", off, total)});
    return double(o_.file_mib) / seconds_since(t0);
  }

  double create_files() {
    std::string name = fmt::format("small-{}", run_++);
    check(work_.mkdir(name, 0755, ::getgid()), "mkdir " + name);
    auto dir = check(work_.walk({name}), "walk " + name);
    std::vector<std::uint8_t> data(4096, 's');
    auto t0 = Clock::now();
    for (int i = 0; i < o_.small_files; ++i) {
      auto f = check(dir.clone(), "clone");
      check(f.lcreate(fmt::format("f{}", i), p9::kOWronly | p9::kOCreate | p9::kOTrunc, 0644,
                      ::getgid()),
            "create");
      check(f.write(0, data), "write");
      check(f.clunk(), "clunk");
    }
    double rate = o_.small_files / seconds_since(t0);
    remove_tree(work_, name);
    return rate;
  }

  void setup_readdir() {
    check(work_.mkdir("many", 0755, ::getgid()), "mkdir many");
    auto dir = check(work_.walk({"many"}), "walk many");
    for (int i = 0; i < o_.entries; ++i) make_file(dir, fmt::format("entry-{:06}", i), 0);
  }

  double readdir() {
    auto t0 = Clock::now();
    auto d = check(work_.walk({"many"}), "walk many");
    check(d.lopen(p9::kORdonly | p9::kODirectory), "open many");
    auto entries = check(d.readdir_all(), "readdir many");
    double ms = seconds_since(t0) * 1000;
    std::size_t n = std::count_if(entries.begin(), entries.end(),
                                  [](const auto& e) { return e.name != "." && e.name != ".."; });
    if (n != std::size_t(o_.entries))
      die("readdir many", Error{EIO, fmt::format("{} entries, expected {}", n, o_.entries)});
    return ms;
  }

  Options o_;
  std::shared_ptr<Session> session_;
  Fid root_, work_;
  int run_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"9P2000.L client load generator: bench_9p [options] ADDRESS"};
  // Later options win, so wrapper scripts can pass defaults that users override.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("address", o.address, "server address (unix:/path, tcp:HOST:PORT, ...)")
      ->required();
  app.add_option("--aname", o.aname, "export to attach (diod: the exported path)");
  app.add_option("--uid", o.uid, "numeric uid for Tattach");
  app.add_option("--msize", o.msize, "msize to request")->capture_default_str();
  app.add_option("--runs", o.runs, "repetitions of each workload (median printed)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "threads for the parallel walk workload")
      ->capture_default_str();
  app.add_option("--walk-ops", o.walk_ops, "walk+getattr+clunk operations per run")
      ->capture_default_str();
  app.add_option("--getattr-ops", o.getattr_ops, "Tgetattr round trips per run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--poll-us", o.poll_us,
                 "poll for each reply for up to this many microseconds before sleeping "
                 "(SessionOptions::poll_max; adaptive; 0 = never)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 1000000u));
  app.add_flag("--cpu", o.cpu, "print the CPU seconds (user+sys) this process used, at the end");
  app.add_option("--file-mib", o.file_mib, "size of the sequential file in MiB")
      ->capture_default_str();
  app.add_option("--io-size", o.io_size, "bytes per read()/write() call (split into msize chunks)")
      ->capture_default_str();
  app.add_option("--small-files", o.small_files, "files in the create workload")
      ->capture_default_str();
  app.add_option("--entries", o.entries, "entries in the readdir workload")->capture_default_str();
  app.add_option("--dir", o.dir, "scratch directory inside the export (removed first and after)")
      ->capture_default_str();
  app.add_option("--only", o.only,
                 "run only these workloads: getattr walk write read create readdir");
  app.add_flag("--keep", o.keep, "keep the scratch directory");
  CLI11_PARSE(app, argc, argv);
  Bench(o).run();
  return 0;
}
