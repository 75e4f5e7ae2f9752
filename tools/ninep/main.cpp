// `ninep`: dispatches to the sub-command named by the first argument.
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "command.h"

namespace ninep::tool {
namespace {

struct Command {
  std::string_view summary;
  CommandFn fn;
};

std::map<std::string_view, Command>& registry() {
  static std::map<std::string_view, Command> r;
  return r;
}

void usage(FILE* out) {
  std::fprintf(out, "usage: ninep COMMAND [ARGS...]   (ninep COMMAND --help for details)\n\n");
  for (const auto& [name, cmd] : registry())
    std::fprintf(out, "  %-10.*s %.*s\n", int(name.size()), name.data(), int(cmd.summary.size()),
                 cmd.summary.data());
}

}  // namespace

CommandRegistration::CommandRegistration(std::string_view name, std::string_view summary,
                                         CommandFn fn) {
  registry()[name] = Command{summary, fn};
}

int parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return -1;
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
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  auto it = registry().find(argv[1]);
  if (it == registry().end()) {
    std::fprintf(stderr, "ninep: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
  }
  return it->second.fn(argc - 1, argv + 1);
}
