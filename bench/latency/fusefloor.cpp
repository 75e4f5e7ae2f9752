// bench_fusefloor: the FUSE floor. Mounts a file system whose only file is its root directory,
// answered from memory, and serves it with the mount's own request loop (fuse::RequestLoop) until
// it is unmounted. A stat() of it with cache=none (attribute timeout 0) costs one FUSE getattr
// round trip and nothing else: what a `ninep mount` stat would cost with a server that took no
// time at all.
//
//   bench_fusefloor [--poll-us N] MOUNTPOINT     (default N: 50, as `ninep mount`; 0 never polls)
#define FUSE_USE_VERSION 314
#include <fuse3/fuse_lowlevel.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fuse/request_loop.h"

namespace {

void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  if (ino != FUSE_ROOT_ID) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  struct stat st {};
  st.st_ino = FUSE_ROOT_ID;
  st.st_mode = S_IFDIR | 0755;
  st.st_nlink = 2;
  fuse_reply_attr(req, &st, 0.0);
}

void lookup(fuse_req_t req, fuse_ino_t, const char*) {
  fuse_reply_err(req, ENOENT);
}

int usage() {
  std::fprintf(stderr, "usage: bench_fusefloor [--poll-us N] MOUNTPOINT\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  long poll_us = 50;
  const char* dir = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--poll-us") == 0 && i + 1 < argc) {
      char* end = nullptr;
      poll_us = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || poll_us < 0) return usage();
    } else if (!dir && argv[i][0] != '-') {
      dir = argv[i];
    } else {
      return usage();
    }
  }
  if (!dir) return usage();

  fuse_lowlevel_ops ops{};
  ops.getattr = getattr;
  ops.lookup = lookup;
  char prog[] = "bench_fusefloor", o[] = "-o", opts[] = "fsname=fusefloor,subtype=fusefloor";
  char* args_v[] = {prog, o, opts, nullptr};
  fuse_args args = FUSE_ARGS_INIT(3, args_v);
  fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, nullptr);
  if (!se) {
    std::fprintf(stderr, "bench_fusefloor: fuse_session_new failed\n");
    return 1;
  }
  if (fuse_session_mount(se, dir) != 0) {
    std::fprintf(stderr, "bench_fusefloor: %s: FUSE mount failed\n", dir);
    fuse_session_destroy(se);
    return 1;
  }
  ninep::fuse::RequestLoop loop(se, 4, std::chrono::microseconds(poll_us));
  const int rc = loop.run();  // until unmounted
  fuse_session_unmount(se);
  fuse_session_destroy(se);
  if (rc < 0) {
    std::fprintf(stderr, "bench_fusefloor: %s\n", std::strerror(-rc));
    return 1;
  }
  return 0;
}
