// bench_change_latency: how long a change made on the host takes to be seen through a mount of
// the same directory (a benchmark, not a test). In a new directory of HOSTDIR it makes N changes,
// taking turns between three kinds:
//   modify  rewrite a file in place (open, pwrite of the same size with a new counter, close),
//           then open+pread+close it through the mount until the new counter is read;
//   create  create a new file, then stat() it through the mount until it exists;
//   remove  remove a file, then stat() it through the mount until it is ENOENT.
// Each latency runs from just after the host change returned to the first poll through the mount
// that sees it, polling every 100 us; a change not seen within the timeout counts as timed out,
// with the timeout as its latency. Every name is read or looked up through the mount once before
// the first change, and again just before its own change, so a caching mount has it cached (an
// absent name too): the case that matters.
// Prints, per kind and for all of them:
//   change-to-visible KIND n=N p50=MS p99=MS max=MS ms timeouts=N
//
//   bench_change_latency HOSTDIR MNTDIR [--changes N] [--timeout-ms T] [--max-seconds S]
//     MNTDIR           a mount of HOSTDIR
//     --changes N      changes to make (default 1000)
//     --timeout-ms T   how long a change may take to be seen (default 5000)
//     --max-seconds S  stop making changes after S seconds (default 0: no limit); for mounts
//                      that only see a change once a cache timeout expires (one a second)
// Exit status 1 on a setup error (MNTDIR does not show HOSTDIR, a host call fails), 2 on usage.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kFileSize = 4096;  // the modified file: one page, the same size each time

std::string work_dir;  // our directory in HOSTDIR, once made: removed on the way out

void remove_work_dir() {
  std::error_code ec;
  if (!work_dir.empty() && std::filesystem::remove_all(work_dir, ec) == std::uintmax_t(-1))
    std::fprintf(stderr, "bench_change_latency: cannot remove %s: %s\n", work_dir.c_str(),
                 ec.message().c_str());
  work_dir.clear();
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench_change_latency: %s\n", what.c_str());
  remove_work_dir();
  std::exit(1);
}
[[noreturn]] void fail_errno(const std::string& what) {
  fail(what + ": " + std::strerror(errno));
}

// The modified file's content: the counter, then padding up to kFileSize.
std::string content(std::uint64_t counter) {
  char head[32];
  int n = std::snprintf(head, sizeof head, "counter %020" PRIu64 "\n", counter);
  std::string s(head, std::size_t(n));
  s.resize(kFileSize, '.');
  return s;
}

void host_write(const std::string& path, std::uint64_t counter) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("host open " + path);
  std::string s = content(counter);
  if (::pwrite(fd, s.data(), s.size(), 0) != ssize_t(s.size())) fail_errno("host pwrite " + path);
  if (::close(fd) < 0) fail_errno("host close " + path);
}
void host_create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("host create " + path);
  if (::close(fd) < 0) fail_errno("host close " + path);
}
void host_remove(const std::string& path) {
  if (::unlink(path.c_str()) < 0) fail_errno("host unlink " + path);
}

// Through the mount: the counter the file holds, or -1 when it cannot be read.
std::int64_t mount_counter(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[kFileSize];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  ::close(fd);
  std::uint64_t v = 0;
  if (n < 28 || std::sscanf(buf, "counter %20" SCNu64, &v) != 1) return -1;
  return std::int64_t(v);
}
// Through the mount: 1 when the name exists, 0 when ENOENT, -1 on another error.
int mount_exists(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return 1;
  return errno == ENOENT ? 0 : -1;
}

// Polls `seen` every 100 us from `t0` until it is true or `timeout` passed; the latency in ms,
// or a negative number on a timeout.
template <class Seen>
double poll_until(Clock::time_point t0, Clock::duration timeout, Seen seen) {
  const timespec pause{0, 100'000};
  for (;;) {
    bool ok = seen();
    auto t = Clock::now();
    if (ok) return std::chrono::duration<double, std::milli>(t - t0).count();
    if (t - t0 >= timeout) return -1;
    ::nanosleep(&pause, nullptr);
  }
}

struct Kind {
  const char* name;
  std::vector<double> ms;
  long timeouts = 0;
};

void add(Kind& k, double ms, double timeout_ms) {
  if (ms < 0) {
    ++k.timeouts;
    ms = timeout_ms;
  }
  k.ms.push_back(ms);
}

// The nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto rank = std::size_t(std::ceil(p / 100.0 * double(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

void print(const char* name, std::vector<double> v, long timeouts) {
  std::sort(v.begin(), v.end());
  std::printf("change-to-visible %s n=%zu p50=%.3f p99=%.3f max=%.3f ms timeouts=%ld\n", name,
              v.size(), percentile(v, 50), percentile(v, 99), v.empty() ? 0.0 : v.back(), timeouts);
}

long number(const char* opt, const char* text) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 0) {
    std::fprintf(stderr, "bench_change_latency: %s needs a number, not '%s'\n", opt, text);
    std::exit(2);
  }
  return v;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_change_latency HOSTDIR MNTDIR [--changes N] [--timeout-ms T] "
               "[--max-seconds S]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> dirs;
  long changes = 1000, timeout_ms = 5000, max_seconds = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--changes" || a == "--timeout-ms" || a == "--max-seconds") {
      if (i + 1 >= argc) usage();
      long v = number(argv[i], argv[i + 1]);
      ++i;
      (a == "--changes" ? changes : a == "--timeout-ms" ? timeout_ms : max_seconds) = v;
    } else if (a.starts_with("-")) {
      usage();
    } else {
      dirs.push_back(a);
    }
  }
  if (dirs.size() != 2 || changes < 1 || timeout_ms < 1) usage();
  const auto timeout = std::chrono::milliseconds(timeout_ms);

  // A directory of our own in HOSTDIR, seen as `mnt` through the mount.
  std::string sub = "change-latency-" + std::to_string(::getpid());
  std::string host = dirs[0] + "/" + sub, mnt = dirs[1] + "/" + sub;
  if (::mkdir(host.c_str(), 0755) < 0) fail_errno("host mkdir " + host);
  work_dir = host;
  long creates = (changes + 1) / 3, removes = changes / 3;
  host_write(host + "/modify", 0);
  for (long k = 0; k < removes; ++k) host_create(host + "/old-" + std::to_string(k));

  // Prime: the mount shows the setup (it is a mount of HOSTDIR) and has read or looked up every
  // name once; the names to be created are looked up too (a caching mount keeps them absent).
  if (poll_until(Clock::now(), timeout, [&] { return mount_counter(mnt + "/modify") == 0; }) < 0)
    fail(mnt + "/modify does not show " + host + "/modify: is " + dirs[1] + " a mount of " +
         dirs[0] + "?");
  for (long k = 0; k < removes; ++k) {
    std::string p = mnt + "/old-" + std::to_string(k);
    if (poll_until(Clock::now(), timeout, [&] { return mount_exists(p) == 1; }) < 0)
      fail(p + " does not exist through the mount");
  }
  for (long k = 0; k < creates; ++k) {
    std::string p = mnt + "/new-" + std::to_string(k);
    if (mount_exists(p) != 0) fail(p + " exists or cannot be looked up through the mount");
  }

  Kind kinds[3] = {{"modify", {}}, {"create", {}}, {"remove", {}}};
  long made = 0, created = 0, removed = 0;
  const auto start = Clock::now();
  for (; made < changes; ++made) {
    if (max_seconds > 0 && Clock::now() - start >= std::chrono::seconds(max_seconds)) break;
    double ms = 0;
    switch (made % 3) {
      case 0: {
        std::uint64_t counter = std::uint64_t(made / 3 + 1);
        (void)mount_counter(mnt + "/modify");  // look just before the change
        host_write(host + "/modify", counter);
        auto t0 = Clock::now();
        ms = poll_until(t0, timeout,
                        [&] { return mount_counter(mnt + "/modify") == std::int64_t(counter); });
        break;
      }
      case 1: {
        std::string name = "/new-" + std::to_string(created++);
        (void)mount_exists(mnt + name);
        host_create(host + name);
        auto t0 = Clock::now();
        ms = poll_until(t0, timeout, [&] { return mount_exists(mnt + name) == 1; });
        break;
      }
      case 2: {
        std::string name = "/old-" + std::to_string(removed++);
        (void)mount_exists(mnt + name);
        host_remove(host + name);
        auto t0 = Clock::now();
        ms = poll_until(t0, timeout, [&] { return mount_exists(mnt + name) == 0; });
        break;
      }
    }
    add(kinds[made % 3], ms, double(timeout_ms));
  }

  remove_work_dir();

  if (made < changes)
    std::printf("bench_change_latency: stopped after %ld of %ld changes (--max-seconds %ld)\n",
                made, changes, max_seconds);
  std::vector<double> all;
  long all_timeouts = 0;
  for (const Kind& k : kinds) {
    print(k.name, k.ms, k.timeouts);
    all.insert(all.end(), k.ms.begin(), k.ms.end());
    all_timeouts += k.timeouts;
  }
  print("all", all, all_timeouts);
  return 0;
}
