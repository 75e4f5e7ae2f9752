// Client commands that read: ls, stat, cat, readlink, df; plus the shared client-command helpers.
#include "cmd_client.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "command.h"
#include "p9/message.h"

namespace ninep::tool {

using client::Fid;

void add_client_options(CLI::App& app, ClientOptions& o) {
  app.add_option("--aname", o.aname, "export to attach (diod: the exported path)");
  app.add_option("--uname", o.uname, "user name sent in Tattach (default: the current user)");
  app.add_option("--uid", o.uid, "numeric user id sent in Tattach (default: the current uid)");
  app.add_option("--msize", o.msize, "maximum message size to request")
      ->capture_default_str()
      ->check(CLI::Range(4096u, 64u << 20));
  app.add_option("address", o.address,
                 "server address: unix:/path, tcp:HOST:PORT, vsock:CID:PORT, fd:N")
      ->required();
}

std::optional<int> parse_cli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

int report(std::string_view cmd, std::string_view what, const Error& e) {
  if (what.empty())
    std::fprintf(stderr, "ninep %.*s: %s\n", int(cmd.size()), cmd.data(), e.to_string().c_str());
  else
    std::fprintf(stderr, "ninep %.*s: %.*s: %s\n", int(cmd.size()), cmd.data(), int(what.size()),
                 what.data(), e.to_string().c_str());
  return 1;
}

void warn(std::string_view cmd, std::string_view what, const Error& e) {
  report(cmd, what, e);
}

std::optional<Remote> connect_remote(std::string_view cmd, const ClientOptions& o) {
  client::SessionOptions so;
  so.msize = o.msize;
  auto s = client::Session::connect(o.address, so);
  if (!s) {
    report(cmd, "", s.error());
    return std::nullopt;
  }
  std::uint32_t uid = o.uid.value_or(::getuid());
  std::string uname = o.uname;
  if (uname.empty()) {
    const char* u = std::getenv("USER");
    uname = u && *u ? u : std::to_string(uid);
  }
  auto root = (*s)->attach(uname, o.aname, uid);
  if (!root) {
    report(cmd, o.address, root.error());
    return std::nullopt;
  }
  return Remote{*s, std::move(*root)};
}

std::pair<std::string, std::string> split_parent(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(path)};
  return {std::string(path.substr(0, slash == 0 ? 1 : slash)), std::string(path.substr(slash + 1))};
}

std::string join_path(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out(dir);
  if (out.back() != '/') out += '/';
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  return out + std::string(name);
}

std::string mode_string(std::uint32_t mode) {
  char s[11];
  switch (mode & p9::kSIfmt) {
    case p9::kSIfdir:
      s[0] = 'd';
      break;
    case p9::kSIflnk:
      s[0] = 'l';
      break;
    case p9::kSIfchr:
      s[0] = 'c';
      break;
    case p9::kSIfblk:
      s[0] = 'b';
      break;
    case p9::kSIfifo:
      s[0] = 'p';
      break;
    case p9::kSIfsock:
      s[0] = 's';
      break;
    default:
      s[0] = '-';
  }
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
  if (mode & 04000) s[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) s[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) s[9] = (mode & 0001) ? 't' : 'T';
  s[10] = '\0';
  return s;
}

std::string human_size(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", bytes, units[u])
                : fmt::format("{:.1f} {}", bytes, units[u]);
}

namespace {

std::string format_time(std::uint64_t sec, std::uint64_t nsec, bool full) {
  std::time_t t = static_cast<std::time_t>(sec);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  if (full) {
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return fmt::format("{}.{:09}", buf, nsec);
  }
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

// ---- ls ----

struct LsOptions {
  bool long_format = false;
  bool all = false;
  bool directory = false;
};

std::string long_line(const client::Attr& a, std::string_view name, const Fid* f) {
  std::string line = fmt::format("{} {:>3} {:>5} {:>5} {:>10} {} {}", mode_string(a.mode), a.nlink,
                                 a.uid, a.gid, a.size, format_time(a.mtime_sec, 0, false), name);
  if ((a.mode & p9::kSIfmt) == p9::kSIflnk && f) {
    if (auto t = f->readlink()) line += " -> " + *t;
  }
  return line;
}

int ls_one(const Fid& root, const std::string& path, const LsOptions& o, bool header) {
  auto f = root.walk_path(path);
  if (!f) return report("ls", path, f.error());
  if (!f->is_dir() || o.directory) {
    if (o.long_format) {
      auto a = f->getattr();
      if (!a) return report("ls", path, a.error());
      std::printf("%s\n", long_line(*a, path, &*f).c_str());
    } else {
      std::printf("%s\n", path.c_str());
    }
    return 0;
  }
  auto dir = f->clone();
  if (!dir) return report("ls", path, dir.error());
  if (auto r = dir->lopen(p9::kORdonly | p9::kODirectory); !r) return report("ls", path, r.error());
  auto entries = dir->readdir_all();
  if (!entries) return report("ls", path, entries.error());
  std::sort(entries->begin(), entries->end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  if (header) std::printf("%s:\n", path.c_str());
  int rc = 0;
  for (const auto& e : *entries) {
    if (!o.all && !e.name.empty() && e.name[0] == '.') continue;
    if (!o.long_format) {
      std::printf("%s%s\n", e.name.c_str(), e.type == p9::kDtDir ? "/" : "");
      continue;
    }
    auto ef = f->walk({e.name});
    if (!ef) {
      rc = report("ls", join_path(path, e.name), ef.error());
      continue;
    }
    auto a = ef->getattr();
    if (!a) {
      rc = report("ls", join_path(path, e.name), a.error());
      continue;
    }
    std::printf("%s\n", long_line(*a, e.name, &*ef).c_str());
  }
  return rc;
}

int cmd_ls(int argc, char** argv) {
  CLI::App app{"List remote directories: ninep ls [-l] [-a] ADDRESS [PATH...] (default PATH: /)",
               "ninep ls"};
  ClientOptions co;
  LsOptions o;
  std::vector<std::string> paths;
  app.add_flag("-l,--long", o.long_format, "long format: mode, links, uid, gid, size, mtime");
  app.add_flag("-a,--all", o.all, "include names starting with '.'");
  app.add_flag("-d,--directory", o.directory, "list directories themselves, not their contents");
  add_client_options(app, co);
  app.add_option("paths", paths, "remote paths");
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("ls", co);
  if (!remote) return 1;
  if (paths.empty()) paths.push_back("/");
  int rc = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (i > 0 && paths.size() > 1) std::printf("\n");
    if (ls_one(remote->root, paths[i], o, paths.size() > 1) != 0) rc = 1;
  }
  return rc;
}

// ---- stat ----

const char* type_name(std::uint32_t mode) {
  switch (mode & p9::kSIfmt) {
    case p9::kSIfdir:
      return "directory";
    case p9::kSIflnk:
      return "symbolic link";
    case p9::kSIfchr:
      return "character device";
    case p9::kSIfblk:
      return "block device";
    case p9::kSIfifo:
      return "fifo";
    case p9::kSIfsock:
      return "socket";
    case p9::kSIfreg:
      return "regular file";
  }
  return "unknown";
}

int cmd_stat(int argc, char** argv) {
  CLI::App app{"Show attributes of remote files: ninep stat ADDRESS PATH...", "ninep stat"};
  ClientOptions co;
  std::vector<std::string> paths;
  add_client_options(app, co);
  app.add_option("paths", paths, "remote paths")->required();
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("stat", co);
  if (!remote) return 1;
  int rc = 0;
  for (const auto& path : paths) {
    auto f = remote->root.walk_path(path);
    if (!f) {
      rc = report("stat", path, f.error());
      continue;
    }
    auto a = f->getattr(p9::kGetattrAll);
    if (!a) {
      rc = report("stat", path, a.error());
      continue;
    }
    std::string name = path;
    if ((a->mode & p9::kSIfmt) == p9::kSIflnk)
      if (auto t = f->readlink()) name += " -> " + *t;
    std::printf("  File: %s\n", name.c_str());
    std::printf("  Size: %-12llu Blocks: %-10llu IO Block: %-6llu %s\n",
                (unsigned long long)a->size, (unsigned long long)a->blocks,
                (unsigned long long)a->blksize, type_name(a->mode));
    std::printf("  Qid: type 0x%02x version %u path %llu   Links: %llu\n", a->qid.type,
                a->qid.version, (unsigned long long)a->qid.path, (unsigned long long)a->nlink);
    std::printf("Access: (%04o/%s)  Uid: %u  Gid: %u\n", a->mode & 07777,
                mode_string(a->mode).c_str(), a->uid, a->gid);
    std::printf("Access: %s\n", format_time(a->atime_sec, a->atime_nsec, true).c_str());
    std::printf("Modify: %s\n", format_time(a->mtime_sec, a->mtime_nsec, true).c_str());
    std::printf("Change: %s\n", format_time(a->ctime_sec, a->ctime_nsec, true).c_str());
  }
  return rc;
}

// ---- cat ----

int cmd_cat(int argc, char** argv) {
  CLI::App app{"Write remote files to standard output: ninep cat ADDRESS PATH...", "ninep cat"};
  ClientOptions co;
  std::vector<std::string> paths;
  add_client_options(app, co);
  app.add_option("paths", paths, "remote paths")->required();
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("cat", co);
  if (!remote) return 1;
  std::vector<std::uint8_t> buf(4u << 20);
  int rc = 0;
  for (const auto& path : paths) {
    auto f = remote->root.walk_path(path);
    if (!f) {
      rc = report("cat", path, f.error());
      continue;
    }
    if (auto r = f->lopen(p9::kORdonly); !r) {
      rc = report("cat", path, r.error());
      continue;
    }
    std::uint64_t off = 0;
    for (;;) {
      auto n = f->read(off, buf);
      if (!n) {
        rc = report("cat", path, n.error());
        break;
      }
      if (*n == 0) break;
      if (std::fwrite(buf.data(), 1, *n, stdout) != *n) {
        return report("cat", "standard output", Error{errno, "write"});
      }
      off += *n;
      if (*n < buf.size()) break;
    }
  }
  if (std::fflush(stdout) != 0) return report("cat", "standard output", Error{errno, "write"});
  return rc;
}

// ---- readlink ----

int cmd_readlink(int argc, char** argv) {
  CLI::App app{"Print the target of remote symbolic links: ninep readlink ADDRESS PATH...",
               "ninep readlink"};
  ClientOptions co;
  std::vector<std::string> paths;
  add_client_options(app, co);
  app.add_option("paths", paths, "remote paths")->required();
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("readlink", co);
  if (!remote) return 1;
  int rc = 0;
  for (const auto& path : paths) {
    auto f = remote->root.walk_path(path);
    if (!f) {
      rc = report("readlink", path, f.error());
      continue;
    }
    auto t = f->readlink();
    if (!t) {
      rc = report("readlink", path, t.error());
      continue;
    }
    std::printf("%s\n", t->c_str());
  }
  return rc;
}

// ---- df ----

int cmd_df(int argc, char** argv) {
  CLI::App app{"Show file system usage of the export: ninep df [-h] ADDRESS [PATH]", "ninep df"};
  ClientOptions co;
  std::string path = "/";
  bool human = false;
  app.add_flag("-H,--human-readable", human, "sizes in powers of 1024 with units");
  add_client_options(app, co);
  app.add_option("path", path, "remote path (default /)");
  if (auto rc = parse_cli(app, argc, argv)) return *rc;
  auto remote = connect_remote("df", co);
  if (!remote) return 1;
  auto f = remote->root.walk_path(path);
  if (!f) return report("df", path, f.error());
  auto s = f->statfs();
  if (!s) return report("df", path, s.error());
  double bs = s->bsize;
  double size = bs * double(s->blocks), avail = bs * double(s->bavail),
         used = bs * double(s->blocks - s->bfree);
  int pct = s->blocks ? int((used * 100 + (used + avail) - 1) / std::max(used + avail, 1.0)) : 0;
  if (human) {
    std::printf("%-10s %10s %10s %10s %5s %10s %10s\n", "Export", "Size", "Used", "Avail", "Use%",
                "Inodes", "IFree");
    std::printf("%-10s %10s %10s %10s %4d%% %10llu %10llu\n", path.c_str(),
                human_size(size).c_str(), human_size(used).c_str(), human_size(avail).c_str(), pct,
                (unsigned long long)s->files, (unsigned long long)s->ffree);
  } else {
    std::printf("%-10s %14s %14s %14s %5s %10s %10s\n", "Export", "1K-blocks", "Used", "Available",
                "Use%", "Inodes", "IFree");
    std::printf("%-10s %14.0f %14.0f %14.0f %4d%% %10llu %10llu\n", path.c_str(), size / 1024,
                used / 1024, avail / 1024, pct, (unsigned long long)s->files,
                (unsigned long long)s->ffree);
  }
  return 0;
}

CommandRegistration reg_ls("ls", "list a remote directory (ADDRESS [PATH...])", &cmd_ls);
CommandRegistration reg_stat("stat", "show attributes of remote files", &cmd_stat);
CommandRegistration reg_cat("cat", "print remote files", &cmd_cat);
CommandRegistration reg_readlink("readlink", "print the target of remote symlinks", &cmd_readlink);
CommandRegistration reg_df("df", "show file system usage of an export", &cmd_df);

}  // namespace
}  // namespace ninep::tool
