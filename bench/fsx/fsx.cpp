// bench_fsx: an fsx-style file exerciser for a mounted directory. Random writes, truncates, reads,
// re-opens and fsyncs on a few files, every read checked against an in-memory model of what the
// file must hold; at the end every file is read back whole and compared. Runs for --seconds or
// --ops, whichever ends first, and prints what it did. Exits 1 on any mismatch or failed call.
//
// usage: bench_fsx --dir DIR [--seconds S] [--ops N] [--files K] [--max-size BYTES] [--seed N]
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string dir;
  double seconds = 10;
  long long ops = -1;  // -1: unbounded
  int files = 4;
  std::size_t max_size = 1 << 20;
  unsigned seed = 1;
};

struct File {
  std::string path;
  int fd = -1;
  std::vector<unsigned char> model;
};

struct Counts {
  long long writes = 0, truncates = 0, reads = 0, reopens = 0, fsyncs = 0;
  long long mismatches = 0, failures = 0;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_fsx --dir DIR [--seconds S] [--ops N] [--files K] [--max-size BYTES] "
               "[--seed N]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    char* end = nullptr;
    const char* v = argv[++i];
    errno = 0;
    if (a == "--dir") {
      o.dir = v;
      continue;
    }
    double n = std::strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || n < 0) usage();
    if (a == "--seconds")
      o.seconds = n;
    else if (a == "--ops")
      o.ops = static_cast<long long>(n);
    else if (a == "--files" && n >= 1)
      o.files = static_cast<int>(n);
    else if (a == "--max-size" && n >= 1)
      o.max_size = static_cast<std::size_t>(n);
    else if (a == "--seed")
      o.seed = static_cast<unsigned>(n);
    else
      usage();
  }
  if (o.dir.empty()) usage();
  return o;
}

void fail(Counts& c, const char* what, const File& f) {
  ++c.failures;
  std::fprintf(stderr, "bench_fsx: %s %s: %s\n", what, f.path.c_str(), std::strerror(errno));
}

bool open_file(File& f, Counts& c) {
  f.fd = ::open(f.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f.fd < 0) fail(c, "open", f);
  return f.fd >= 0;
}

// Reads [off, off+len) and compares it with the model (short reads past the end included).
void check_range(File& f, std::size_t off, std::size_t len, Counts& c) {
  std::vector<unsigned char> got(len);
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(f.fd, got.data() + done, len - done, static_cast<off_t>(off + done));
    if (n < 0) {
      fail(c, "read", f);
      return;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  std::size_t expect = off >= f.model.size() ? 0 : std::min(len, f.model.size() - off);
  bool same = done == expect &&
              std::memcmp(got.data(), f.model.data() + std::min(off, f.model.size()), done) == 0;
  if (!same) {
    ++c.mismatches;
    std::fprintf(stderr,
                 "bench_fsx: mismatch in %s at [%zu, +%zu): read %zu bytes, model has %zu\n",
                 f.path.c_str(), off, len, done, expect);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::mt19937_64 rng(o.seed);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % (n + 1)); };
  Counts c;
  std::vector<File> files(static_cast<std::size_t>(o.files));
  for (int i = 0; i < o.files; ++i) {
    File& f = files[static_cast<std::size_t>(i)];
    f.path = o.dir + "/fsx." + std::to_string(o.seed) + "." + std::to_string(i);
    ::unlink(f.path.c_str());
    if (!open_file(f, c)) return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration<double>(o.seconds);
  long long done = 0;
  while ((o.ops < 0 || done < o.ops) && std::chrono::steady_clock::now() < deadline) {
    File& f = files[rng() % files.size()];
    unsigned op = static_cast<unsigned>(rng() % 100);
    ++done;
    if (op < 45) {  // write
      std::size_t off = pick(o.max_size - 1);
      std::size_t len = std::min<std::size_t>(1 + pick(65535), o.max_size - off);
      std::vector<unsigned char> data(len);
      for (auto& b : data) b = static_cast<unsigned char>(rng());
      ssize_t n = ::pwrite(f.fd, data.data(), len, static_cast<off_t>(off));
      if (n != static_cast<ssize_t>(len)) {
        fail(c, "write", f);
        continue;
      }
      if (f.model.size() < off + len) f.model.resize(off + len, 0);
      std::memcpy(f.model.data() + off, data.data(), len);
      ++c.writes;
    } else if (op < 55) {  // truncate
      std::size_t size = pick(o.max_size);
      if (::ftruncate(f.fd, static_cast<off_t>(size)) != 0) {
        fail(c, "truncate", f);
        continue;
      }
      f.model.resize(size, 0);
      ++c.truncates;
    } else if (op < 93) {  // read
      std::size_t off = pick(o.max_size);
      check_range(f, off, 1 + pick(65535), c);
      ++c.reads;
    } else if (op < 97) {  // close and open again
      ::close(f.fd);
      if (!open_file(f, c)) break;
      ++c.reopens;
    } else {
      if (::fsync(f.fd) != 0) fail(c, "fsync", f);
      ++c.fsyncs;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (File& f : files) {
    if (f.fd >= 0) check_range(f, 0, f.model.size() + 1, c);
  }
  std::printf(
      "fsx: %lld ops in %.1f s (%.0f ops/s): %lld writes, %lld truncates, %lld reads, %lld "
      "reopens, "
      "%lld fsyncs; %lld mismatches, %lld failed calls\n",
      done, secs, done / secs, c.writes, c.truncates, c.reads, c.reopens, c.fsyncs, c.mismatches,
      c.failures);
  for (File& f : files) {
    if (f.fd >= 0) ::close(f.fd);
    ::unlink(f.path.c_str());
  }
  return c.mismatches == 0 && c.failures == 0 ? 0 : 1;
}
