// A bash completion script for a program with sub-commands, written from its ProgramSpec
// (spec.h): `ninep completion bash` and `cbpf completion bash` print it, the build installs it.
//
// It completes the command names after the program (its own options after '-'); after a command,
// that command's options after '-'; the value of an option that takes one: its fixed set of
// values, else file names; positionals: directories (DIR), nothing (PID, PORT), else file names.
// Words are re-joined where bash split them at COMP_WORDBREAKS (unix:/path, --opt=value), so
// positionals are counted as the program will see them.
#pragma once

#include <string>

#include "cli/spec.h"

namespace ninep::cli {

// The script: a function _NAME registered with `complete -F _NAME NAME`.
std::string bash_completion(const ProgramSpec& program);

}  // namespace ninep::cli
