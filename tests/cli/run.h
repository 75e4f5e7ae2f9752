// Runs a program of the build (or bash, sh) as a child and returns what it printed.
#pragma once

#include <string>
#include <vector>

namespace ninep::clitest {

struct Ran {
  int code = -1;  // exit code, 128 + signal, or -1 when it could not run or did not finish
  std::string out, err;
};

// Runs argv[0] (a path) with `env` as its whole environment (empty: this process's), in `cwd`
// (empty: this process's), standard input /dev/null; killed after 10 seconds.
Ran run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
        const std::string& cwd = {});

// `s` as one single-quoted shell word.
std::string shell_quoted(const std::string& s);

}  // namespace ninep::clitest
