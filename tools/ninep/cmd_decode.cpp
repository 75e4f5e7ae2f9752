// `ninep decode`: pretty-prints a stream of 9P2000.L frames, one line per message.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "command.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "p9/codec.h"
#include "p9/format.h"
#include "p9/frame_reader.h"

namespace ninep::tool {
namespace {

// Turns hex text into bytes, ignoring whitespace; remembers a dangling nibble across chunks.
class HexDecoder {
 public:
  // Appends the bytes of `text` to `out`; an error names the offending character's offset.
  Result<void> feed(std::string_view text, std::vector<std::uint8_t>& out) {
    for (char c : text) {
      std::size_t at = offset_++;
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
      int v = digit(c);
      if (v < 0) {
        return fail(EINVAL, fmt::format("hex input: invalid character '{}' at offset {}",
                                        std::isprint(static_cast<unsigned char>(c)) ? c : '?', at));
      }
      if (high_ < 0) {
        high_ = v;
      } else {
        out.push_back(std::uint8_t(high_ << 4 | v));
        high_ = -1;
      }
    }
    return {};
  }
  bool dangling() const { return high_ >= 0; }

 private:
  static int digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  int high_ = -1;
  std::size_t offset_ = 0;
};

// Decodes and prints every whole frame buffered in `reader`. Returns false when the stream cannot
// go on (a size field that is out of range), after reporting it.
bool print_frames(p9::FrameReader& reader, std::uint64_t& offset, bool& had_error) {
  while (true) {
    auto frame = reader.next();
    if (!frame) {
      std::fflush(stdout);
      std::fprintf(stderr, "error at byte %llu: %s\n", static_cast<unsigned long long>(offset),
                   frame.error().message.c_str());
      had_error = true;
      return false;
    }
    if (!*frame) return true;
    auto fcall = p9::decode(**frame, reader.msize());
    if (fcall) {
      std::string line = p9::to_string(*fcall);
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), stdout);
    } else {
      std::fflush(stdout);
      std::fprintf(stderr, "error at byte %llu: %s\n", static_cast<unsigned long long>(offset),
                   fcall.error().message.c_str());
      had_error = true;
    }
    offset += (*frame)->size();
  }
}

}  // namespace

int run_decode(int argc, char** argv) {
  CLI::App app{"Print 9P2000.L frames (size-prefixed, concatenated) one message per line.",
               "ninep decode"};
  std::string path = "-";
  bool hex = false;
  std::uint32_t msize = 0;
  app.add_option("FILE", path, "input file, '-' for standard input (default)");
  app.add_flag("--hex", hex, "input is hex text (whitespace ignored)");
  app.add_option("--msize", msize, "reject frames larger than N bytes (default: no limit)");
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;

  UniqueFd owned;
  int fd = STDIN_FILENO;
  std::string name = "standard input";
  if (path != "-") {
    owned = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned) return start_error("decode", Error{errno, path});
    fd = owned.get();
    name = path;
  }

  p9::FrameReader reader(msize);
  HexDecoder hexdec;
  std::vector<char> text(hex ? 65536 : 0);
  std::vector<std::uint8_t> bytes;
  std::uint64_t offset = 0;
  bool had_error = false;
  while (true) {
    ssize_t n;
    if (hex) {
      n = ::read(fd, text.data(), text.size());
      if (n > 0) {
        bytes.clear();
        if (auto r = hexdec.feed(std::string_view(text.data(), std::size_t(n)), bytes); !r) {
          std::fflush(stdout);
          return start_error("decode", Error{0, name + ": " + r.error().message});
        }
        auto space = reader.write_space(bytes.size());
        std::memcpy(space.data(), bytes.data(), bytes.size());
        reader.commit(bytes.size());
      }
    } else {
      auto space = reader.write_space(65536);
      n = ::read(fd, space.data(), space.size());
      if (n > 0) reader.commit(std::size_t(n));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fflush(stdout);
      return start_error("decode", Error{errno, name});
    }
    if (n == 0) break;
    if (!print_frames(reader, offset, had_error)) return kExitError;
  }
  std::fflush(stdout);
  if (hex && hexdec.dangling())
    return start_error("decode", Error{0, name + ": hex input ends in the middle of a byte"});
  if (reader.buffered() > 0) {
    std::fprintf(stderr,
                 "error at byte %llu: truncated frame: the stream ends after %zu of its bytes\n",
                 static_cast<unsigned long long>(offset), reader.buffered());
    return kExitError;
  }
  return had_error ? kExitError : kExitOk;
}

}  // namespace ninep::tool
