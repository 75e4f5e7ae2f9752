// Mounting a 9P export through the Linux kernel's v9fs client with trans=fd.
#pragma once

#include <cstdint>
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
  std::uint32_t uid = 0;           // n_uname for access=... when set explicitly
  std::vector<std::string> extra;  // further v9fs options (-o), passed through verbatim
  unsigned long flags = 0;         // MS_* mount flags (MS_RDONLY, ...)
  std::string source;              // first field of /proc/mounts; "ninep" when empty
};

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
