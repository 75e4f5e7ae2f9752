// Runs the built `ninep decode` on small streams and checks its output lines and exit status.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#ifndef NINEP_BINARY
#error "NINEP_BINARY must name the built ninep executable"
#endif

namespace {

struct ToolRun {
  int status = -1;                 // exit code
  std::vector<std::string> lines;  // stdout and stderr, merged in order
};

class DecodeTool : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ninep-decode-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Runs `ninep decode ARGS` with stdout and stderr merged.
  static ToolRun run(const std::string& args) {
    std::string cmd = std::string(NINEP_BINARY) + " decode " + args + " 2>&1";
    ToolRun r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    std::string out;
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    std::size_t start = 0;
    while (start < out.size()) {
      std::size_t nl = out.find('\n', start);
      if (nl == std::string::npos) nl = out.size();
      r.lines.push_back(out.substr(start, nl - start));
      start = nl + 1;
    }
    return r;
  }

  std::string dir_;
};

// Tversion(NOTAG, 8192, "9P2000.L"), Twalk(1, 0 -> 1, [a b]), Rlerror(2, ENOENT), as hex text.
const std::string kVersionHex = "15000000 64 ffff 00200000 0800 3950323030302e4c\n";
const std::string kWalkHex = "17000000 6e 0100 00000000 01000000 0200 0100 61 0100 62\n";
const std::string kLerrorHex = "0b000000 07 0200 02000000\n";
const std::vector<std::string> kLines = {
    "Tversion tag=NOTAG msize=8192 version=9P2000.L",
    "Twalk tag=1 fid=0 newfid=1 wnames=[a b]",
    "Rlerror tag=2 ecode=2 (ENOENT: No such file or directory)",
};

std::string unhex(const std::string& hex) {
  std::string out;
  std::string digits;
  for (char c : hex)
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
    out += char(std::stoi(digits.substr(i, 2), nullptr, 16));
  return out;
}

TEST_F(DecodeTool, BinaryFile) {
  auto path = write("in.bin", unhex(kVersionHex + kWalkHex + kLerrorHex));
  ToolRun r = run(path);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.lines, kLines);
}

TEST_F(DecodeTool, HexOnStandardInput) {
  auto path = write("in.hex", kVersionHex + "\n  " + kWalkHex + "\t" + kLerrorHex);
  ToolRun r = run("--hex - < " + path);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.lines, kLines);
}

TEST_F(DecodeTool, MalformedFrameIsReportedAndDecodingContinues) {
  // A Tclunk with one byte of trailing garbage (size 12, sane) between two good frames.
  auto path = write("in.hex", kVersionHex + "0c000000 78 0300 05000000 ff\n" + kLerrorHex);
  ToolRun r = run("--hex " + path);
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[0], kLines[0]);
  EXPECT_EQ(r.lines[1],
            "error at byte 21: Tclunk: 1 bytes of trailing garbage after the last field "
            "(byte 11 of 12)");
  EXPECT_EQ(r.lines[2], kLines[2]);
}

TEST_F(DecodeTool, InsaneSizeStopsTheStream) {
  auto path = write("in.hex", kVersionHex + "00000100 6e 0100\n" + kLerrorHex);
  ToolRun r = run("--hex --msize 8192 " + path);
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0], kLines[0]);
  EXPECT_EQ(r.lines[1], "error at byte 21: size field 65536 exceeds msize 8192");
}

TEST_F(DecodeTool, LegacyMessageIsUnsupportedVersion) {
  auto path = write("in.hex", "0c000000 70 0400 01000000 00\n");  // Topen
  ToolRun r = run("--hex " + path);
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0],
            "error at byte 0: unsupported version: legacy 9P2000 message Topen (type 112)");
}

TEST_F(DecodeTool, TruncatedStream) {
  auto path = write("in.hex", kVersionHex + "17000000 6e 0100");
  ToolRun r = run("--hex " + path);
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[1], "error at byte 21: truncated frame: the stream ends after 7 of its bytes");
}

TEST_F(DecodeTool, BadInputAndUsage) {
  ToolRun r = run(dir_ + "/missing");
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "ninep decode: " + dir_ + "/missing: No such file or directory");

  auto path = write("bad.hex", "0b00 zz");
  r = run("--hex " + path);
  EXPECT_EQ(r.status, 1);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_NE(r.lines[0].find("invalid character 'z' at offset 5"), std::string::npos) << r.lines[0];

  r = run("--no-such-option");
  EXPECT_EQ(r.status, 2);
}

}  // namespace
