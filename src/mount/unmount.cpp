#include "mount/unmount.h"

#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "fuse/mount_table.h"

extern char** environ;

namespace ninep::mount {
namespace {

std::string real_path(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) return {};
  std::string out(real);
  std::free(real);
  return out;
}

Result<void> run_fusermount(const std::string& path, const UnmountOptions& opts) {
  std::vector<std::string> args = fusermount_args(path, opts);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (int err = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ); err != 0)
    return fail(err, path + ": fusermount3");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return fail_errno(path + ": fusermount3");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail(0, path + ": fusermount3 failed");
  return {};
}

}  // namespace

UnmountMethod unmount_method(std::string_view fstype, bool privileged) {
  return fuse::is_fuse_type(fstype) && !privileged ? UnmountMethod::Fusermount
                                                   : UnmountMethod::Umount2;
}

std::vector<std::string> fusermount_args(const std::string& path, const UnmountOptions& opts) {
  std::vector<std::string> args{"fusermount3", "-u"};
  if (opts.lazy) args.push_back("-z");
  args.push_back("--");
  args.push_back(path);
  return args;
}

std::string absolute_without_following(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  std::size_t slash = d.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : d.substr(0, slash));
  std::string base = slash == std::string::npos ? d : d.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") {
    std::string real = real_path(d);
    return real.empty() ? d : real;
  }
  std::string real = real_path(parent);
  if (real.empty()) return d;
  return (real == "/" ? "" : real) + "/" + base;
}

Result<void> unmount(const std::string& dir, const UnmountOptions& opts) {
  std::string path = absolute_without_following(dir);
  auto m = fuse::find_mount(path);
  if (!m)
    return fail(m.error().code,
                "/proc/self/mountinfo" +
                    (m.error().message.empty() ? std::string() : ": " + m.error().message));
  if (!*m) return fail(EINVAL, path + ": not mounted");
  // Unprivileged FUSE mounts are undone by the setuid helper.
  if (unmount_method((*m)->fstype, ::geteuid() == 0) == UnmountMethod::Fusermount)
    return run_fusermount(path, opts);
  int flags = (opts.lazy ? MNT_DETACH : 0) | (opts.force ? MNT_FORCE : 0);
  if (::umount2(path.c_str(), flags) != 0) return fail_errno(path);
  return {};
}

}  // namespace ninep::mount
