// Mounting a 9P export through the Linux kernel's v9fs client with trans=fd.
#pragma once

#include <sys/mount.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace ninep::mount {

// True when /proc/filesystems lists "9p" (the module may still need loading otherwise).
bool kernel_has_9p();

struct KernelMountOptions {
  std::uint32_t msize = 131072 + 24;  // the kernel's default since 5.15
  std::string cache;                  // "", none, loose, mmap, ... (passed through)
  std::string aname;
  // access=UID: every request runs as this one user. Unset: the kernel's default for 9P2000.L,
  // access=user (each guest user attaches as itself on its first request).
  std::optional<std::uint32_t> uid;
  std::vector<std::string> extra;  // further v9fs options (-o), passed through verbatim
  // MS_* mount flags. Set-user-id bits and device files on the export take no effect by default:
  // their owner on the host is not to be trusted with the guest's privileges.
  unsigned long flags = MS_NOSUID | MS_NODEV;
  std::string source;  // first field of /proc/mounts; "ninep" when empty
};

// `-o` values split into mount(2) flags and v9fs options.
struct MountOptionWords {
  unsigned long flags = MS_NOSUID | MS_NODEV;
  std::vector<std::string> extra;  // everything that is not a generic mount flag, in order
};

// The generic words of mount(8) (ro/rw, suid/nosuid, dev/nodev, exec/noexec, sync/async,
// atime/noatime, diratime/nodiratime, relatime/norelatime, strictatime, dirsync, mand/nomand,
// silent/loud) become MS_* flags, starting from nosuid,nodev (so "suid" and "dev" opt back in);
// the last word about a flag wins. Everything else is a v9fs option, kept in order.
MountOptionWords parse_mount_options(const std::vector<std::string>& options);

// Checks what mount(2) would misread: option values containing ',' (they would inject options),
// extra options that take over the transport (trans, rfdno, wfdno), an msize below the kernel's
// minimum of 4096. EINVAL naming the offending option.
Result<void> validate_kernel_mount_options(const KernelMountOptions& opts);

// The option string passed to mount(2): "trans=fd,rfdno=N,wfdno=N,version=9p2000.L,msize=M,...".
std::string kernel_mount_data(int fd, const KernelMountOptions& opts);

// Mounts the export reached through `conn` (a connected stream) on `dir`. When `conn` is a
// socket it is handed to the kernel as is and nothing else is needed afterwards. When it is not
// (e.g. a virtio-serial port, which the kernel cannot use for trans=fd), a relay process is
// forked that copies bytes between it and one end of a socketpair; the other end goes to mount(2).
Result<void> kernel_mount(UniqueFd conn, const std::string& dir, const KernelMountOptions& opts);

}  // namespace ninep::mount
