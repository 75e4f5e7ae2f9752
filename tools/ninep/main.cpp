// `ninep`: dispatches to the sub-command named by the first argument.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string>

#include "command.h"
#include "common/version.h"

namespace ninep::tool {
namespace {

// In name order: `ninep --help` lists them so.
constexpr std::array kCommands{
    Command{"cat", "print remote files", &run_cat},
    Command{"client9p", "podman's client9p: mount vsock:2:PORT on DIR", &run_client9p},
    Command{"decode", "print 9P2000.L messages from a byte stream (file or stdin)", &run_decode},
    Command{"df", "show file system usage of an export", &run_df},
    Command{"get", "copy remote files or trees to the local file system", &run_get},
    Command{"ln", "create a remote hard or symbolic link", &run_ln},
    Command{"ls", "list a remote directory (ADDRESS [PATH...])", &run_ls},
    Command{"mkdir", "create remote directories", &run_mkdir},
    Command{"mount", "mount an export through the kernel's 9p or FUSE", &run_mount},
    Command{"mv", "rename or move a remote file", &run_mv},
    Command{"policy", "check request-policy rules, print their cBPF, test a request", &run_policy},
    Command{"put", "copy local files or trees to an export", &run_put},
    Command{"readlink", "print the target of remote symlinks", &run_readlink},
    Command{"rm", "remove remote files or trees", &run_rm},
    Command{"serve", "serve host directories over 9P2000.L", &run_serve},
    Command{"server9p", "podman's server9p: --serve PATH:PORT... PID", &run_server9p},
    Command{"stat", "show attributes of remote files", &run_stat},
    Command{"umount", "unmount a 9p or FUSE mount", &run_umount},
    Command{"watch", "print changes on the server's host as they happen", &run_watch},
    Command{"xattr", "list, get, set or remove remote extended attributes", &run_xattr},
};
static_assert(std::ranges::is_sorted(kCommands, {}, &Command::name));

ParseMode parse_mode = ParseMode::Run;
cli::CommandSpec* described = nullptr;  // where Describe mode records

void usage(FILE* out) {
  std::fprintf(out, "usage: ninep COMMAND [ARGS...]   (ninep COMMAND --help for details)\n\n");
  for (const Command& c : commands())
    std::fprintf(out, "  %-10.*s %.*s\n", int(c.name.size()), c.name.data(), int(c.summary.size()),
                 c.summary.data());
}

}  // namespace

std::span<const Command> commands() {
  return kCommands;
}

void set_parse_mode(ParseMode mode) {
  parse_mode = mode;
}

int parse_command_line(CLI::App& app, int argc, char** argv) {
  if (parse_mode == ParseMode::Describe) {
    if (described != nullptr) *described = cli::describe_command(app, described->name);
    return kExitOk;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return parse_mode == ParseMode::ParseOnly ? kExitOk : -1;
}

cli::CommandSpec describe(const Command& c) {
  std::string name(c.name);
  cli::CommandSpec spec{name, {}, {}};
  const ParseMode saved = parse_mode;
  parse_mode = ParseMode::Describe;
  described = &spec;
  char* argv[] = {name.data(), nullptr};
  c.fn(1, argv);
  described = nullptr;
  parse_mode = saved;
  return spec;
}

int start_error(std::string_view cmd, const Error& e) {
  std::fprintf(stderr, "ninep %.*s: %s\n", int(cmd.size()), cmd.data(), e.to_string().c_str());
  return kExitError;
}

int usage_error(std::string_view cmd, const Error& e) {
  const std::string what = e.message.empty() ? e.to_string() : e.message;
  std::fprintf(stderr, "ninep %.*s: %s\n", int(cmd.size()), cmd.data(), what.c_str());
  return kExitUsage;
}

}  // namespace ninep::tool

int main(int argc, char** argv) {
  using namespace ninep::tool;
  // Hidden: parse the command line of CMD as it would run, and stop there.
  if (argc >= 2 && !std::strcmp(argv[1], "--parse-only")) {
    set_parse_mode(ParseMode::ParseOnly);
    --argc;
    ++argv;
  }
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("ninep %s\n", ninep::kVersionString);
    return kExitOk;
  }
  for (const Command& c : commands())
    if (c.name == argv[1]) return c.fn(argc - 1, argv + 1);
  if (!std::strcmp(argv[1], "completion")) return run_completion(argc - 1, argv + 1);
  std::fprintf(stderr, "ninep: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return kExitUsage;
}
