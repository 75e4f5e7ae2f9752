// Client commands that change the export: mkdir, rm, mv, ln, xattr.
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <vector>

#include "cmd_client.h"
#include "command.h"
#include "p9/message.h"

namespace ninep::tool {
namespace {

using client::Fid;

// The directory holding `path` and the last component's name.
Result<std::pair<Fid, std::string>> walk_parent(const Fid& root, std::string_view path) {
  auto [parent, name] = split_parent(path);
  if (name.empty() || name == "/" || name == "." || name == "..")
    return fail(EINVAL, "not a name that can be created or removed");
  auto dir = root.walk_path(parent);
  if (!dir) return std::unexpected(dir.error());
  return std::pair{std::move(*dir), name};
}

// ---- mkdir ----

int cmd_mkdir(int argc, char** argv) {
  CLI::App app{"Create remote directories: ninep mkdir [-p] [-m MODE] ADDRESS PATH...",
               "ninep mkdir"};
  ClientOptions co;
  std::vector<std::string> paths;
  bool parents = false;
  std::string mode_text = "755";
  app.add_flag("-p,--parents", parents, "create missing parents; no error if the directory exists");
  app.add_option("-m,--mode", mode_text, "permission bits, octal")->capture_default_str();
  add_client_options(app, co);
  app.add_option("paths", paths, "remote paths")->required();
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  std::uint32_t mode;
  try {
    std::size_t used = 0;
    mode = static_cast<std::uint32_t>(std::stoul(mode_text, &used, 8));
    if (used != mode_text.size() || mode > 07777) throw std::invalid_argument("mode");
  } catch (const std::exception&) {
    std::fprintf(stderr, "ninep mkdir: --mode '%s' is not an octal mode\n", mode_text.c_str());
    return 2;
  }
  auto remote = connect_remote("mkdir", co);
  if (!remote) return 1;
  int rc = 0;
  for (const auto& path : paths) {
    if (!parents) {
      auto p = walk_parent(remote->root, path);
      if (!p) {
        rc = report("mkdir", path, p.error());
        continue;
      }
      if (auto q = p->first.mkdir(p->second, mode, ::getgid()); !q)
        rc = report("mkdir", path, q.error());
      continue;
    }
    // -p: walk down, creating what is missing.
    auto cur = remote->root.clone();
    if (!cur) return report("mkdir", path, cur.error());
    std::string done;
    std::size_t i = 0;
    while (i < path.size()) {
      std::size_t j = path.find('/', i);
      if (j == std::string::npos) j = path.size();
      std::string part = path.substr(i, j - i);
      i = j + 1;
      if (part.empty() || part == ".") continue;
      done = join_path(done, part);
      auto next = cur->walk({part});
      if (!next && next.error().code == ENOENT) {
        if (auto q = cur->mkdir(part, mode, ::getgid()); !q && q.error().code != EEXIST) {
          rc = report("mkdir", done, q.error());
          break;
        }
        next = cur->walk({part});
      }
      if (!next) {
        rc = report("mkdir", done, next.error());
        break;
      }
      if (!next->is_dir()) {
        rc = report("mkdir", done, Error{ENOTDIR, ""});
        break;
      }
      cur = std::move(next);
    }
  }
  return rc;
}

// ---- rm ----

Result<void> remove_tree(const Fid& parent, const std::string& name, const std::string& shown) {
  auto f = parent.walk({name});
  if (!f) return std::unexpected(f.error());
  if (!f->is_dir()) return parent.unlinkat(name);
  auto dir = f->clone();
  if (!dir) return std::unexpected(dir.error());
  if (auto r = dir->lopen(p9::kORdonly | p9::kODirectory); !r) return std::unexpected(r.error());
  auto entries = dir->readdir_all();
  if (!entries) return std::unexpected(entries.error());
  dir = Fid();
  for (const auto& e : *entries) {
    if (e.name == "." || e.name == "..") continue;
    if (auto r = remove_tree(*f, e.name, join_path(shown, e.name)); !r) {
      if (r.error().message.empty()) r.error().message = join_path(shown, e.name);
      return r;
    }
  }
  return parent.unlinkat(name, p9::kAtRemovedir);
}

int cmd_rm(int argc, char** argv) {
  CLI::App app{
      "Remove remote files (directories with -r or -d): ninep rm [-r] [-d] [-f] ADDRESS "
      "PATH...",
      "ninep rm"};
  ClientOptions co;
  std::vector<std::string> paths;
  bool recursive = false, dir = false, force = false;
  app.add_flag("-r,-R,--recursive", recursive, "remove directories and their contents");
  app.add_flag("-d,--dir", dir, "remove empty directories");
  app.add_flag("-f,--force", force, "ignore paths that do not exist");
  add_client_options(app, co);
  app.add_option("paths", paths, "remote paths")->required();
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("rm", co);
  if (!remote) return 1;
  int rc = 0;
  for (const auto& path : paths) {
    auto p = walk_parent(remote->root, path);
    if (!p) {
      if (!(force && p.error().code == ENOENT)) rc = report("rm", path, p.error());
      continue;
    }
    auto& [parent, name] = *p;
    auto target = parent.walk({name});
    if (!target) {
      if (!(force && target.error().code == ENOENT)) rc = report("rm", path, target.error());
      continue;
    }
    Result<void> r;
    if (!target->is_dir()) {
      r = parent.unlinkat(name);
    } else if (recursive) {
      target = Fid();
      r = remove_tree(parent, name, path);
    } else if (dir) {
      r = parent.unlinkat(name, p9::kAtRemovedir);
    } else {
      r = fail(EISDIR, "use -r to remove a directory tree or -d for an empty directory");
    }
    if (!r) rc = report("rm", path, r.error());
  }
  return rc;
}

// ---- mv ----

int cmd_mv(int argc, char** argv) {
  CLI::App app{
      "Rename or move a remote file: ninep mv ADDRESS SOURCE DEST (into DEST if it is a "
      "directory)",
      "ninep mv"};
  ClientOptions co;
  std::string src, dst;
  add_client_options(app, co);
  app.add_option("source", src, "remote path to move")->required();
  app.add_option("dest", dst, "new remote path, or an existing directory")->required();
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("mv", co);
  if (!remote) return 1;
  auto from = walk_parent(remote->root, src);
  if (!from) return report("mv", src, from.error());
  Fid to_dir;
  std::string to_name;
  if (auto d = remote->root.walk_path(dst); d && d->is_dir()) {
    to_dir = std::move(*d);
    to_name = from->second;
  } else {
    auto to = walk_parent(remote->root, dst);
    if (!to) return report("mv", dst, to.error());
    to_dir = std::move(to->first);
    to_name = to->second;
  }
  if (auto r = from->first.renameat(from->second, to_dir, to_name); !r)
    return report("mv", src, r.error());
  return 0;
}

// ---- ln ----

int cmd_ln(int argc, char** argv) {
  CLI::App app{
      "Create a remote link: ninep ln [-s] ADDRESS TARGET LINK (hard link to the remote "
      "TARGET, or with -s a symlink whose content is TARGET)",
      "ninep ln"};
  ClientOptions co;
  std::string target, link;
  bool sym = false;
  app.add_flag("-s,--symbolic", sym, "make a symbolic link");
  add_client_options(app, co);
  app.add_option("target", target, "link target")->required();
  app.add_option("link", link, "remote path of the new link, or an existing directory")->required();
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("ln", co);
  if (!remote) return 1;
  Fid dir;
  std::string name;
  if (auto d = remote->root.walk_path(link); d && d->is_dir()) {
    dir = std::move(*d);
    name = split_parent(target).second;
  } else {
    auto p = walk_parent(remote->root, link);
    if (!p) return report("ln", link, p.error());
    dir = std::move(p->first);
    name = p->second;
  }
  if (sym) {
    if (auto q = dir.symlink(name, target, ::getgid()); !q) return report("ln", link, q.error());
    return 0;
  }
  auto t = remote->root.walk_path(target);
  if (!t) return report("ln", target, t.error());
  if (auto r = dir.link(*t, name); !r) return report("ln", link, r.error());
  return 0;
}

// ---- xattr ----

// Printable values as they are, others as hex (like getfattr's 0x form).
std::string show_value(const std::vector<std::uint8_t>& v) {
  bool printable = true;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint8_t c = v[i];
    if (c == 0 && i + 1 == v.size()) continue;  // a trailing NUL of a C string
    if (c < 0x20 || c > 0x7e) printable = false;
  }
  if (printable) {
    std::string s(v.begin(), v.end());
    if (!s.empty() && s.back() == '\0') s.pop_back();
    return "\"" + s + "\"";
  }
  std::string hex = "0x";
  for (auto c : v) hex += fmt::format("{:02x}", c);
  return hex;
}

int cmd_xattr(int argc, char** argv) {
  CLI::App app{
      "Extended attributes of a remote file:\n"
      "  ninep xattr ADDRESS PATH                      list names and values\n"
      "  ninep xattr --get NAME ADDRESS PATH           print one value (raw)\n"
      "  ninep xattr --set NAME --value V ADDRESS PATH  set one\n"
      "  ninep xattr --remove NAME ADDRESS PATH        remove one",
      "ninep xattr"};
  ClientOptions co;
  std::string path, get, set, value, remove;
  auto* g = app.add_option("-g,--get", get, "print the value of NAME");
  auto* s = app.add_option("-s,--set", set, "set NAME (to --value)");
  app.add_option("-v,--value", value, "value for --set")->needs(s);
  auto* x = app.add_option("-x,--remove", remove, "remove NAME");
  g->excludes(s)->excludes(x);
  s->excludes(x);
  add_client_options(app, co);
  app.add_option("path", path, "remote path")->required();
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("xattr", co);
  if (!remote) return 1;
  auto f = remote->root.walk_path(path);
  if (!f) return report("xattr", path, f.error());
  if (!get.empty()) {
    auto v = f->xattr_get(get);
    if (!v) return report("xattr", path + ": " + get, v.error());
    std::fwrite(v->data(), 1, v->size(), stdout);
    return 0;
  }
  if (!set.empty()) {
    auto r = f->xattr_set(
        set, std::span(reinterpret_cast<const std::uint8_t*>(value.data()), value.size()));
    if (!r) return report("xattr", path + ": " + set, r.error());
    return 0;
  }
  if (!remove.empty()) {
    auto r = f->xattr_remove(remove);
    if (!r) return report("xattr", path + ": " + remove, r.error());
    return 0;
  }
  auto names = f->xattr_list();
  if (!names) return report("xattr", path, names.error());
  int rc = 0;
  for (const auto& n : *names) {
    auto v = f->xattr_get(n);
    if (!v) {
      rc = report("xattr", path + ": " + n, v.error());
      continue;
    }
    std::printf("%s=%s\n", n.c_str(), show_value(*v).c_str());
  }
  return rc;
}

CommandRegistration reg_mkdir("mkdir", "create remote directories", &cmd_mkdir);
CommandRegistration reg_rm("rm", "remove remote files or trees", &cmd_rm);
CommandRegistration reg_mv("mv", "rename or move a remote file", &cmd_mv);
CommandRegistration reg_ln("ln", "create a remote hard or symbolic link", &cmd_ln);
CommandRegistration reg_xattr("xattr", "list, get, set or remove remote extended attributes",
                              &cmd_xattr);

}  // namespace
}  // namespace ninep::tool
