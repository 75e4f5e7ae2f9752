// Sub-commands of the `ninep` program, one file each (cmd_*.cpp), and the conventions they share:
// exit status 0 on success, 1 when the work fails (one line: "ninep CMD: what: errno text"),
// 2 for a command line that cannot be used.
#pragma once

#include <CLI/CLI.hpp>
#include <string_view>

#include "common/error.h"

namespace ninep::tool {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// A sub-command receives its own name as argv[0]. Returns the process exit code.
using CommandFn = int (*)(int argc, char** argv);

struct CommandRegistration {
  CommandRegistration(std::string_view name, std::string_view summary, CommandFn fn);
};

// Parses the command line: -1 to go on, or the exit code (--help: 0, a usage error: 2).
int parse_command_line(CLI::App& app, int argc, char** argv);
// Prints "ninep CMD: <error>" and returns kExitError.
int start_error(std::string_view cmd, const Error& e);
// Prints "ninep CMD: <message>" and returns kExitUsage.
int usage_error(std::string_view cmd, const Error& e);

}  // namespace ninep::tool
