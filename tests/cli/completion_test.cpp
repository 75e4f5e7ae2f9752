// The bash completion scripts the build generates (`ninep completion bash`, `cbpf completion
// bash`), run by bash the way `complete -F` runs them: COMP_WORDS, COMP_CWORD, COMP_LINE and
// COMP_POINT set, the function called, COMPREPLY printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "run.h"
#include "temp_dir.h"

namespace ninep::clitest {
namespace {

using Words = std::vector<std::string>;

class BashCompletion : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = testing::TempDir::create("ninep-completion-");
    ASSERT_TRUE(d);
    dir_ = std::move(*d);
    std::filesystem::create_directory(dir_ / "alps");
    std::ofstream(dir_ / "alpha.txt") << "x";
    std::ofstream(dir_ / "beta") << "x";
  }

  // The replies for `line` (the cursor at its end), in the temporary directory (alpha.txt, alps/,
  // beta), sorted. `words` are COMP_WORDS as bash splits the line (default: at blanks, with an
  // empty last word when the line ends with one).
  Words complete(const std::string& line, Words words = {}) {
    if (words.empty()) {
      std::istringstream in(line);
      for (std::string w; in >> w;) words.push_back(w);
      if (line.ends_with(' ')) words.push_back("");
    }
    const std::string& program = words.front();
    std::string script = ". " + shell_quoted(std::string(NINEP_COMPLETIONS_DIR "/") + program) +
                         " || exit 3\nCOMP_WORDS=(";
    for (const auto& w : words) script += " " + shell_quoted(w);
    script += " )\nCOMP_CWORD=" + std::to_string(words.size() - 1) +
              "\nCOMP_LINE=" + shell_quoted(line) + "\nCOMP_POINT=" + std::to_string(line.size()) +
              "\n_" + program + " " + program + " " + shell_quoted(words.back()) + " " +
              shell_quoted(words.size() > 1 ? words[words.size() - 2] : "") +
              " || exit 4\nfor r in \"${COMPREPLY[@]}\"; do printf '%s\\n' \"$r\"; done\n";
    auto r = run({"/bin/bash", "--norc", "--noprofile", "-c", script}, {}, dir_.path());
    EXPECT_EQ(r.code, 0) << line << "\n" << r.err;
    EXPECT_EQ(r.err, "") << line;
    Words replies;
    std::istringstream out(r.out);
    for (std::string l; std::getline(out, l);) replies.push_back(l);
    std::ranges::sort(replies);
    return replies;
  }

  static bool has(const Words& words, const std::string& w) {
    return std::ranges::find(words, w) != words.end();
  }

  testing::TempDir dir_;
};

TEST_F(BashCompletion, CommandNames) {
  EXPECT_EQ(complete("ninep se"), (Words{"serve", "server9p"}));
  const Words all = complete("ninep ");
  EXPECT_EQ(all.size(), 20u);
  EXPECT_TRUE(has(all, "ls") && has(all, "mount") && has(all, "xattr") && has(all, "decode") &&
              has(all, "watch"));
  EXPECT_FALSE(has(all, "completion"));
  EXPECT_EQ(complete("ninep co"), Words{});
  EXPECT_EQ(complete("ninep --"), (Words{"--help", "--version"}));
}

TEST_F(BashCompletion, OptionsOfTheCommand) {
  EXPECT_EQ(complete("ninep serve --li"), Words{"--listen"});
  EXPECT_EQ(complete("ninep serve --po"), Words{"--poll-us"});
  EXPECT_EQ(complete("ninep mount --po"), Words{"--poll-us"});
  const Words ls = complete("ninep ls --");
  EXPECT_TRUE(has(ls, "--aname") && has(ls, "--msize") && has(ls, "--long") && has(ls, "--help"));
  EXPECT_FALSE(has(ls, "--listen") || has(ls, "--export") || has(ls, "--via"));
  EXPECT_EQ(complete("ninep umount -"), (Words{"--force", "--help", "--lazy", "-f", "-h", "-l"}));
}

TEST_F(BashCompletion, FixedValues) {
  EXPECT_EQ(complete("ninep mount --via "), (Words{"auto", "fuse", "kernel"}));
  EXPECT_EQ(complete("ninep mount --cache l"), Words{"loose"});
  // --via=k: bash splits the word at '='.
  EXPECT_EQ(complete("ninep mount --via=k", {"ninep", "mount", "--via", "=", "k"}),
            Words{"kernel"});
}

TEST_F(BashCompletion, OptionValuesWithoutASetAreFiles) {
  EXPECT_EQ(complete("ninep serve --export al"), (Words{"alpha.txt", "alps"}));
  EXPECT_EQ(complete("ninep serve --export "), (Words{"alpha.txt", "alps", "beta"}));
}

TEST_F(BashCompletion, Positionals) {
  EXPECT_EQ(complete("ninep decode al"), (Words{"alpha.txt", "alps"}));
  EXPECT_EQ(complete("ninep umount al"), Words{"alps"});  // DIR: directories only
  EXPECT_EQ(complete("ninep mount unix:/run/x.sock "), Words{"alps"});
  EXPECT_EQ(complete("ninep client9p al"), Words{});  // PORT
  EXPECT_EQ(complete("ninep client9p 5640 al"), Words{"alps"});
}

TEST_F(BashCompletion, PositionalsAreCountedAsTheProgramSeesThem) {
  // bash splits unix:/x.sock at ':'; it is still one argument (ADDRESS), so this is DIR.
  EXPECT_EQ(
      complete("ninep mount unix:/x.sock al", {"ninep", "mount", "unix", ":", "/x.sock", "al"}),
      Words{"alps"});
  // An option's value is no positional; a flag has none.
  EXPECT_EQ(complete("ninep mount --aname x al"), (Words{"alpha.txt", "alps"}));
  EXPECT_EQ(complete("ninep mount --daemon x al"), Words{"alps"});
  EXPECT_EQ(
      complete("ninep mount --via=fuse x al", {"ninep", "mount", "--via", "=", "fuse", "x", "al"}),
      Words{"alps"});
  EXPECT_EQ(complete("ninep mount x y al"), Words{});  // no third positional
}

TEST_F(BashCompletion, Cbpf) {
  EXPECT_EQ(complete("cbpf "), (Words{"asm", "bench", "check", "dis", "run"}));
  EXPECT_EQ(complete("cbpf asm --format "),
            (Words{"asm", "bytecode", "c", "ddd", "listing", "raw"}));
  EXPECT_EQ(complete("cbpf run --engine "), (Words{"interpreter", "jit"}));
  const Words run = complete("cbpf run --");
  EXPECT_TRUE(has(run, "--pcap") && has(run, "--hex") && has(run, "--verbose"));
  EXPECT_FALSE(has(run, "--format") || has(run, "--runs"));
  EXPECT_EQ(complete("cbpf check al"), (Words{"alpha.txt", "alps"}));
  EXPECT_EQ(complete("cbpf --v"), Words{"--version"});
}

}  // namespace
}  // namespace ninep::clitest
