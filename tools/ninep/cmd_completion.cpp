// `ninep completion bash` (hidden): prints a bash completion script for `ninep`, generated from
// the command line of every sub-command (each run in Describe mode: see command.h).
#include <cerrno>
#include <cstdio>
#include <string>

#include "cli/bash_completion.h"
#include "command.h"

namespace ninep::tool {

int run_completion(int argc, char** argv) {
  CLI::App app{"Print a shell completion script for ninep: ninep completion bash",
               "ninep completion"};
  std::string shell;
  app.add_option("SHELL", shell, "the shell")->required()->check(CLI::IsMember({"bash"}));
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  // main.cpp reads these itself, before any command.
  cli::ProgramSpec program;
  program.name = "ninep";
  program.options = {cli::OptionSpec{{"-h", "--help"}, false, {}},
                     cli::OptionSpec{{"--version"}, false, {}}};
  for (const Command& c : commands()) program.commands.push_back(describe(c));
  const std::string script = cli::bash_completion(program);
  if (std::fwrite(script.data(), 1, script.size(), stdout) != script.size() ||
      std::fflush(stdout) != 0)
    return start_error("completion", Error{errno, "standard output: write"});
  return kExitOk;
}

}  // namespace ninep::tool
