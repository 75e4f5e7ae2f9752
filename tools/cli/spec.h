// What a CLI11 command line accepts, read from its CLI::App without parsing anything: the options
// (names, whether they take a value, their fixed set of values) and the positionals. The shell
// completion of `ninep` and `cbpf` (bash_completion.h) is generated from it, so it follows the
// same definition the programs parse with.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ninep::cli {

struct OptionSpec {
  std::vector<std::string> names;   // "-l", "--long": as typed, in the order declared
  bool takes_value = false;         // false for a flag
  std::vector<std::string> values;  // the only values accepted (CLI::IsMember,
                                    // CLI::CheckedTransformer), or empty: any value
};

// What a positional argument names, for completion.
enum class ArgKind { File, Directory, Other };

struct PositionalSpec {
  std::string name;
  ArgKind kind = ArgKind::File;
  bool repeats = false;  // takes every remaining argument
};

struct CommandSpec {
  std::string name;
  std::vector<OptionSpec> options;
  std::vector<PositionalSpec> positionals;  // in the order they are filled
};

struct ProgramSpec {
  std::string name;
  std::vector<OptionSpec> options;    // before the command (--help, --version)
  std::vector<CommandSpec> commands;  // visible ones only
};

// The visible options and positionals of `app` (hidden ones, those in no group, are left out).
// Non-const only because CLI11 has no const access to an option's validators.
CommandSpec describe_command(CLI::App& app, std::string name);

// `app`'s own options, and each visible sub-command as a command.
ProgramSpec describe_program(CLI::App& app, std::string name);

}  // namespace ninep::cli
