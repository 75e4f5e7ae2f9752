// `ninep mount`, `ninep umount` and podman's `ninep client9p`: mount an export through the
// kernel's v9fs (trans=fd) or through FUSE, and unmount either. The work is mount/mount.h and
// mount/unmount.h.
//
// Exit codes: 0 success, 1 runtime error (one line on stderr naming the path or address and the
// errno text), 2 usage error.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "command.h"
#include "mount/mount.h"
#include "mount/unmount.h"

namespace ninep::tool {

int run_mount(int argc, char** argv) {
  CLI::App app{"Mount a 9P2000.L export through the kernel's 9p (trans=fd) or FUSE", "ninep mount"};
  mount::MountRequest req;
  std::string via = "auto", msize;
  std::uint32_t uid = 0;
  std::vector<std::string> raw_options;
  app.add_option("--via", via, "kernel, fuse, or auto (kernel when it has 9p)")
      ->check(CLI::IsMember({"auto", "kernel", "fuse"}));
  app.add_option("--aname", req.aname, "export name to attach to");
  app.add_option("--msize", msize,
                 "maximum message size to request: 4096 to 16M (e.g. 64K, 1M; default: the "
                 "kernel's, FUSE 1M)");
  app.add_option("--cache", req.cache,
                 "cache mode: auto, none, loose, mmap. auto (FUSE): cache everything for long and "
                 "drop exactly what the server's change events name; against a server without "
                 "events like loose. Default: auto when the server offers events, else none; the "
                 "kernel's 9p: its own default (none) for auto")
      ->check(CLI::IsMember({"auto", "none", "loose", "mmap"}));
  app.add_option("-o", raw_options,
                 "mount options, comma separated (v9fs or FUSE options). The mount is nosuid,nodev "
                 "unless -o suid and/or -o dev ask otherwise")
      ->allow_extra_args(false);
  app.add_flag("--daemon", req.daemon, "detach once the mount is usable (FUSE)");
  app.add_flag("--reconnect", req.reconnect,
               "re-dial and re-attach when the server goes away (FUSE): operations wait for the "
               "new connection and run again; locks, and open files whose path no longer leads "
               "to them (ESTALE), are lost");
  app.add_option("--max-fids", req.max_fids,
                 "walked fids kept for cached inodes, 0 for no limit (FUSE; default 8192)");
  auto* uid_opt = app.add_option(
      "--uid", uid,
      "run every request as this one user id on the server (n_uname; kernel: access=UID). "
      "Default: each guest user attaches as itself on its first request, so the server applies "
      "that user's permissions (FUSE as root, and the kernel's access=user); a FUSE mount made "
      "by another user runs everything as that user");
  app.add_option("--poll-us", req.poll_us,
                 "poll for the next request and for each reply for up to this many microseconds "
                 "before sleeping (FUSE; adaptive; default 50, 0 = never)")
      ->check(CLI::Range(0u, 1000000u));
  app.add_flag("--debug", req.debug, "print every FUSE request (foreground)");
  app.add_option("ADDRESS", req.address,
                 "unix:/path, tcp:HOST:PORT, vsock:CID:PORT, fd:N, or a character device (kernel)")
      ->required();
  app.add_option("DIR", req.dir, "mount point (an existing directory)")->required();
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  auto v = mount::parse_via(via);
  if (!v) return usage_error("mount", v.error());
  req.via = *v;
  if (!msize.empty()) {
    auto m = mount::parse_msize(msize);
    if (!m) return usage_error("mount", m.error());
    req.msize = *m;
  }
  if (*uid_opt) req.uid = uid;
  req.options = mount::split_option_args(raw_options);
  if (auto r = mount::mount_export(std::move(req)); !r) return start_error("mount", r.error());
  return kExitOk;
}

int run_client9p(int argc, char** argv) {
  CLI::App app{"podman's client9p: mount the host's export at vsock port PORT (CID 2) on DIR",
               "ninep client9p"};
  std::uint32_t port = 0;
  mount::MountRequest req;
  app.add_option("PORT", port, "vsock port on the host")->required();
  app.add_option("DIR", req.dir, "mount point")->required();
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  req.address = "vsock:2:" + std::to_string(port);
  req.dial_attempts = 5;
  // Like the kernel path, which returns once mounted, the FUSE path detaches once mounted.
  req.daemon = true;
  if (auto r = mount::mount_export(std::move(req)); !r) return start_error("mount", r.error());
  return kExitOk;
}

int run_umount(int argc, char** argv) {
  CLI::App app{"Unmount a 9p or FUSE mount made by `ninep mount`", "ninep umount"};
  std::string dir;
  mount::UnmountOptions o;
  app.add_flag("-l,--lazy", o.lazy, "detach now, clean up when no longer busy");
  app.add_flag("-f,--force", o.force, "abort pending requests (kernel 9p)");
  app.add_option("DIR", dir, "mount point")->required();
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  if (auto r = mount::unmount(dir, o); !r) return start_error("umount", r.error());
  return kExitOk;
}

}  // namespace ninep::tool
