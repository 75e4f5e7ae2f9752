// Mount orchestration (what `ninep mount` and podman's `client9p` do): choose the kernel's v9fs
// or FUSE, turn the command line's words into either one's options, check the mount point, and
// mount — in the foreground or detached with the readiness protocol (readiness.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "fuse/fuse_mount.h"
#include "mount/kernel.h"

namespace ninep::mount {

enum class Via { Auto, Kernel, Fuse };

struct MountRequest {
  // unix:/path, tcp:HOST:PORT, vsock:CID:PORT, fd:N, or (kernel only) the path of a character
  // device such as a virtio-serial port.
  std::string address;
  std::string dir;  // mount point (an existing directory)
  Via via = Via::Auto;
  std::string aname;
  std::optional<std::uint32_t> msize;
  std::string cache;  // "" = the default (FUSE: auto, none without events); auto, none, loose, mmap
  std::vector<std::string> options;  // -o words, one per element (split_option_args)
  bool daemon = false;               // FUSE: detach once the mount is usable
  bool reconnect = false;            // FUSE: re-dial and re-attach when the server goes away
  std::optional<std::size_t> max_fids;
  std::optional<std::uint32_t> poll_us;  // FUSE: SessionOptions::poll_max and the /dev/fuse wait
  std::optional<std::uint32_t> uid;      // every request as this user (n_uname; kernel: access=UID)
  int dial_attempts = 1;  // client9p retries, as podman's does, while the host comes up
  bool debug = false;     // FUSE: print every request (foreground)
};

// "auto", "kernel" or "fuse" (EINVAL otherwise).
Result<Via> parse_via(std::string_view text);
// The way a request is mounted: Auto becomes Kernel when the kernel has 9p, else Fuse.
Via choose_via(Via requested, bool kernel_has_9p);
// --msize as people write sizes (4096, 64K, 1M), from 4096 to 16M. EINVAL naming --msize.
Result<std::uint32_t> parse_msize(std::string_view text);
// "-o a,b -o c" (each -o value one element) into {a, b, c}; empty words dropped.
std::vector<std::string> split_option_args(const std::vector<std::string>& raw);
// True when `address` names a character device (a path), not a transport address.
bool is_device_path(std::string_view address);

// The kernel's and FUSE's options for a request.
KernelMountOptions kernel_options(const MountRequest& req);
Result<fuse::MountOptions> fuse_options(const MountRequest& req);

// The canonical absolute path of the mount point: it must exist, be a directory and not be a
// mount point already (EBUSY saying what is mounted there). Errors do not repeat `dir`.
Result<std::string> check_mount_point(const std::string& dir);

// Mounts as `req` says. Kernel mounts return once mounted. FUSE mounts serve until unmounted, or
// with req.daemon return once a detached process has the mount usable. Errors are one line
// naming what failed (the mount point, the address, ...).
Result<void> mount_export(MountRequest req);

}  // namespace ninep::mount
