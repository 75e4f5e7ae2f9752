// `ninep put` and `ninep get`: copy files and (with -r) directory trees between the local file
// system and an export, with a progress line for large transfers.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "cmd_client.h"
#include "command.h"
#include "common/unique_fd.h"
#include "p9/message.h"

namespace ninep::tool {
namespace {

using client::Fid;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBufferSize = 4u << 20;

// A progress line on stderr: rewritten in place on a terminal (at most 10 times a second), one
// line per second otherwise (when forced with --progress).
class Progress {
 public:
  Progress(bool enabled) : enabled_(enabled), tty_(::isatty(2)), start_(Clock::now()) {}
  bool enabled() const { return enabled_; }
  void set_total(std::uint64_t bytes, std::uint64_t files) {
    total_bytes_ = bytes;
    total_files_ = files;
  }
  void add_bytes(std::uint64_t n) {
    bytes_ += n;
    maybe_print();
  }
  void file_done() {
    ++files_;
    maybe_print();
  }
  void finish() {
    if (!enabled_ || !printed_) return;
    print();
    std::fputc('\n', stderr);
  }

 private:
  void maybe_print() {
    if (!enabled_) return;
    auto now = Clock::now();
    if (now - last_ < (tty_ ? std::chrono::milliseconds(100) : std::chrono::seconds(1))) return;
    last_ = now;
    print();
  }
  void print() {
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    std::string line = human_size(double(bytes_));
    if (total_bytes_) {
      line += " / " + human_size(double(total_bytes_)) +
              fmt::format(" ({:3.0f}%)", 100.0 * double(bytes_) / double(total_bytes_));
    }
    if (secs > 0) line += "  " + human_size(double(bytes_) / secs) + "/s";
    line += fmt::format("  {}", files_);
    if (total_files_) line += fmt::format("/{}", total_files_);
    line += " files";
    if (tty_)
      std::fprintf(stderr, "\r%-78s", line.c_str());
    else
      std::fprintf(stderr, "%s\n", line.c_str());
    printed_ = true;
  }

  bool enabled_, tty_;
  bool printed_ = false;
  Clock::time_point start_, last_{};
  std::uint64_t bytes_ = 0, files_ = 0, total_bytes_ = 0, total_files_ = 0;
};

struct Transfer {
  const char* cmd;
  bool recursive = false;
  Progress* progress;
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(kBufferSize);
  int rc = 0;

  void error(const std::string& what, const Error& e) { rc = report(cmd, what, e); }
};

// ---- put: local -> remote ----

void scan_local(const std::string& path, std::uint64_t& bytes, std::uint64_t& files) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISREG(st.st_mode)) {
    bytes += static_cast<std::uint64_t>(st.st_size);
    ++files;
  } else if (S_ISDIR(st.st_mode)) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") scan_local(join_path(path, n), bytes, files);
    }
    ::closedir(d);
  } else {
    ++files;
  }
}

void put_file(Transfer& t, int fd, const struct stat& st, const Fid& dir, const std::string& name,
              const std::string& shown) {
  auto f = dir.clone();
  if (!f) return t.error(shown, f.error());
  auto oi =
      f->lcreate(name, p9::kOWronly | p9::kOCreate | p9::kOTrunc, st.st_mode & 07777, ::getgid());
  if (!oi) return t.error(shown, oi.error());
  std::uint64_t off = 0;
  for (;;) {
    ssize_t n = ::read(fd, t.buf.data(), t.buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return t.error(shown, Error{errno, "read local file"});
    }
    if (n == 0) break;
    auto w = f->write(off, std::span(t.buf.data(), static_cast<std::size_t>(n)));
    if (!w) return t.error(shown, w.error());
    if (*w != static_cast<std::size_t>(n)) return t.error(shown, Error{EIO, "short write"});
    off += static_cast<std::uint64_t>(n);
    t.progress->add_bytes(static_cast<std::uint64_t>(n));
  }
  if (S_ISREG(st.st_mode)) {
    client::SetAttr sa;
    sa.valid = p9::kSetattrMtime | p9::kSetattrMtimeSet | p9::kSetattrAtime | p9::kSetattrAtimeSet;
    sa.atime_sec = static_cast<std::uint64_t>(st.st_atim.tv_sec);
    sa.atime_nsec = static_cast<std::uint64_t>(st.st_atim.tv_nsec);
    sa.mtime_sec = static_cast<std::uint64_t>(st.st_mtim.tv_sec);
    sa.mtime_nsec = static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    if (auto r = f->setattr(sa); !r) t.error(shown, r.error());
  }
  t.progress->file_done();
}

void put_path(Transfer& t, const std::string& local, const Fid& dir, const std::string& name,
              const std::string& shown) {
  struct stat st;
  if (::lstat(local.c_str(), &st) != 0) return t.error(local, Error{errno, ""});
  if (S_ISREG(st.st_mode)) {
    UniqueFd fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return t.error(local, Error{errno, ""});
    return put_file(t, fd.get(), st, dir, name, shown);
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(PATH_MAX, '\0');
    ssize_t n = ::readlink(local.c_str(), target.data(), target.size());
    if (n < 0) return t.error(local, Error{errno, ""});
    target.resize(static_cast<std::size_t>(n));
    if (auto q = dir.symlink(name, target, ::getgid()); !q) return t.error(shown, q.error());
    t.progress->file_done();
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    warn(t.cmd, local, Error{0, "skipped: not a regular file, directory or symlink"});
    return;
  }
  if (!t.recursive) return t.error(local, Error{EISDIR, "use -r to copy a directory tree"});
  auto existing = dir.walk({name});
  if (!existing) {
    if (auto q = dir.mkdir(name, st.st_mode & 07777, ::getgid()); !q)
      return t.error(shown, q.error());
    existing = dir.walk({name});
    if (!existing) return t.error(shown, existing.error());
  } else if (!existing->is_dir()) {
    return t.error(shown, Error{ENOTDIR, ""});
  }
  DIR* d = ::opendir(local.c_str());
  if (!d) return t.error(local, Error{errno, ""});
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : names) put_path(t, join_path(local, n), *existing, n, join_path(shown, n));
}

// The command line shared by put and get; only the order of the two paths differs.
struct TransferArgs {
  ClientOptions co;
  std::string local, remote_path;
  bool recursive = false, progress = false;

  void add_to(CLI::App& app, bool remote_first) {
    app.add_flag("-r,-R,--recursive", recursive, "copy directory trees");
    app.add_flag("--progress", progress, "show progress even when stderr is not a terminal");
    add_client_options(app, co);
    if (remote_first) app.add_option("remote", remote_path, "remote path")->required();
    app.add_option("local", local, "local path")->required();
    if (!remote_first) app.add_option("remote", remote_path, "remote path")->required();
  }
};

int cmd_put(int argc, char** argv) {
  CLI::App app{
      "Copy a local file or (with -r) tree to the export: ninep put [-r] ADDRESS LOCAL "
      "REMOTE (into REMOTE if it is a directory; LOCAL '-' reads standard input)",
      "ninep put"};
  TransferArgs args;
  args.add_to(app, /*remote_first=*/false);
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("put", args.co);
  if (!remote) return 1;
  const std::string &local = args.local, &remote_path = args.remote_path;
  Progress prog(args.progress || ::isatty(2));
  Transfer t{"put", args.recursive, &prog};
  std::string base = local == "-" ? "stdin" : split_parent(local).second;
  Fid dir;
  std::string name, shown = remote_path;
  if (auto d = remote->root.walk_path(remote_path); d && d->is_dir()) {
    dir = std::move(*d);
    name = base;
    shown = join_path(remote_path, base);
  } else {
    auto [parent, last] = split_parent(remote_path);
    auto p = remote->root.walk_path(parent);
    if (!p) return report("put", parent.empty() ? "/" : parent, p.error());
    dir = std::move(*p);
    name = last;
  }
  if (local == "-") {
    struct stat st {};
    st.st_mode = S_IFIFO | 0644;
    put_file(t, 0, st, dir, name, shown);
  } else {
    if (prog.enabled()) {
      std::uint64_t bytes = 0, files = 0;
      scan_local(local, bytes, files);
      prog.set_total(bytes, files);
    }
    put_path(t, local, dir, name, shown);
  }
  prog.finish();
  return t.rc;
}

// ---- get: remote -> local ----

void scan_remote(const Fid& f, std::uint64_t& bytes, std::uint64_t& files) {
  if (!f.is_dir()) {
    if (auto a = f.getattr(p9::kGetattrSize)) bytes += a->size;
    ++files;
    return;
  }
  auto d = f.clone();
  if (!d || !d->lopen(p9::kORdonly | p9::kODirectory)) return;
  auto entries = d->readdir_all();
  if (!entries) return;
  for (const auto& e : *entries) {
    if (e.name == "." || e.name == "..") continue;
    if (auto c = f.walk({e.name})) scan_remote(*c, bytes, files);
  }
}

void get_file(Transfer& t, Fid& f, const client::Attr& a, int out, const std::string& shown) {
  if (auto r = f.lopen(p9::kORdonly); !r) return t.error(shown, r.error());
  std::uint64_t off = 0;
  for (;;) {
    auto n = f.read(off, t.buf);
    if (!n) return t.error(shown, n.error());
    std::size_t done = 0;
    while (done < *n) {
      ssize_t w = ::write(out, t.buf.data() + done, *n - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        return t.error(shown, Error{errno, "write local file"});
      }
      done += static_cast<std::size_t>(w);
    }
    off += *n;
    t.progress->add_bytes(*n);
    if (*n < t.buf.size()) break;
  }
  (void)a;
  t.progress->file_done();
}

void get_path(Transfer& t, const Fid& parent, const std::string& name, const std::string& local,
              const std::string& shown) {
  auto f = name.empty() ? parent.clone() : parent.walk({name});
  if (!f) return t.error(shown, f.error());
  auto a = f->getattr();
  if (!a) return t.error(shown, a.error());
  std::uint32_t type = a->mode & p9::kSIfmt;
  if (type == p9::kSIfreg) {
    UniqueFd out(::open(local.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, a->mode & 07777));
    if (!out) return t.error(local, Error{errno, ""});
    get_file(t, *f, *a, out.get(), shown);
    timespec times[2] = {{static_cast<time_t>(a->atime_sec), static_cast<long>(a->atime_nsec)},
                         {static_cast<time_t>(a->mtime_sec), static_cast<long>(a->mtime_nsec)}};
    ::futimens(out.get(), times);
    return;
  }
  if (type == p9::kSIflnk) {
    auto target = f->readlink();
    if (!target) return t.error(shown, target.error());
    if (::symlink(target->c_str(), local.c_str()) != 0) return t.error(local, Error{errno, ""});
    t.progress->file_done();
    return;
  }
  if (type != p9::kSIfdir) {
    warn(t.cmd, shown, Error{0, "skipped: not a regular file, directory or symlink"});
    return;
  }
  if (!t.recursive) return t.error(shown, Error{EISDIR, "use -r to copy a directory tree"});
  if (::mkdir(local.c_str(), (a->mode & 07777) | 0700) != 0 && errno != EEXIST)
    return t.error(local, Error{errno, ""});
  auto d = f->clone();
  if (!d) return t.error(shown, d.error());
  if (auto r = d->lopen(p9::kORdonly | p9::kODirectory); !r) return t.error(shown, r.error());
  auto entries = d->readdir_all();
  if (!entries) return t.error(shown, entries.error());
  d = Fid();
  for (const auto& e : *entries) {
    if (e.name == "." || e.name == "..") continue;
    get_path(t, *f, e.name, join_path(local, e.name), join_path(shown, e.name));
  }
  ::chmod(local.c_str(), a->mode & 07777);
}

int cmd_get(int argc, char** argv) {
  CLI::App app{
      "Copy a remote file or (with -r) tree to the local file system: ninep get [-r] "
      "ADDRESS REMOTE LOCAL (into LOCAL if it is a directory; LOCAL '-' writes standard "
      "output)",
      "ninep get"};
  TransferArgs args;
  args.add_to(app, /*remote_first=*/true);
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("get", args.co);
  if (!remote) return 1;
  const std::string &local = args.local, &remote_path = args.remote_path;
  Progress prog(local != "-" && (args.progress || ::isatty(2)));
  Transfer t{"get", args.recursive, &prog};
  auto src = remote->root.walk_path(remote_path);
  if (!src) return report("get", remote_path, src.error());
  if (local == "-") {
    auto a = src->getattr();
    if (!a) return report("get", remote_path, a.error());
    get_file(t, *src, *a, 1, remote_path);
    return t.rc;
  }
  struct stat st;
  std::string target = local;
  if (::stat(local.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::string base = split_parent(remote_path).second;
    if (base.empty() || base == "/") base = "export";
    target = join_path(local, base);
  }
  if (prog.enabled()) {
    std::uint64_t bytes = 0, files = 0;
    scan_remote(*src, bytes, files);
    prog.set_total(bytes, files);
  }
  get_path(t, *src, "", target, remote_path);
  prog.finish();
  return t.rc;
}

CommandRegistration reg_put("put", "copy local files or trees to an export", &cmd_put);
CommandRegistration reg_get("get", "copy remote files or trees to the local file system", &cmd_get);

}  // namespace
}  // namespace ninep::tool
