#include "mount/mount.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "common/size.h"
#include "fuse/mount_table.h"
#include "mount/readiness.h"
#include "transport/address.h"
#include "transport/socket.h"

namespace ninep::mount {
namespace {

constexpr std::uint64_t kMinMsize = 4096, kMaxMsize = 16u << 20;

// `e` as an error about `what` ("what: message").
Error about(std::string_view what, Error e) {
  e.message = e.message.empty() ? std::string(what) : std::string(what) + ": " + e.message;
  return e;
}

// Opens the server connection for the kernel path: an address, or a character device (a
// virtio-serial port), which kernel_mount relays through a socketpair.
Result<UniqueFd> open_connection(const MountRequest& req) {
  if (is_device_path(req.address)) {
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
  for (int attempt = 0; attempt < std::max(req.dial_attempts, 1); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    conn = transport::dial(*addr);
    if (conn) break;
  }
  return conn;
}

Result<void> mount_kernel(const MountRequest& req) {
  auto conn = open_connection(req);
  if (!conn) return std::unexpected(about(req.address, conn.error()));
  if (auto r = kernel_mount(std::move(*conn), req.dir, kernel_options(req)); !r)
    return std::unexpected(about(req.dir, r.error()));
  return {};
}

// Connects, mounts and serves until unmounted; `ready_fd` (detached) hears how it went.
Result<void> serve_fuse(const MountRequest& req, const fuse::MountOptions& fo, int ready_fd) {
  auto m = fuse::FuseMount::create(fo, req.dir);
  if (!m) {
    signal_failure(ready_fd, m.error().to_string());
    return std::unexpected(m.error());
  }
  if (req.cache == "auto" && (*m)->cache_mode() != fuse::CacheMode::Auto) {
    std::fprintf(stderr,
                 "ninep mount: %s offers no change events (%s): --cache auto caches like loose\n",
                 req.address.c_str(), (*m)->events_error().to_string().c_str());
  }
  auto r = (*m)->run([&] { signal_ready(ready_fd); });
  if (!r) {
    Error e = about(req.dir, r.error());
    signal_failure(ready_fd, e.to_string());
    return std::unexpected(e);
  }
  return {};
}

Result<void> mount_fuse(const MountRequest& req) {
  auto fo = fuse_options(req);
  if (!fo) return std::unexpected(about(req.address, fo.error()));
  if (!req.daemon) return serve_fuse(req, *fo, -1);
  // Forks before anything starts threads.
  auto pid = run_detached([&](int ready_fd) { return serve_fuse(req, *fo, ready_fd) ? 0 : 1; });
  if (!pid) return std::unexpected(pid.error());
  return {};
}

}  // namespace

Result<Via> parse_via(std::string_view text) {
  if (text == "auto") return Via::Auto;
  if (text == "kernel") return Via::Kernel;
  if (text == "fuse") return Via::Fuse;
  return fail(EINVAL, "--via: '" + std::string(text) + "' is not auto, kernel or fuse");
}

Via choose_via(Via requested, bool kernel_has_9p) {
  if (requested != Via::Auto) return requested;
  return kernel_has_9p ? Via::Kernel : Via::Fuse;
}

Result<std::uint32_t> parse_msize(std::string_view text) {
  auto v = parse_size(text);
  if (!v) return fail(EINVAL, "--msize: " + v.error().message);
  if (*v < kMinMsize || *v > kMaxMsize) return fail(EINVAL, "--msize: from 4096 to 16M");
  return static_cast<std::uint32_t>(*v);
}

std::vector<std::string> split_option_args(const std::vector<std::string>& raw) {
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

bool is_device_path(std::string_view address) {
  return !address.empty() && address[0] == '/';
}

KernelMountOptions kernel_options(const MountRequest& req) {
  KernelMountOptions ko;
  if (req.msize) ko.msize = *req.msize;
  // v9fs cannot be told what changed: auto is its default (none).
  ko.cache = req.cache == "auto" ? "" : req.cache;
  ko.aname = req.aname;
  ko.uid = req.uid;
  auto words = parse_mount_options(req.options);
  ko.flags = words.flags;
  ko.extra = std::move(words.extra);
  return ko;
}

Result<fuse::MountOptions> fuse_options(const MountRequest& req) {
  if (is_device_path(req.address)) return fail(EINVAL, "a character device needs --via kernel");
  fuse::MountOptions fo;
  auto addr = transport::parse_address(req.address);
  if (!addr) return std::unexpected(addr.error());
  fo.address = *addr;
  fo.aname = req.aname;
  if (req.msize) fo.msize = *req.msize;
  // The default: auto when the server offers change events, else none (never stale).
  fo.cache = fuse::CacheMode::Auto;
  fo.fallback = fuse::CacheMode::None;
  if (!req.cache.empty()) {
    auto c = fuse::parse_cache_mode(req.cache);
    if (!c) return std::unexpected(c.error());
    fo.cache = *c;
    fo.fallback = fuse::CacheMode::Loose;
  }
  // Unset: each guest user as itself when mounting as root, else only the mounting user.
  if (req.uid) fo.n_uname = *req.uid;
  fo.fuse_options = req.options;
  fo.reconnect = req.reconnect;
  if (req.max_fids) fo.max_fids = *req.max_fids;
  if (req.poll_us) fo.poll_max = std::chrono::microseconds(*req.poll_us);
  fo.debug = req.debug;
  return fo;
}

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

Result<void> mount_export(MountRequest req) {
  auto dir = check_mount_point(req.dir);
  if (!dir) return std::unexpected(about(req.dir, dir.error()));
  req.dir = *dir;
  if (choose_via(req.via, kernel_has_9p()) == Via::Kernel) return mount_kernel(req);
  return mount_fuse(req);
}

}  // namespace ninep::mount
