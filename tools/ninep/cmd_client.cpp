// Client commands that read: ls, stat, cat, readlink, df; plus the client command line. What they
// show is client/listing.h and client/attr_text.h.
#include "cmd_client.h"

#include <cstdio>
#include <string>
#include <vector>

#include "client/listing.h"
#include "client/remote_path.h"
#include "command.h"

namespace ninep::tool {

void add_client_options(CLI::App& app, client::RemoteOptions& o) {
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

void add_json_flag(CLI::App& app, client::Output& output) {
  app.add_flag_callback(
      "--json", [&output] { output = client::Output::Json; },
      "one JSON object per line (fields: ninep-client(1))");
}

int for_each_path(CLI::App& app, std::string_view cmd, int argc, char** argv,
                  const std::function<Result<void>(const Fid&, const std::string&)>& each) {
  client::RemoteOptions co;
  std::vector<std::string> paths;
  add_client_options(app, co);
  app.add_option("paths", paths, "remote paths")->required();
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  auto remote = client::connect_remote(co);
  if (!remote) return start_error(cmd, remote.error());
  int rc = kExitOk;
  for (const auto& path : paths)
    if (auto r = each(remote->root, path); !r) rc = start_error(cmd, r.error());
  return rc;
}

int run_ls(int argc, char** argv) {
  CLI::App app{
      "List remote directories: ninep ls [-l] [-a] [--json] ADDRESS [PATH...] (default PATH: /)",
      "ninep ls"};
  client::RemoteOptions co;
  client::ListOptions o;
  std::vector<std::string> paths;
  app.add_flag("-l,--long", o.long_format, "long format: mode, links, uid, gid, size, mtime");
  app.add_flag("-a,--all", o.all, "include names starting with '.'");
  app.add_flag("-d,--directory", o.directory, "list directories themselves, not their contents");
  add_json_flag(app, o.output);
  add_client_options(app, co);
  app.add_option("paths", paths, "remote paths");
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  auto remote = client::connect_remote(co);
  if (!remote) return start_error("ls", remote.error());
  if (paths.empty()) paths.push_back("/");
  int rc = kExitOk;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const bool text = o.output == client::Output::Text;
    if (i > 0 && text) std::printf("\n");
    auto listing = client::list_path(remote->root, paths[i], o);
    if (!listing) {
      rc = start_error("ls", listing.error());
      continue;
    }
    if (listing->contents && paths.size() > 1 && text) std::printf("%s:\n", paths[i].c_str());
    for (const auto& line : listing->lines) std::printf("%s\n", line.c_str());
    for (const auto& e : listing->errors) rc = start_error("ls", e);
  }
  return rc;
}

int run_stat(int argc, char** argv) {
  CLI::App app{"Show attributes of remote files: ninep stat [--json] ADDRESS PATH...",
               "ninep stat"};
  client::Output output = client::Output::Text;
  add_json_flag(app, output);
  return for_each_path(app, "stat", argc, argv,
                       [&](const Fid& root, const std::string& path) -> Result<void> {
                         auto text = client::stat_path(root, path, output);
                         if (!text) return std::unexpected(text.error());
                         std::fputs(text->c_str(), stdout);
                         return {};
                       });
}

int run_cat(int argc, char** argv) {
  CLI::App app{"Write remote files to standard output: ninep cat ADDRESS PATH...", "ninep cat"};
  bool output_failed = false;
  auto to_stdout = [&](std::span<const std::uint8_t> data) -> Result<void> {
    if (std::fwrite(data.data(), 1, data.size(), stdout) == data.size()) return {};
    output_failed = true;
    return fail_errno("standard output: write");
  };
  const int rc = for_each_path(app, "cat", argc, argv,
                               [&](const Fid& root, const std::string& path) -> Result<void> {
                                 // After a failed write (reported), the rest has nowhere to go.
                                 if (output_failed) return {};
                                 return client::read_remote_file(root, path, to_stdout);
                               });
  if (!output_failed && std::fflush(stdout) != 0)
    return start_error("cat", Error{errno, "standard output: write"});
  return rc;
}

int run_readlink(int argc, char** argv) {
  CLI::App app{"Print the target of remote symbolic links: ninep readlink ADDRESS PATH...",
               "ninep readlink"};
  return for_each_path(
      app, "readlink", argc, argv, [](const Fid& root, const std::string& path) -> Result<void> {
        auto f = root.walk_path(path);
        auto t = f ? f->readlink() : Result<std::string>(std::unexpected(f.error()));
        if (!t) return std::unexpected(client::about(path, t.error()));
        std::printf("%s\n", t->c_str());
        return {};
      });
}

int run_df(int argc, char** argv) {
  CLI::App app{"Show file system usage of the export: ninep df [-H] [--json] ADDRESS [PATH]",
               "ninep df"};
  client::RemoteOptions co;
  std::string path = "/";
  bool human = false;
  client::Output output = client::Output::Text;
  app.add_flag("-H,--human-readable", human, "sizes in powers of 1024 with units");
  add_json_flag(app, output);
  add_client_options(app, co);
  app.add_option("path", path, "remote path (default /)");
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  auto remote = client::connect_remote(co);
  if (!remote) return start_error("df", remote.error());
  auto text = client::df_path(remote->root, path, human, output);
  if (!text) return start_error("df", text.error());
  std::fputs(text->c_str(), stdout);
  return kExitOk;
}

}  // namespace ninep::tool
