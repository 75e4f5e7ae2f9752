// Sub-commands of the `ninep` program (cmd_*.cpp: argument parsing and one library call each),
// the table main.cpp dispatches through, and the conventions they share: exit status 0 on
// success, 1 when the work fails (one line per failure: "ninep CMD: what: errno text"), 2 for a
// command line that cannot be used.
#pragma once

#include <CLI/CLI.hpp>
#include <span>
#include <string_view>

#include "cli/spec.h"
#include "common/error.h"

namespace ninep::tool {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// A sub-command receives its own name as argv[0]. Returns the process exit code.
using CommandFn = int (*)(int argc, char** argv);

struct Command {
  std::string_view name;
  std::string_view summary;  // one line for `ninep --help`
  CommandFn fn;
};

// Every sub-command, in the order `ninep --help` lists them (the table is in main.cpp).
std::span<const Command> commands();

// What parse_command_line does, for the whole process (main.cpp sets it before dispatching).
enum class ParseMode {
  Run,        // parse; go on when the command line is good
  ParseOnly,  // `ninep --parse-only CMD ...`: parse, then stop (exit 0 when it parses)
  Describe,   // parse nothing: record what the app accepts (describe), then stop
};
void set_parse_mode(ParseMode mode);

// Every command calls it once its CLI::App is complete and before doing anything else. Returns -1
// to go on, or the exit code: 0 for --help, and in ParseOnly and Describe mode; 2 for a usage
// error.
int parse_command_line(CLI::App& app, int argc, char** argv);

// The options and positionals of command `c`: runs it in Describe mode.
cli::CommandSpec describe(const Command& c);

// Prints "ninep CMD: <error>" and returns kExitError.
int start_error(std::string_view cmd, const Error& e);
// Prints "ninep CMD: <message>" and returns kExitUsage.
int usage_error(std::string_view cmd, const Error& e);

// cmd_serve.cpp
int run_serve(int argc, char** argv);
int run_server9p(int argc, char** argv);
// cmd_mount.cpp
int run_mount(int argc, char** argv);
int run_umount(int argc, char** argv);
int run_client9p(int argc, char** argv);
// cmd_client.cpp
int run_ls(int argc, char** argv);
int run_stat(int argc, char** argv);
int run_cat(int argc, char** argv);
int run_readlink(int argc, char** argv);
int run_df(int argc, char** argv);
// cmd_client_modify.cpp
int run_mkdir(int argc, char** argv);
int run_rm(int argc, char** argv);
int run_mv(int argc, char** argv);
int run_ln(int argc, char** argv);
int run_xattr(int argc, char** argv);
// cmd_client_transfer.cpp
int run_put(int argc, char** argv);
int run_get(int argc, char** argv);
// cmd_watch.cpp
int run_watch(int argc, char** argv);
// cmd_decode.cpp
int run_decode(int argc, char** argv);
// cmd_policy.cpp
int run_policy(int argc, char** argv);
// cmd_completion.cpp (hidden: not in the table)
int run_completion(int argc, char** argv);

}  // namespace ninep::tool
