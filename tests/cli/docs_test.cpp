// Every `ninep` and `cbpf` command line shown in the fenced code blocks of the READMEs and the man
// pages parses (`ninep --parse-only ...`): documented examples cannot drift from the programs.
//
// A shown line is taken after optional leading blanks, "$ " and "sudo ", joined with the lines
// its trailing backslashes continue; only its first simple command is checked (up to an unquoted
// |, ;, &, <, > or # comment), with $(...) and `...` replaced by a placeholder word; sh expands
// the rest (variables, ~, quotes) with a fixed environment, and an unset variable is an error.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "run.h"
#include "temp_dir.h"

namespace ninep::clitest {
namespace {

namespace fs = std::filesystem;

struct Shown {
  std::string file;
  int line = 0;
  std::string text;
};

std::string ltrim(std::string_view s) {
  const auto at = s.find_first_not_of(" \t");
  return at == s.npos ? std::string() : std::string(s.substr(at));
}

// The command lines of `ninep` and `cbpf` in the fenced (```) blocks of `path`.
std::vector<Shown> shown_command_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<Shown> out;
  bool fenced = false;
  std::string pending, line;
  int start = 0;
  for (int n = 1; std::getline(in, line); ++n) {
    if (ltrim(line).starts_with("```")) {
      fenced = !fenced;
      pending.clear();
      continue;
    }
    if (!fenced) continue;
    if (pending.empty()) start = n;
    std::string text = pending.empty() ? line : pending + " " + ltrim(line);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
    if (text.ends_with('\\')) {
      text.pop_back();
      while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
      pending = text;
      continue;
    }
    pending.clear();
    text = ltrim(text);
    for (std::string_view prefix : {"$ ", "sudo "})
      if (text.starts_with(prefix)) text = ltrim(text.substr(prefix.size()));
    for (std::string_view program : {"ninep", "cbpf"})
      if (text == program || text.starts_with(std::string(program) + " "))
        out.push_back({path, start, text});
  }
  return out;
}

// The first simple command of `text`, command substitutions replaced by a placeholder word.
std::string first_command(const std::string& text) {
  std::string out;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote == '\'') {
      out += c;
      if (c == '\'') quote = 0;
    } else if (c == '\\' && i + 1 < text.size()) {
      out += text.substr(i++, 2);
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '(') {
      int depth = 0;
      for (; i < text.size(); ++i) {
        if (text[i] == '(') ++depth;
        if (text[i] == ')' && --depth == 0) break;
      }
      out += "SUBST";
    } else if (c == '`') {
      i = std::min(text.find('`', i + 1), text.size());
      out += "SUBST";
    } else if (quote == '"') {
      out += c;
      if (c == '"') quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (std::string_view("|;&<>").find(c) != std::string_view::npos ||
               (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t'))) {
      break;
    } else {
      out += c;
    }
  }
  return out;
}

// Empty when the shown line parses, else why not.
std::string check(const Shown& s) {
  const std::string command = first_command(s.text);
  auto words = run({"/bin/sh", "-uc", "printf '%s\\0' " + command},
                   {"PATH=/usr/bin:/bin", "HOME=/home/user", "USER=user", "LOGNAME=user",
                    "XDG_RUNTIME_DIR=/run/user/1000", "VMM_PID=1"});
  if (words.code != 0) return "sh cannot expand it: " + words.err;
  std::vector<std::string> argv;
  for (std::size_t at = 0; at < words.out.size();) {
    const auto end = words.out.find('\0', at);
    argv.push_back(words.out.substr(at, end - at));
    at = end + 1;
  }
  if (argv.empty()) return "no command";
  argv.insert(argv.begin() + 1, "--parse-only");
  argv[0] = argv[0] == "cbpf" ? CBPF_BINARY : NINEP_BINARY;
  auto r = run(argv);
  if (r.code == 0) return {};
  while (r.err.ends_with('\n')) r.err.pop_back();
  return "exit " + std::to_string(r.code) + ": " + r.err;
}

// "FILE:LINE: TEXT\n    why" for each shown line that does not parse.
std::string failures(const std::vector<Shown>& shown) {
  std::string out;
  for (const auto& s : shown)
    if (auto why = check(s); !why.empty())
      out += s.file + ":" + std::to_string(s.line) + ": " + s.text + "\n    " + why + "\n";
  return out;
}

TEST(DocumentedCommandLines, Parse) {
  const fs::path src = NINEP_SOURCE_DIR;
  std::vector<std::string> files = {src / "README.md", src / "contrib/systemd/README.md"};
  if (fs::is_directory(src / "docs/man")) {
    std::vector<std::string> pages;
    for (const auto& e : fs::directory_iterator(src / "docs/man"))
      if (e.path().extension() == ".scd") pages.push_back(e.path());
    std::ranges::sort(pages);
    files.insert(files.end(), pages.begin(), pages.end());
  }
  std::vector<Shown> shown;
  for (const auto& f : files) {
    auto lines = shown_command_lines(f);
    if (f == files.front()) {
      EXPECT_GE(lines.size(), 10u) << f;
    }
    shown.insert(shown.end(), lines.begin(), lines.end());
  }
  EXPECT_EQ(failures(shown), "") << "command lines in the documentation that do not parse";
}

// The check itself: which lines it takes, and that it finds bad ones.
TEST(DocumentedCommandLines, TheCheckFindsBadLines) {
  auto dir = testing::TempDir::create("ninep-docs-");
  ASSERT_TRUE(dir);
  const std::string md = *dir / "doc.md";
  std::ofstream(md) << "ninep bogus outside a block\n"
                       "```sh\n"
                       "ninep ls unix:/x /   # a comment\n"
                       "ninep stat|cat|mkdir ...\n"
                       "  $ sudo ninep ls --bogus unix:/x\n"
                       "ninep mount --via fuse \\\n"
                       "    unix:/run/ninep/$(systemd-escape --path /srv/s).sock ~/mnt\n"
                       "cbpf run p.asm --pcap \"$HOME/t.pcap\" | head\n"
                       "ninep serve --exit-with-pid $UNSET_VARIABLE .\n"
                       "sudo cp build/tools/ninep/ninep /usr/local/bin/\n"
                       "```\n"
                       "ninep bogus outside a block\n";
  const auto shown = shown_command_lines(md);
  ASSERT_EQ(shown.size(), 6u);
  EXPECT_EQ(shown[3].line, 6);
  EXPECT_EQ(shown[3].text,
            "ninep mount --via fuse unix:/run/ninep/$(systemd-escape --path /srv/s).sock ~/mnt");
  EXPECT_EQ(check(shown[0]), "");
  EXPECT_NE(check(shown[1]), "");  // `ninep stat`: no ADDRESS
  EXPECT_NE(check(shown[2]).find("--bogus"), std::string::npos);
  EXPECT_EQ(check(shown[3]), "");
  EXPECT_EQ(check(shown[4]), "");
  EXPECT_NE(check(shown[5]).find("UNSET_VARIABLE"), std::string::npos);
  EXPECT_EQ(first_command("ninep ls 'a|b' \"#c\" d#e # f"), "ninep ls 'a|b' \"#c\" d#e ");
  EXPECT_EQ(first_command("ninep ls `id -u` x; rm -rf /"), "ninep ls SUBST x");
}

}  // namespace
}  // namespace ninep::clitest
