// Sub-commands of the `ninep` program register themselves here, one file each (cmd_*.cpp).
#pragma once

#include <string_view>

namespace ninep::tool {

// A sub-command receives its own name as argv[0]. Returns the process exit code.
using CommandFn = int (*)(int argc, char** argv);

struct CommandRegistration {
  CommandRegistration(std::string_view name, std::string_view summary, CommandFn fn);
};

}  // namespace ninep::tool
