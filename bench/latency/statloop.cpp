// bench_statloop: stat() of one path N times in one process; prints the mean microseconds per
// call (one number). A shell loop of `stat` commands would time fork and exec, not the file
// system; this times the file system (with cache=none, every call is a FUSE round trip).
//
//   bench_statloop PATH [N]       (default N: 20000)
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: bench_statloop PATH [N]\n");
    return 2;
  }
  long n = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 20000;
  if (n < 1) {
    std::fprintf(stderr, "bench_statloop: N must be at least 1\n");
    return 2;
  }
  struct stat st {};
  if (::stat(argv[1], &st) < 0) {  // untimed: the path exists, and it is looked up once
    std::fprintf(stderr, "bench_statloop: %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    if (::stat(argv[1], &st) < 0) {
      std::fprintf(stderr, "bench_statloop: %s: %s\n", argv[1], std::strerror(errno));
      return 1;
    }
  }
  std::chrono::duration<double, std::micro> us = std::chrono::steady_clock::now() - t0;
  std::printf("%.2f\n", us.count() / double(n));
  return 0;
}
