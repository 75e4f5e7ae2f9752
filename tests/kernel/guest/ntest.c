/* ntest: what the guest test suite needs and busybox lacks (xattrs, flock and POSIX locks between
 * two processes, directory stream checks, fast file creation, a millisecond clock).
 * Built with the host's gcc -static; runs in the busybox initramfs and on the host.
 * Exit status 0 = check passed; on failure one line on stderr says what differed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static int failf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- files and directories ------------------------------------------------------------------ */

static int cmd_mkfiles(int argc, char** argv) {
  if (argc != 4) return failf("usage: mkfiles DIR COUNT PREFIX");
  long count = atol(argv[2]);
  char path[4096];
  for (long i = 0; i < count; ++i) {
    snprintf(path, sizeof path, "%s/%s%05ld", argv[1], argv[3], i);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return failf("create %s: %s", path, strerror(errno));
    close(fd);
  }
  return 0;
}

struct Entry {
  char name[256];
  long pos; /* telldir() before this entry was read */
};

static int compare_names(const void* a, const void* b) {
  return strcmp(((const struct Entry*)a)->name, ((const struct Entry*)b)->name);
}

/* Reads the whole stream from the current position, recording names and positions. */
static long read_all(DIR* d, struct Entry* out, long cap, int* overflow) {
  long n = 0;
  for (;;) {
    long pos = telldir(d);
    errno = 0;
    struct dirent* e = readdir(d);
    if (!e) {
      if (errno) return -1;
      return n;
    }
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) {
      *overflow = 1;
      continue;
    }
    snprintf(out[n].name, sizeof out[n].name, "%s", e->d_name);
    out[n].pos = pos;
    ++n;
  }
}

/* dircheck DIR COUNT [--stat]: exactly COUNT distinct entries; rewinddir gives the same set;
 * seekdir to any recorded telldir position resumes at the same entry; optionally lstat each. */
static int cmd_dircheck(int argc, char** argv) {
  if (argc < 3) return failf("usage: dircheck DIR COUNT [--stat]");
  long want = atol(argv[2]);
  int do_stat = argc > 3 && !strcmp(argv[3], "--stat");
  long cap = want + 16;
  struct Entry* first = calloc(cap, sizeof *first);
  struct Entry* second = calloc(cap, sizeof *second);
  if (!first || !second) return failf("out of memory");
  DIR* d = opendir(argv[1]);
  if (!d) return failf("opendir %s: %s", argv[1], strerror(errno));

  int overflow = 0;
  long n1 = read_all(d, first, cap, &overflow);
  if (n1 < 0) return failf("readdir %s: %s", argv[1], strerror(errno));
  if (overflow || n1 != want) return failf("first pass: %ld entries, expected %ld", n1, want);
  rewinddir(d);
  long n2 = read_all(d, second, cap, &overflow);
  if (n2 != want) return failf("after rewinddir: %ld entries, expected %ld", n2, want);

  /* seekdir back to positions taken during the second pass, latest first. */
  long probes[] = {want - 1, want / 2, want / 3, 100, 1, 0};
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; ++i) {
    long k = probes[i];
    if (k < 0 || k >= want) continue;
    seekdir(d, second[k].pos);
    struct dirent* e;
    do {
      errno = 0;
      e = readdir(d);
    } while (e && (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")));
    if (!e) return failf("seekdir to entry %ld: nothing read (%s)", k, strerror(errno));
    if (strcmp(e->d_name, second[k].name))
      return failf("seekdir to entry %ld: got '%s', expected '%s'", k, e->d_name, second[k].name);
  }

  qsort(first, n1, sizeof *first, compare_names);
  qsort(second, n2, sizeof *second, compare_names);
  for (long i = 0; i < n1; ++i) {
    if (i > 0 && !strcmp(first[i].name, first[i - 1].name))
      return failf("entry '%s' listed twice", first[i].name);
    if (strcmp(first[i].name, second[i].name))
      return failf("rewinddir changed the set: '%s' vs '%s'", first[i].name, second[i].name);
  }
  if (do_stat) {
    int dfd = dirfd(d);
    for (long i = 0; i < n1; ++i) {
      struct stat st;
      if (fstatat(dfd, first[i].name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return failf("lstat %s/%s: %s", argv[1], first[i].name, strerror(errno));
    }
  }
  closedir(d);
  free(first);
  free(second);
  return 0;
}

/* ---- xattrs --------------------------------------------------------------------------------- */

static int cmd_xattr(int argc, char** argv) {
  if (argc < 3) return failf("usage: xattr set|get|list|remove PATH [NAME [VALUE]]");
  const char* op = argv[1];
  const char* path = argv[2];
  if (!strcmp(op, "set") && argc == 5) {
    if (lsetxattr(path, argv[3], argv[4], strlen(argv[4]), 0) != 0)
      return failf("setxattr %s %s: %s", path, argv[3], strerror(errno));
    return 0;
  }
  if (!strcmp(op, "setsize") && argc == 5) { /* a value of N bytes 'v' */
    size_t n = (size_t)atol(argv[4]);
    char* v = malloc(n + 1);
    if (!v) return failf("out of memory");
    memset(v, 'v', n);
    int rc = lsetxattr(path, argv[3], v, n, 0);
    free(v);
    if (rc != 0) return failf("setxattr %s %s (%zu bytes): %s", path, argv[3], n, strerror(errno));
    return 0;
  }
  if (!strcmp(op, "get") && argc == 4) {
    char buf[65536];
    ssize_t n = lgetxattr(path, argv[3], buf, sizeof buf);
    if (n < 0) return failf("getxattr %s %s: %s", path, argv[3], strerror(errno));
    fwrite(buf, 1, (size_t)n, stdout);
    putchar('\n');
    return 0;
  }
  if (!strcmp(op, "list") && argc == 3) {
    char buf[65536];
    ssize_t n = llistxattr(path, buf, sizeof buf);
    if (n < 0) return failf("listxattr %s: %s", path, strerror(errno));
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) puts(buf + i);
    return 0;
  }
  if (!strcmp(op, "remove") && argc == 4) {
    if (lremovexattr(path, argv[3]) != 0)
      return failf("removexattr %s %s: %s", path, argv[3], strerror(errno));
    return 0;
  }
  return failf("xattr: bad arguments");
}

/* ---- locks between two processes ------------------------------------------------------------ */

static int posix_lock(int fd, int cmd, short type) {
  struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  return fcntl(fd, cmd, &fl);
}

/* The holder child takes the lock, reports on `ready`, waits for a byte on `go`, unlocks. */
static pid_t spawn_holder(const char* path, int use_flock, int exclusive, int* ready_rd,
                          int* go_wr) {
  int ready[2], go[2];
  if (pipe(ready) || pipe(go)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    close(go[1]);
    int fd = open(path, O_RDWR);
    int rc = fd < 0      ? -1
             : use_flock ? flock(fd, exclusive ? LOCK_EX : LOCK_SH)
                         : posix_lock(fd, F_SETLKW, exclusive ? F_WRLCK : F_RDLCK);
    char c = rc == 0 ? 'L' : 'E';
    if (write(ready[1], &c, 1) != 1) _exit(3);
    if (rc != 0) _exit(2);
    if (read(go[0], &c, 1) < 0) _exit(3);
    rc = use_flock ? flock(fd, LOCK_UN) : posix_lock(fd, F_SETLK, F_UNLCK);
    _exit(rc == 0 ? 0 : 4);
  }
  close(ready[1]);
  close(go[0]);
  *ready_rd = ready[0];
  *go_wr = go[1];
  return pid;
}

static int wait_child(pid_t pid, const char* what) {
  int status;
  if (waitpid(pid, &status, 0) != pid) return failf("%s: waitpid: %s", what, strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return failf("%s: holder process failed (status 0x%x)", what, status);
  return 0;
}

/* locks PATH flock|posix: an exclusive lock held by one process blocks a second one
 * (non-blocking attempts fail, a blocking attempt succeeds once released); shared locks coexist. */
static int cmd_locks(int argc, char** argv) {
  if (argc != 3) return failf("usage: locks PATH flock|posix");
  const char* path = argv[1];
  int use_flock = !strcmp(argv[2], "flock");
  alarm(120); /* a lock that never comes back fails the check instead of hanging the suite */

  int ready, go;
  char c;
  pid_t holder = spawn_holder(path, use_flock, 1, &ready, &go);
  if (holder < 0) return failf("fork: %s", strerror(errno));
  if (read(ready, &c, 1) != 1 || c != 'L') return failf("holder could not take the lock");
  int fd = open(path, O_RDWR);
  if (fd < 0) return failf("open %s: %s", path, strerror(errno));

  int rc = use_flock ? flock(fd, LOCK_EX | LOCK_NB) : posix_lock(fd, F_SETLK, F_WRLCK);
  if (rc == 0) return failf("second exclusive lock granted while the first is held");
  if (errno != EWOULDBLOCK && errno != EAGAIN && errno != EACCES)
    return failf("second exclusive lock: unexpected error %s", strerror(errno));
  rc = use_flock ? flock(fd, LOCK_SH | LOCK_NB) : posix_lock(fd, F_SETLK, F_RDLCK);
  if (rc == 0) return failf("shared lock granted while an exclusive one is held");
  if (!use_flock) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_GETLK, &fl) != 0) return failf("F_GETLK: %s", strerror(errno));
    if (fl.l_type != F_WRLCK || fl.l_pid != holder)
      return failf("F_GETLK: type %d pid %d, expected the holder %d", fl.l_type, fl.l_pid, holder);
  }

  /* Release from the other process while we block: the blocking lock must then succeed. */
  long long t0 = now_ms();
  pid_t releaser = fork();
  if (releaser == 0) {
    usleep(200 * 1000);
    _exit(write(go, "g", 1) == 1 ? 0 : 1);
  }
  rc = use_flock ? flock(fd, LOCK_EX) : posix_lock(fd, F_SETLKW, F_WRLCK);
  if (rc != 0) return failf("blocking lock after release: %s", strerror(errno));
  long long waited = now_ms() - t0;
  if (wait_child(holder, "exclusive holder") || wait_child(releaser, "releaser")) return 1;
  rc = use_flock ? flock(fd, LOCK_UN) : posix_lock(fd, F_SETLK, F_UNLCK);
  if (rc != 0) return failf("unlock: %s", strerror(errno));
  close(ready);
  close(go);

  /* Shared locks coexist. */
  holder = spawn_holder(path, use_flock, 0, &ready, &go);
  if (holder < 0 || read(ready, &c, 1) != 1 || c != 'L')
    return failf("shared holder could not take the lock");
  rc = use_flock ? flock(fd, LOCK_SH | LOCK_NB) : posix_lock(fd, F_SETLK, F_RDLCK);
  if (rc != 0) return failf("second shared lock refused: %s", strerror(errno));
  if (write(go, "g", 1) != 1 || wait_child(holder, "shared holder")) return 1;

  if (!use_flock) {
    /* One process's locks through two descriptors of the file belong to one owner: no
     * conflict between them, and closing either descriptor releases them all. */
    int fd2 = open(path, O_RDWR);
    if (fd2 < 0) return failf("open %s: %s", path, strerror(errno));
    if (posix_lock(fd, F_SETLK, F_WRLCK) != 0)
      return failf("exclusive lock through the first descriptor: %s", strerror(errno));
    if (posix_lock(fd2, F_SETLK, F_WRLCK) != 0)
      return failf("the process's second descriptor conflicts with its first: %s",
                   strerror(errno));
    close(fd2);
    pid_t other = fork();
    if (other == 0) {
      int f = open(path, O_RDWR);
      _exit(f >= 0 && posix_lock(f, F_SETLK, F_WRLCK) == 0 ? 0 : 1);
    }
    if (wait_child(other, "lock after the owner closed a descriptor")) return 1;
  }
  close(fd);
  printf("blocking lock granted %lld ms after the release was requested\n", waited);
  return 0;
}

/* ---- misc ----------------------------------------------------------------------------------- */

static int cmd_now(int argc, char** argv) {
  (void)argc;
  (void)argv;
  printf("%lld\n", now_ms());
  return 0;
}

/* mmap PATH shared|readonly: "shared" writes a pattern through a shared writable mapping of a new
 * 1 MiB file, unmaps, then checks it with read(); "readonly" checks a read-only mapping of PATH
 * against read(). */
static int cmd_mmap(int argc, char** argv) {
  if (argc != 3) return failf("usage: mmap PATH shared|readonly");
  const size_t size = 1 << 20;
  int shared = !strcmp(argv[2], "shared");
  int fd = shared ? open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644) : open(argv[1], O_RDONLY);
  if (fd < 0) return failf("open %s: %s", argv[1], strerror(errno));
  unsigned char* want = malloc(size);
  unsigned char* got = malloc(size);
  if (!want || !got) return failf("out of memory");
  if (shared) {
    if (ftruncate(fd, (off_t)size) != 0) return failf("ftruncate: %s", strerror(errno));
    unsigned char* m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return failf("mmap shared writable: %s", strerror(errno));
    for (size_t i = 0; i < size; ++i) want[i] = m[i] = (unsigned char)(i * 7 + i / 4096);
    if (msync(m, size, MS_SYNC) != 0) return failf("msync: %s", strerror(errno));
    munmap(m, size);
  } else {
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 1) return failf("%s is empty", argv[1]);
    size_t n = (size_t)st.st_size < size ? (size_t)st.st_size : size;
    unsigned char* m = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return failf("mmap read-only: %s", strerror(errno));
    memcpy(want, m, n);
    munmap(m, n);
    if (pread(fd, got, n, 0) != (ssize_t)n) return failf("pread: %s", strerror(errno));
    if (memcmp(want, got, n)) return failf("mapped bytes differ from read() bytes");
    close(fd);
    return 0;
  }
  close(fd);
  fd = open(argv[1], O_RDONLY);
  if (fd < 0 || pread(fd, got, size, 0) != (ssize_t)size)
    return failf("read back: %s", strerror(errno));
  for (size_t i = 0; i < size; ++i)
    if (got[i] != want[i]) return failf("byte %zu: got %u, wrote %u", i, got[i], want[i]);
  close(fd);
  return 0;
}

/* statloop PATH COUNT: stats PATH COUNT times; prints the time per call (round-trip latency). */
static int cmd_statloop(int argc, char** argv) {
  if (argc != 3) return failf("usage: statloop PATH COUNT");
  long count = atol(argv[2]);
  struct stat st;
  long long t0 = now_ms();
  for (long i = 0; i < count; ++i)
    if (stat(argv[1], &st) != 0) return failf("stat %s: %s", argv[1], strerror(errno));
  long long ms = now_ms() - t0;
  printf("%ld stats in %lld ms (%lld us each)\n", count, ms, count ? ms * 1000 / count : 0);
  return 0;
}

/* lstat PATH: prints "type size" of the path itself (symlinks not followed). */
static int cmd_lstat(int argc, char** argv) {
  if (argc != 2) return failf("usage: lstat PATH");
  struct stat st;
  if (lstat(argv[1], &st) != 0) return failf("lstat %s: %s", argv[1], strerror(errno));
  const char* type = S_ISLNK(st.st_mode)   ? "symlink"
                     : S_ISDIR(st.st_mode) ? "dir"
                     : S_ISREG(st.st_mode) ? "file"
                                           : "other";
  printf("%s %lld\n", type, (long long)st.st_size);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2)
    return failf("usage: ntest now|mkfiles|dircheck|xattr|locks|lstat|statloop|mmap ...");
  const char* cmd = argv[1];
  if (!strcmp(cmd, "now")) return cmd_now(argc - 1, argv + 1);
  if (!strcmp(cmd, "mkfiles")) return cmd_mkfiles(argc - 1, argv + 1);
  if (!strcmp(cmd, "dircheck")) return cmd_dircheck(argc - 1, argv + 1);
  if (!strcmp(cmd, "xattr")) return cmd_xattr(argc - 1, argv + 1);
  if (!strcmp(cmd, "locks")) return cmd_locks(argc - 1, argv + 1);
  if (!strcmp(cmd, "lstat")) return cmd_lstat(argc - 1, argv + 1);
  if (!strcmp(cmd, "mmap")) return cmd_mmap(argc - 1, argv + 1);
  if (!strcmp(cmd, "statloop")) return cmd_statloop(argc - 1, argv + 1);
  return failf("ntest: unknown command '%s'", cmd);
}
