// `ninep put` and `ninep get`: copy files and (with -r) directory trees between the local file
// system and an export, with a progress line for large transfers. The copying itself is
// client/tree_copy.h.
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "client/attr_text.h"
#include "client/remote_path.h"
#include "client/tree_copy.h"
#include "cmd_client.h"
#include "command.h"

namespace ninep::tool {
namespace {

using Clock = std::chrono::steady_clock;

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
    std::string line = client::human_size(double(bytes_));
    if (total_bytes_) {
      line += " / " + client::human_size(double(total_bytes_)) +
              fmt::format(" ({:3.0f}%)", 100.0 * double(bytes_) / double(total_bytes_));
    }
    if (secs > 0) line += "  " + client::human_size(double(bytes_) / secs) + "/s";
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

// Prints errors and warnings as they happen, and feeds the progress line.
class Reporter : public client::TreeCopyObserver {
 public:
  Reporter(const char* cmd, Progress& progress) : cmd_(cmd), progress_(progress) {}
  void on_bytes(std::uint64_t n) override { progress_.add_bytes(n); }
  void on_file_done() override { progress_.file_done(); }
  void on_warning(std::string_view what, const Error& e) override {
    start_error(cmd_, client::about(what, e));
  }
  void on_error(std::string_view what, const Error& e) override {
    start_error(cmd_, client::about(what, e));
  }

 private:
  const char* cmd_;
  Progress& progress_;
};

// The command line shared by put and get; only the order of the two paths differs.
struct TransferArgs {
  client::RemoteOptions co;
  std::string local, remote_path;
  bool recursive = false, progress = false, force = false;
  std::uint32_t max_depth = client::TreeCopyOptions{}.max_depth;
  std::uint64_t max_entries = client::TreeCopyOptions{}.max_entries;

  void add_to(CLI::App& app, bool remote_first) {
    app.add_flag("-r,-R,--recursive", recursive, "copy directory trees");
    app.add_flag("--progress", progress, "show progress even when stderr is not a terminal");
    if (remote_first) {
      app.add_flag("-f,--force", force,
                   "replace existing local regular files (never symlinks, directories or "
                   "special files)");
    }
    app.add_option("--max-depth", max_depth, "fail beyond this many directory levels")
        ->capture_default_str();
    app.add_option("--max-entries", max_entries, "fail beyond this many directory entries")
        ->capture_default_str();
    add_client_options(app, co);
    if (remote_first) app.add_option("remote", remote_path, "remote path")->required();
    app.add_option("local", local, "local path")->required();
    if (!remote_first) app.add_option("remote", remote_path, "remote path")->required();
  }

  client::TreeCopyOptions options() const {
    client::TreeCopyOptions o;
    o.recursive = recursive;
    o.force = force;
    o.max_depth = max_depth;
    o.max_entries = max_entries;
    return o;
  }
};

}  // namespace

int run_put(int argc, char** argv) {
  CLI::App app{
      "Copy a local file or (with -r) tree to the export: ninep put [-r] ADDRESS LOCAL "
      "REMOTE (into REMOTE if it is a directory; LOCAL '-' reads standard input). Symlinks are "
      "copied as symlinks; special files are skipped with a warning.",
      "ninep put"};
  TransferArgs args;
  args.add_to(app, /*remote_first=*/false);
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  auto remote = client::connect_remote(args.co);
  if (!remote) return start_error("put", remote.error());
  auto opts = args.options();
  Progress prog(args.progress || ::isatty(2));
  Reporter rep("put", prog);
  Result<void> r;
  if (args.local == "-") {
    r = client::put_from_fd(0, remote->root, args.remote_path, opts, rep);
  } else {
    if (prog.enabled()) {
      auto size = client::measure_local_tree(args.local, opts);
      prog.set_total(size.bytes, size.files);
    }
    r = client::put_from_path(args.local, remote->root, args.remote_path, opts, rep);
  }
  prog.finish();
  return r ? kExitOk : kExitError;
}

int run_get(int argc, char** argv) {
  CLI::App app{
      "Copy a remote file or (with -r) tree to the local file system: ninep get [-r] [-f] "
      "ADDRESS REMOTE LOCAL (into LOCAL if it is a directory; LOCAL '-' writes standard "
      "output). The server is not trusted: entry names must be plain names (no '/', '.', "
      "'..', empty or duplicate names: such entries are errors and nothing is written for "
      "them), nothing below LOCAL is ever followed through a symlink, existing local entries "
      "are errors (with -f regular files are replaced; existing directories are merged into), "
      "symlinks are created as symlinks, special files (devices, fifos, sockets) are skipped "
      "with a warning and nothing is created for them.",
      "ninep get"};
  TransferArgs args;
  args.add_to(app, /*remote_first=*/true);
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  auto remote = client::connect_remote(args.co);
  if (!remote) return start_error("get", remote.error());
  const std::string &local = args.local, &remote_path = args.remote_path;
  auto opts = args.options();
  Progress prog(local != "-" && (args.progress || ::isatty(2)));
  Reporter rep("get", prog);
  auto src = remote->root.walk_path(remote_path);
  if (!src) return start_error("get", client::about(remote_path, src.error()));
  if (local == "-")
    return client::get_to_fd(*src, 1, remote_path, opts, rep) ? kExitOk : kExitError;
  if (prog.enabled()) {
    if (auto size = client::measure_remote_tree(*src, opts))
      prog.set_total(size->bytes, size->files);
  }
  auto r = client::get_to_path(*src, remote_path, local, opts, rep);
  prog.finish();
  return r ? kExitOk : kExitError;
}

}  // namespace ninep::tool
