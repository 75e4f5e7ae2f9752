// A scripted 9P peer on one end of a socketpair, for deterministic client tests: the test reads
// each request the client sends and decides what (and when) to answer.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "common/unique_fd.h"
#include "p9/message.h"

namespace ninep::testing {

class FakeServer {
 public:
  struct Request {
    std::vector<std::uint8_t> frame;  // owns the bytes `fcall` views
    p9::Fcall fcall;
    p9::Type type() const { return p9::type_of(fcall.msg); }
    std::uint16_t tag() const { return fcall.tag; }
    template <typename T>
    const T& as() const {
      return std::get<T>(fcall.msg);
    }
  };

  enum class Channel { SocketPair, Pty };
  // Pty: the client end is a raw pseudo-terminal, a descriptor that is not a socket (like a
  // serial port), to exercise the client's poll-based reader.
  explicit FakeServer(Channel channel = Channel::SocketPair);
  // The client's end (take once).
  UniqueFd client_end();
  // The next request frame, or nullopt when none arrives within `timeout` or the client closed.
  std::optional<Request> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void send(std::uint16_t tag, const p9::Message& m);
  // Sends raw bytes (malformed frames).
  void send_raw(std::span<const std::uint8_t> bytes);
  // Answers the client's Tversion with `msize` and `version`.
  bool answer_version(std::uint32_t msize, std::string_view version = p9::kVersion);
  void close() { fd_.reset(); }

 private:
  UniqueFd fd_, client_;
  std::vector<std::uint8_t> buf_;
};

}  // namespace ninep::testing
