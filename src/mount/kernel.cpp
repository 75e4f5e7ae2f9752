#include "mount/kernel.h"

#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fstream>
#include <string_view>

#include "mount/relay.h"

namespace ninep::mount {
namespace {

constexpr std::uint32_t kMinMsize = 4096;  // the kernel refuses anything smaller

// The option's key: "cache=loose" -> "cache", "posixacl" -> "posixacl".
std::string_view option_key(std::string_view option) {
  return option.substr(0, option.find('='));
}

std::string mount_error_hint(int code) {
  switch (code) {
    case ENODEV:
      return " (this kernel has no 9p file system: load the 9p and 9pnet_fd modules)";
    case EPERM:
      return " (mounting needs root or CAP_SYS_ADMIN)";
    default:
      return {};
  }
}

}  // namespace

MountOptionWords parse_mount_options(const std::vector<std::string>& options) {
  struct Word {
    std::string_view name;
    unsigned long flag;
    bool set;  // true: the word sets the flag, false: clears it
  };
  static constexpr Word kWords[] = {
      {"ro", MS_RDONLY, true},
      {"rw", MS_RDONLY, false},
      {"nosuid", MS_NOSUID, true},
      {"suid", MS_NOSUID, false},
      {"nodev", MS_NODEV, true},
      {"dev", MS_NODEV, false},
      {"noexec", MS_NOEXEC, true},
      {"exec", MS_NOEXEC, false},
      {"sync", MS_SYNCHRONOUS, true},
      {"async", MS_SYNCHRONOUS, false},
      {"noatime", MS_NOATIME, true},
      {"atime", MS_NOATIME, false},
      {"nodiratime", MS_NODIRATIME, true},
      {"diratime", MS_NODIRATIME, false},
      {"relatime", MS_RELATIME, true},
      {"norelatime", MS_RELATIME, false},
      {"strictatime", MS_STRICTATIME, true},
      {"dirsync", MS_DIRSYNC, true},
      {"mand", MS_MANDLOCK, true},
      {"nomand", MS_MANDLOCK, false},
      {"silent", MS_SILENT, true},
      {"loud", MS_SILENT, false},
  };
  MountOptionWords out;
  for (const std::string& option : options) {
    const Word* word = nullptr;
    for (const Word& w : kWords)
      if (w.name == option) word = &w;
    if (word == nullptr) {
      out.extra.push_back(option);
    } else if (word->set) {
      out.flags |= word->flag;
    } else {
      out.flags &= ~word->flag;
    }
  }
  return out;
}

bool kernel_has_9p() {
  std::ifstream in("/proc/filesystems");
  std::string line;
  while (std::getline(in, line)) {
    // Lines are "nodev\t9p" or "\text4": the name follows the last tab.
    std::string_view name(line);
    if (auto tab = name.rfind('\t'); tab != std::string_view::npos) name.remove_prefix(tab + 1);
    if (name == "9p") return true;
  }
  return false;
}

std::string kernel_mount_data(int fd, const KernelMountOptions& opts) {
  std::string fd_text = std::to_string(fd);
  std::string data = "trans=fd,rfdno=" + fd_text + ",wfdno=" + fd_text +
                     ",version=9p2000.L,msize=" + std::to_string(opts.msize);
  if (!opts.cache.empty()) data += ",cache=" + opts.cache;
  if (!opts.aname.empty()) data += ",aname=" + opts.aname;
  if (opts.uid) data += ",access=" + std::to_string(*opts.uid);
  for (const std::string& option : opts.extra) {
    if (option.empty()) continue;
    data += ',';
    data += option;
  }
  return data;
}

Result<void> validate_kernel_mount_options(const KernelMountOptions& opts) {
  if (opts.msize < kMinMsize)
    return fail(EINVAL, "msize " + std::to_string(opts.msize) + " is below the kernel's minimum " +
                            std::to_string(kMinMsize));
  if (opts.cache.find(',') != std::string::npos)
    return fail(EINVAL, "cache mode '" + opts.cache + "' contains ','");
  if (opts.aname.find(',') != std::string::npos)
    return fail(EINVAL, "aname '" + opts.aname + "' contains ','");
  for (const std::string& option : opts.extra) {
    std::string_view key = option_key(option);
    if (key == "trans" || key == "rfdno" || key == "wfdno")
      return fail(EINVAL, "option '" + option + "' is set by ninep itself");
  }
  return {};
}

Result<void> kernel_mount(UniqueFd conn, const std::string& dir, const KernelMountOptions& opts) {
  if (auto ok = validate_kernel_mount_options(opts); !ok) return std::unexpected(ok.error());
  struct stat st {};
  if (::fstat(conn.get(), &st) != 0) return fail_errno("mount " + dir + ": connection descriptor");

  UniqueFd kernel_end;
  if (S_ISSOCK(st.st_mode)) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(conn.get(), SOL_SOCKET, SO_TYPE, &type, &len) != 0)
      return fail_errno("mount " + dir + ": connection socket");
    if (type != SOCK_STREAM)
      return fail(EINVAL, "mount " + dir + ": the connection is not a stream socket");
    kernel_end = std::move(conn);
  } else {
    // trans=fd needs a socket-like descriptor (it polls and reads without blocking); a character
    // device such as a virtio-serial port is relayed through a socketpair instead.
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
      return fail_errno("mount " + dir + ": socketpair");
    UniqueFd relay_end(pair[0]);
    kernel_end.reset(pair[1]);
    if (auto ok = spawn_relay(std::move(conn), std::move(relay_end)); !ok)
      return fail(ok.error().code, "mount " + dir + ": " + ok.error().message);
  }

  const std::string data = kernel_mount_data(kernel_end.get(), opts);
  const std::string source = opts.source.empty() ? "ninep" : opts.source;
  // The kernel takes its own reference to the socket; closing ours afterwards (kernel_end's
  // destructor) leaves the mount, and a relay's end of the pair, as the only users.
  if (::mount(source.c_str(), dir.c_str(), "9p", opts.flags, data.c_str()) != 0) {
    int code = errno;
    return fail(code, "mount 9p on " + dir + " with '" + data + "'" + mount_error_hint(code));
  }
  return {};
}

}  // namespace ninep::mount
