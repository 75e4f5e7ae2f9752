#include "server/daemon/sandbox.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <string>

#include "common/unique_fd.h"
#include "server/identity.h"
#include "server/localfs/host_path.h"

namespace ninep::server {
namespace {

Result<void> write_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return fail_errno("sandbox: write " + path);
  return {};
}

Result<void> mount_or_fail(const char* src, const char* target, const char* type,
                           unsigned long flags, const char* data, const char* what) {
  if (::mount(src, target, type, flags, data) != 0)
    return fail_errno(std::string("sandbox: ") + what);
  return {};
}

// The canonical paths of the exports, each once, deepest first (a nested export's mount is moved
// out before the one holding it).
Result<std::vector<std::string>> distinct_paths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    char* real = ::realpath(p.c_str(), nullptr);
    if (real == nullptr) return fail_errno(p);
    std::string r(real);
    std::free(real);
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

// The deepest directory holding every path.
std::string common_directory(const std::vector<std::string>& paths) {
  std::string common = paths.empty() ? "/" : paths.front();
  for (const auto& p : paths) {
    while (!(p == common || (p.compare(0, common.size(), common) == 0 &&
                             (common == "/" || p[common.size()] == '/')))) {
      const std::size_t slash = common.rfind('/');
      common = slash == 0 ? "/" : common.substr(0, slash);
    }
  }
  return common;
}

bool has_effective_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  return ::syscall(SYS_capget, &header, data) == 0 &&
         (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

// New mount (and user) namespaces where each of `paths` is a mount of its own.
Result<void> isolate(const std::vector<std::string>& paths, bool user) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWNS | (user ? CLONE_NEWUSER : 0)) != 0)
    return fail_errno(user ? "sandbox: new user and mount namespaces"
                           : "sandbox: new mount namespace");
  if (user) {
    // Only the server's own ids exist in the namespace: it can do nothing it could not before.
    if (auto r = write_file("/proc/self/setgroups", "deny"); !r) return r;
    if (auto r = write_file("/proc/self/uid_map",
                            std::to_string(uid) + " " + std::to_string(uid) + " 1\n");
        !r)
      return r;
    if (auto r = write_file("/proc/self/gid_map",
                            std::to_string(gid) + " " + std::to_string(gid) + " 1\n");
        !r)
      return r;
  }
  // Nothing done from here on is seen outside, or changed by what happens outside.
  if (auto r =
          mount_or_fail(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr, "make mounts private");
      !r)
    return r;
  // Each export becomes a mount of its own (with what is mounted below it), which enter() moves.
  for (const auto& p : paths)
    if (auto r = mount_or_fail(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr,
                               ("bind " + p).c_str());
        !r)
      return r;
  return {};
}

}  // namespace

Result<SandboxMode> parse_sandbox_mode(std::string_view text) {
  if (text == "namespace") return SandboxMode::Namespace;
  if (text == "chroot") return SandboxMode::Chroot;
  if (text == "none") return SandboxMode::None;
  return fail(EINVAL, "--sandbox: '" + std::string(text) + "' is not namespace, chroot or none");
}

Result<Sandbox> Sandbox::prepare(SandboxMode mode, const std::vector<std::string>& export_paths,
                                 std::string& fallback) {
  Sandbox s;
  auto paths = distinct_paths(export_paths);
  if (!paths) return std::unexpected(paths.error());
  s.paths_ = std::move(*paths);
  const bool root = ::geteuid() == 0;
  if (mode == SandboxMode::Auto || mode == SandboxMode::Namespace) {
    s.user_namespace_ = !root;
    auto r = isolate(s.paths_, s.user_namespace_);
    if (r) {
      mode = SandboxMode::Namespace;
    } else if (mode == SandboxMode::Namespace) {
      return std::unexpected(r.error());
    } else {
      // A new mount namespace left half set up is private to this process: harmless.
      mode = root && has_effective_capability(CAP_SYS_CHROOT) ? SandboxMode::Chroot
                                                              : SandboxMode::None;
      fallback = r.error().to_string() +
                 "; sandbox: " + (mode == SandboxMode::Chroot ? "chroot" : "none") + " instead";
    }
  }
  s.mode_ = mode;
  if (mode == SandboxMode::Chroot) s.chroot_dir_ = common_directory(s.paths_);
  return s;
}

Result<void> Sandbox::enter() {
  if (mode_ == SandboxMode::None) return {};
  snapshot_user_database();
  ::tzset();  // /etc/localtime is read now, while it exists
  const std::string fd_links = "/proc/" + std::to_string(::getpid()) + "/fd";
  if (mode_ == SandboxMode::Chroot) {
    UniqueFd fds(::open(fd_links.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fds) return fail_errno("sandbox: " + fd_links);
    if (::chroot(chroot_dir_.c_str()) != 0) return fail_errno("sandbox: chroot " + chroot_dir_);
    if (::fchdir(fds.get()) != 0) return fail_errno("sandbox: fchdir");
    localfs::reach_fd_links_from_cwd();
    return {};
  }
  // The new root: an empty tmpfs, pivoted into first so that the old root (with the exports'
  // mounts and /proc) stays reachable under /.old while the new one is filled.
  if (auto r = mount_or_fail("ninep-sandbox", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             "mode=0755,size=64k,nr_inodes=256", "tmpfs on /tmp");
      !r)
    return r;
  if (::chdir("/tmp") != 0 || ::mkdir(".old", 0700) != 0)
    return fail_errno("sandbox: prepare the new root");
  if (::syscall(SYS_pivot_root, ".", ".old") != 0) return fail_errno("sandbox: pivot_root");
  if (::chdir("/") != 0) return fail_errno("sandbox: chdir /");
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    const std::string at = "/" + std::to_string(i);
    const std::string from = "/.old" + paths_[i];
    if (::mkdir(at.c_str(), 0755) != 0) return fail_errno("sandbox: mkdir " + at);
    if (auto r = mount_or_fail(from.c_str(), at.c_str(), nullptr, MS_MOVE, nullptr,
                               ("move " + paths_[i]).c_str());
        !r)
      return r;
  }
  if (kSandboxKeepsProc) {
    if (::mkdir("/proc", 0555) != 0) return fail_errno("sandbox: mkdir /proc");
    if (auto r = mount_or_fail("/.old/proc", "/proc", nullptr, MS_BIND | MS_REC, nullptr,
                               "bind /proc (sanitizer build)");
        !r)
      return r;
  }
  if (::mkdir("/.fd", 0700) != 0) return fail_errno("sandbox: mkdir /.fd");
  const std::string old_fd_links = "/.old" + fd_links;
  if (auto r = mount_or_fail(old_fd_links.c_str(), "/.fd", nullptr, MS_BIND, nullptr,
                             "bind /proc/self/fd");
      !r)
    return r;
  if (::chdir("/.fd") != 0) return fail_errno("sandbox: chdir to /proc/self/fd");
  if (::umount2("/.fd", MNT_DETACH) != 0 || ::rmdir("/.fd") != 0)
    return fail_errno("sandbox: detach /proc/self/fd");
  if (::umount2("/.old", MNT_DETACH) != 0 || ::rmdir("/.old") != 0)
    return fail_errno("sandbox: detach the old root");
  if (auto r = mount_or_fail(nullptr, "/", nullptr,
                             MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             nullptr, "make the new root read-only");
      !r)
    return r;
  localfs::reach_fd_links_from_cwd();
  return {};
}

std::string Sandbox::describe() const {
  switch (mode_) {
    case SandboxMode::Namespace: {
      std::string out = user_namespace_ ? "namespace (with a user namespace)" : "namespace";
      for (std::size_t i = 0; i < paths_.size(); ++i)
        out += (i == 0 ? ": " : ", ") + paths_[i] + " at /" + std::to_string(i);
      return out;
    }
    case SandboxMode::Chroot:
      return "chroot into " + chroot_dir_;
    default:
      return "none";
  }
}

namespace {

struct CapName {
  int cap;
  const char* name;
};
constexpr CapName kIdentityCaps[] = {
    {CAP_CHOWN, "chown"},
    {CAP_DAC_OVERRIDE, "dac_override"},
    {CAP_DAC_READ_SEARCH, "dac_read_search"},
    {CAP_FOWNER, "fowner"},
    {CAP_FSETID, "fsetid"},
    {CAP_SETUID, "setuid"},
    {CAP_SETGID, "setgid"},
    {CAP_MKNOD, "mknod"},
};
constexpr CapName kXattrCaps[] = {{CAP_SYS_ADMIN, "sys_admin"}, {CAP_SETFCAP, "setfcap"}};

}  // namespace

Result<std::string> limit_capabilities(bool all_xattr_namespaces) {
  std::vector<CapName> keep;
  if (::geteuid() == 0) {
    keep.assign(std::begin(kIdentityCaps), std::end(kIdentityCaps));
    if (all_xattr_namespaces) keep.insert(keep.end(), std::begin(kXattrCaps), std::end(kXattrCaps));
  }
  auto kept = [&](int cap) {
    return std::any_of(keep.begin(), keep.end(), [cap](const CapName& c) { return c.cap == cap; });
  };
  // The bounding set first: dropping from it needs CAP_SETPCAP, which goes last.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
    if (!kept(cap) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL &&
        errno != EPERM)
      return fail_errno("drop capability " + std::to_string(cap) + " from the bounding set");
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  for (const auto& c : keep) {
    data[c.cap / 32].permitted |= 1u << (c.cap % 32);
    data[c.cap / 32].effective |= 1u << (c.cap % 32);
  }
  if (::syscall(SYS_capset, &header, data) != 0) return fail_errno("capset");
  std::string names;
  for (const auto& c : keep) names += (names.empty() ? "" : ",") + std::string(c.name);
  return names.empty() ? std::string("none") : names;
}

}  // namespace ninep::server
