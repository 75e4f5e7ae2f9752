// `ninep mount`, `ninep umount` and podman's `ninep client9p`: mount an export through the
// kernel's v9fs (trans=fd) or through FUSE, and unmount either.
//
// Exit codes: 0 success, 1 runtime error (one line on stderr naming the path or address and the
// errno text), 2 usage error.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "command.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "fuse/fuse_mount.h"
#include "fuse/mount_table.h"
#include "mount/kernel.h"
#include "transport/address.h"
#include "transport/socket.h"

namespace ninep::tool {
namespace {

enum class Via { Auto, Kernel, Fuse };

struct MountRequest {
  std::string address;
  std::string dir;
  Via via = Via::Auto;
  std::string aname;
  std::optional<std::uint32_t> msize;
  std::string cache;  // "" = default (none)
  std::vector<std::string> options;
  bool daemon = false;
  bool reconnect = false;
  std::optional<std::size_t> max_fids;
  std::optional<std::uint32_t> uid;
  int dial_attempts = 1;  // client9p retries, as podman's does, while the host side comes up
  bool debug = false;
};

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

int error(const char* cmd, const std::string& what, const Error& e) {
  std::fprintf(stderr, "ninep %s: %s: %s\n", cmd, what.c_str(), e.to_string().c_str());
  return kExitError;
}

// Splits "-o a,b -o c" into {a, b, c}.
std::vector<std::string> split_options(const std::vector<std::string>& raw) {
  std::vector<std::string> out;
  for (const auto& r : raw) {
    std::size_t pos = 0;
    while (pos <= r.size()) {
      std::size_t end = r.find(',', pos);
      if (end == std::string::npos) end = r.size();
      if (end > pos) out.push_back(r.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  return out;
}

// The canonical absolute path of the mount point; it must exist and be a directory.
Result<std::string> check_mount_point(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return fail_errno({});
  if (!S_ISDIR(st.st_mode)) return fail(ENOTDIR);
  char* real = ::realpath(dir.c_str(), nullptr);
  if (!real) return fail_errno({});
  std::string out(real);
  std::free(real);
  auto m = fuse::find_mount(out);
  if (!m) return std::unexpected(m.error());
  if (*m) return fail(EBUSY, "already mounted (" + (*m)->fstype + " from " + (*m)->source + ")");
  return out;
}

// An absolute path for `dir` that does not stat its last component: the mount point of a dead
// FUSE server answers ENOTCONN to everything.
std::string absolute_without_following(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  std::size_t slash = d.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : d.substr(0, slash));
  std::string base = slash == std::string::npos ? d : d.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") {
    char* real = ::realpath(d.c_str(), nullptr);
    if (!real) return d;
    std::string out(real);
    std::free(real);
    return out;
  }
  char* real = ::realpath(parent.c_str(), nullptr);
  if (!real) return d;
  std::string out(real);
  std::free(real);
  return (out == "/" ? "" : out) + "/" + base;
}

bool kernel_available() {
  return mount::kernel_has_9p();
}

// Opens the server connection for the kernel path: an address, or a character device path (a
// virtio-serial port), which kernel_mount relays through a socketpair.
Result<UniqueFd> open_connection(const MountRequest& req) {
  if (!req.address.empty() && req.address[0] == '/') {
    struct stat st {};
    if (::stat(req.address.c_str(), &st) != 0) return fail_errno("open");
    if (!S_ISCHR(st.st_mode)) return fail(EINVAL, "not a character device nor an address");
    int fd = ::open(req.address.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return fail_errno("open");
    return UniqueFd(fd);
  }
  auto addr = transport::parse_address(req.address);
  if (!addr) return std::unexpected(addr.error());
  Result<UniqueFd> conn = fail(EINVAL);
  for (int attempt = 0; attempt < req.dial_attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    conn = transport::dial(*addr);
    if (conn) break;
  }
  return conn;
}

int mount_kernel(const MountRequest& req) {
  auto conn = open_connection(req);
  if (!conn) return error("mount", req.address, conn.error());
  mount::KernelMountOptions ko;
  if (req.msize) ko.msize = *req.msize;
  ko.cache = req.cache;
  ko.aname = req.aname;
  ko.uid = req.uid;
  auto words = mount::parse_mount_options(req.options);
  ko.flags = words.flags;
  ko.extra = std::move(words.extra);
  auto r = mount::kernel_mount(std::move(*conn), req.dir, ko);
  if (!r) return error("mount", req.dir, r.error());
  return 0;
}

Result<fuse::MountOptions> fuse_options(const MountRequest& req) {
  fuse::MountOptions fo;
  if (!req.address.empty() && req.address[0] == '/')
    return fail(EINVAL, "a character device needs --via kernel");
  auto addr = transport::parse_address(req.address);
  if (!addr) return std::unexpected(addr.error());
  fo.address = *addr;
  fo.aname = req.aname;
  if (req.msize) fo.msize = *req.msize;
  if (!req.cache.empty()) {
    auto c = fuse::parse_cache_mode(req.cache);
    if (!c) return std::unexpected(c.error());
    fo.cache = *c;
  }
  // Unset: each guest user as itself when mounting as root, else only the mounting user.
  if (req.uid) fo.n_uname = *req.uid;
  fo.fuse_options = req.options;
  fo.reconnect = req.reconnect;
  if (req.max_fids) fo.max_fids = *req.max_fids;
  fo.debug = req.debug;
  return fo;
}

// Reports the child's outcome to the waiting parent: "0" (mounted) or "1<message>".
void report(int fd, bool ok, const std::string& message) {
  if (fd < 0) return;
  std::string s = (ok ? "0" : "1") + message;
  [[maybe_unused]] auto n = ::write(fd, s.data(), s.size());
}

void detach_stdio() {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return;
  ::dup2(null, 0);
  ::dup2(null, 1);
  ::dup2(null, 2);
  if (null > 2) ::close(null);
}

// Connects, mounts and serves; `ready_fd` (daemon mode) gets the outcome once the mount is usable.
int serve_fuse(const MountRequest& req, const fuse::MountOptions& fo, int ready_fd) {
  auto m = fuse::FuseMount::create(fo, req.dir);
  if (!m) {
    std::string line = m.error().to_string();
    if (ready_fd >= 0) {
      report(ready_fd, false, line);
      return kExitError;
    }
    std::fprintf(stderr, "ninep mount: %s\n", line.c_str());
    return kExitError;
  }
  auto r = (*m)->run([&] {
    if (ready_fd >= 0) {
      report(ready_fd, true, {});
      ::close(ready_fd);
      ready_fd = -1;
      detach_stdio();
    }
  });
  if (!r) {
    if (ready_fd >= 0) report(ready_fd, false, r.error().to_string());
    std::fprintf(stderr, "ninep mount: %s: %s\n", req.dir.c_str(), r.error().to_string().c_str());
    return kExitError;
  }
  return 0;
}

int mount_fuse(const MountRequest& req) {
  auto fo = fuse_options(req);
  if (!fo) return error("mount", req.address, fo.error());
  if (!req.daemon) return serve_fuse(req, *fo, -1);

  // Fork before anything starts threads; the parent exits only once the child reports.
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return error("mount", "pipe", Error{errno, {}});
  pid_t pid = ::fork();
  if (pid < 0) return error("mount", "fork", Error{errno, {}});
  if (pid == 0) {
    ::close(p[0]);
    ::setsid();
    if (::chdir("/") != 0) {
      // keep going: the mount does not depend on the working directory
    }
    ::_exit(serve_fuse(req, *fo, p[1]));
  }
  ::close(p[1]);
  std::string msg;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n > 0) {
      msg.append(buf, std::size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(p[0]);
  if (!msg.empty() && msg[0] == '0') return 0;
  if (msg.empty()) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    msg = "1mount process exited before the mount was ready";
  }
  std::fprintf(stderr, "ninep mount: %s\n", msg.c_str() + 1);
  return kExitError;
}

int do_mount(MountRequest req) {
  auto dir = check_mount_point(req.dir);
  if (!dir) return error("mount", req.dir, dir.error());
  req.dir = *dir;
  Via via = req.via;
  if (via == Via::Auto) via = kernel_available() ? Via::Kernel : Via::Fuse;
  if (via == Via::Kernel) return mount_kernel(req);
  return mount_fuse(req);
}

int cmd_mount(int argc, char** argv) {
  CLI::App app{"Mount a 9P2000.L export through the kernel's 9p (trans=fd) or FUSE", "ninep mount"};
  MountRequest req;
  std::string via = "auto";
  std::uint32_t msize = 0, uid = 0;
  std::vector<std::string> raw_options;
  app.add_option("--via", via, "kernel, fuse, or auto (kernel when it has 9p)")
      ->check(CLI::IsMember({"auto", "kernel", "fuse"}));
  app.add_option("--aname", req.aname, "export name to attach to");
  auto* msize_opt = app.add_option("--msize", msize, "maximum message size to request")
                        ->check(CLI::Range(4096u, 16u * 1024 * 1024));
  app.add_option("--cache", req.cache, "cache mode: none (default), loose, mmap")
      ->check(CLI::IsMember({"none", "loose", "mmap"}));
  app.add_option("-o", raw_options,
                 "mount options, comma separated (v9fs or FUSE options). The mount is nosuid,nodev "
                 "unless -o suid and/or -o dev ask otherwise")
      ->allow_extra_args(false);
  app.add_flag("--daemon", req.daemon, "detach once the mount is usable (FUSE)");
  app.add_flag("--reconnect", req.reconnect,
               "re-dial and re-attach when the server goes away (FUSE)");
  app.add_option("--max-fids", req.max_fids,
                 "walked fids kept for cached inodes, 0 for no limit (FUSE; default 8192)");
  auto* uid_opt = app.add_option(
      "--uid", uid,
      "run every request as this one user id on the server (n_uname; kernel: access=UID). "
      "Default: each guest user attaches as itself on its first request, so the server applies "
      "that user's permissions (FUSE as root, and the kernel's access=user); a FUSE mount made "
      "by another user runs everything as that user");
  app.add_flag("--debug", req.debug, "print every FUSE request (foreground)");
  app.add_option("ADDRESS", req.address,
                 "unix:/path, tcp:HOST:PORT, vsock:CID:PORT, fd:N, or a character device (kernel)")
      ->required();
  app.add_option("DIR", req.dir, "mount point (an existing directory)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  req.via = via == "kernel" ? Via::Kernel : via == "fuse" ? Via::Fuse : Via::Auto;
  if (*msize_opt) req.msize = msize;
  if (*uid_opt) req.uid = uid;
  req.options = split_options(raw_options);
  return do_mount(std::move(req));
}

int cmd_client9p(int argc, char** argv) {
  CLI::App app{"podman's client9p: mount the host's export at vsock port PORT (CID 2) on DIR",
               "ninep client9p"};
  std::uint32_t port = 0;
  MountRequest req;
  app.add_option("PORT", port, "vsock port on the host")->required();
  app.add_option("DIR", req.dir, "mount point")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  req.address = "vsock:2:" + std::to_string(port);
  req.dial_attempts = 5;
  // Like the kernel path, which returns once mounted, the FUSE path detaches once mounted.
  req.daemon = true;
  return do_mount(std::move(req));
}

int cmd_umount(int argc, char** argv) {
  CLI::App app{"Unmount a 9p or FUSE mount made by `ninep mount`", "ninep umount"};
  std::string dir;
  bool lazy = false, force = false;
  app.add_flag("-l,--lazy", lazy, "detach now, clean up when no longer busy");
  app.add_flag("-f,--force", force, "abort pending requests (kernel 9p)");
  app.add_option("DIR", dir, "mount point")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  std::string path = absolute_without_following(dir);
  auto m = fuse::find_mount(path);
  if (!m) return error("umount", "/proc/self/mountinfo", m.error());
  if (!*m) return error("umount", path, Error{EINVAL, "not mounted"});
  bool fuse = fuse::is_fuse_type((*m)->fstype);
  if (fuse && ::geteuid() != 0) {
    // Unprivileged FUSE mounts are undone by the setuid helper.
    pid_t pid = ::fork();
    if (pid == 0) {
      if (lazy)
        ::execlp("fusermount3", "fusermount3", "-u", "-z", "--", path.c_str(), nullptr);
      else
        ::execlp("fusermount3", "fusermount3", "-u", "--", path.c_str(), nullptr);
      ::_exit(127);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) < 0)
      return error("umount", path, Error{errno, "fusermount3"});
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return error("umount", path, Error{0, "fusermount3 failed"});
    return 0;
  }
  int flags = (lazy ? MNT_DETACH : 0) | (force ? MNT_FORCE : 0);
  if (::umount2(path.c_str(), flags) != 0) return error("umount", path, Error{errno, {}});
  return 0;
}

CommandRegistration reg_mount("mount", "mount an export through the kernel's 9p or FUSE",
                              &cmd_mount);
CommandRegistration reg_umount("umount", "unmount a 9p or FUSE mount", &cmd_umount);
CommandRegistration reg_client9p("client9p", "podman's client9p: mount vsock:2:PORT on DIR",
                                 &cmd_client9p);

}  // namespace
}  // namespace ninep::tool
