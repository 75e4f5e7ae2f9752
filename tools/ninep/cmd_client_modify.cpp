// Client commands that change the export: mkdir, rm, mv, ln, xattr. The work is
// client/remote_path.h and client/tree_remove.h.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "client/attr_text.h"
#include "client/remote_path.h"
#include "client/tree_remove.h"
#include "cmd_client.h"
#include "command.h"

namespace ninep::tool {

int run_mkdir(int argc, char** argv) {
  CLI::App app{"Create remote directories: ninep mkdir [-p] [-m MODE] ADDRESS PATH...",
               "ninep mkdir"};
  client::RemoteOptions co;
  std::vector<std::string> paths;
  bool parents = false;
  std::string mode_text = "755";
  app.add_flag("-p,--parents", parents, "create missing parents; no error if the directory exists");
  app.add_option("-m,--mode", mode_text, "permission bits, octal")->capture_default_str();
  add_client_options(app, co);
  app.add_option("paths", paths, "remote paths")->required();
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  std::uint32_t mode = 0;
  try {
    std::size_t used = 0;
    mode = static_cast<std::uint32_t>(std::stoul(mode_text, &used, 8));
    if (used != mode_text.size() || mode > 07777) throw std::invalid_argument("mode");
  } catch (const std::exception&) {
    return usage_error("mkdir", Error{EINVAL, "--mode '" + mode_text + "' is not an octal mode"});
  }
  auto remote = client::connect_remote(co);
  if (!remote) return start_error("mkdir", remote.error());
  int rc = kExitOk;
  for (const auto& path : paths)
    if (auto r = client::make_directory(remote->root, path, mode, ::getgid(), parents); !r)
      rc = start_error("mkdir", r.error());
  return rc;
}

int run_rm(int argc, char** argv) {
  CLI::App app{
      "Remove remote files (directories with -r or -d): ninep rm [-r] [-d] [-f] ADDRESS "
      "PATH...",
      "ninep rm"};
  client::TreeRemoveOptions o;
  app.add_flag("-r,-R,--recursive", o.recursive, "remove directories and their contents");
  app.add_flag("-d,--dir", o.empty_dirs, "remove empty directories");
  app.add_flag("-f,--force", o.force, "ignore paths that do not exist");
  app.add_option("--max-depth", o.max_depth, "fail beyond this many directory levels")
      ->capture_default_str();
  app.add_option("--max-entries", o.max_entries, "fail beyond this many directory entries")
      ->capture_default_str();
  return for_each_path(app, "rm", argc, argv, [&o](const Fid& root, const std::string& path) {
    return client::remove_path(root, path, o);
  });
}

int run_mv(int argc, char** argv) {
  CLI::App app{
      "Rename or move a remote file: ninep mv ADDRESS SOURCE DEST (into DEST if it is a "
      "directory)",
      "ninep mv"};
  client::RemoteOptions co;
  std::string src, dst;
  add_client_options(app, co);
  app.add_option("source", src, "remote path to move")->required();
  app.add_option("dest", dst, "new remote path, or an existing directory")->required();
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  auto remote = client::connect_remote(co);
  if (!remote) return start_error("mv", remote.error());
  if (auto r = client::move_path(remote->root, src, dst); !r) return start_error("mv", r.error());
  return kExitOk;
}

int run_ln(int argc, char** argv) {
  CLI::App app{
      "Create a remote link: ninep ln [-s] ADDRESS TARGET LINK (hard link to the remote "
      "TARGET, or with -s a symlink whose content is TARGET)",
      "ninep ln"};
  client::RemoteOptions co;
  std::string target, link;
  bool sym = false;
  app.add_flag("-s,--symbolic", sym, "make a symbolic link");
  add_client_options(app, co);
  app.add_option("target", target, "link target")->required();
  app.add_option("link", link, "remote path of the new link, or an existing directory")->required();
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  auto remote = client::connect_remote(co);
  if (!remote) return start_error("ln", remote.error());
  if (auto r = client::link_path(remote->root, target, link, sym, ::getgid()); !r)
    return start_error("ln", r.error());
  return kExitOk;
}

int run_xattr(int argc, char** argv) {
  CLI::App app{
      "Extended attributes of a remote file:\n"
      "  ninep xattr ADDRESS PATH                      list names and values\n"
      "  ninep xattr --get NAME ADDRESS PATH           print one value (raw)\n"
      "  ninep xattr --set NAME --value V ADDRESS PATH  set one\n"
      "  ninep xattr --remove NAME ADDRESS PATH        remove one",
      "ninep xattr"};
  client::RemoteOptions co;
  std::string path, get, set, value, remove;
  auto* g = app.add_option("-g,--get", get, "print the value of NAME");
  auto* s = app.add_option("-s,--set", set, "set NAME (to --value)");
  app.add_option("-v,--value", value, "value for --set")->needs(s);
  auto* x = app.add_option("-x,--remove", remove, "remove NAME");
  g->excludes(s)->excludes(x);
  s->excludes(x);
  add_client_options(app, co);
  app.add_option("path", path, "remote path")->required();
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  auto remote = client::connect_remote(co);
  if (!remote) return start_error("xattr", remote.error());
  auto f = remote->root.walk_path(path);
  if (!f) return start_error("xattr", client::about(path, f.error()));
  auto failed = [&](const std::string& name, const Error& e) {
    return start_error("xattr", client::about(path + ": " + name, e));
  };
  if (!get.empty()) {
    auto v = f->xattr_get(get);
    if (!v) return failed(get, v.error());
    std::fwrite(v->data(), 1, v->size(), stdout);
    return kExitOk;
  }
  if (!set.empty()) {
    auto r = f->xattr_set(
        set, std::span(reinterpret_cast<const std::uint8_t*>(value.data()), value.size()));
    return r ? kExitOk : failed(set, r.error());
  }
  if (!remove.empty()) {
    auto r = f->xattr_remove(remove);
    return r ? kExitOk : failed(remove, r.error());
  }
  auto names = f->xattr_list();
  if (!names) return start_error("xattr", client::about(path, names.error()));
  int rc = kExitOk;
  for (const auto& n : *names) {
    auto v = f->xattr_get(n);
    if (!v) {
      rc = failed(n, v.error());
      continue;
    }
    std::printf("%s=%s\n", n.c_str(), client::xattr_value_text(*v).c_str());
  }
  return rc;
}

}  // namespace ninep::tool
