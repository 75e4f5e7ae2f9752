#include "fake_server.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <termios.h>

#include <cstring>

#include "p9/codec.h"
#include "transport/socket.h"

namespace ninep::testing {

FakeServer::FakeServer(Channel channel) {
  if (channel == Channel::Pty) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) return;
    fd_.reset(master);
    client_.reset(::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC));
    // Raw on both sides: no echo, no line discipline, all 8 bits.
    for (int fd : {fd_.get(), client_.get()}) {
      termios t;
      if (fd >= 0 && ::tcgetattr(fd, &t) == 0) {
        ::cfmakeraw(&t);
        ::tcsetattr(fd, TCSANOW, &t);
      }
    }
    return;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
    fd_.reset(sv[0]);
    client_.reset(sv[1]);
  }
}

UniqueFd FakeServer::client_end() {
  return std::move(client_);
}

std::optional<FakeServer::Request> FakeServer::next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (buf_.size() >= 4) {
      std::uint32_t size = p9::load_le32(buf_.data());
      if (size >= p9::kHeaderSize && buf_.size() >= size) {
        Request r;
        r.frame.assign(buf_.begin(), buf_.begin() + size);
        buf_.erase(buf_.begin(), buf_.begin() + size);
        auto fc = p9::decode(r.frame);
        if (!fc) return std::nullopt;
        r.fcall = *fc;
        return r;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !fd_) return std::nullopt;
    pollfd pf{fd_.get(), POLLIN, 0};
    if (::poll(&pf, 1, static_cast<int>(left.count())) <= 0) continue;
    std::uint8_t tmp[65536];
    ssize_t n = ::read(fd_.get(), tmp, sizeof tmp);
    if (n <= 0) return std::nullopt;
    buf_.insert(buf_.end(), tmp, tmp + n);
  }
}

void FakeServer::send(std::uint16_t tag, const p9::Message& m) {
  std::vector<std::uint8_t> out(p9::encoded_size(m));
  auto n = p9::encode(out, tag, m);
  if (n) send_raw(std::span(out.data(), *n));
}

void FakeServer::send_raw(std::span<const std::uint8_t> bytes) {
  if (fd_) (void)transport::write_all(fd_.get(), bytes);
}

bool FakeServer::answer_version(std::uint32_t msize, std::string_view version) {
  auto r = next();
  if (!r || r->type() != p9::Type::Tversion) return false;
  send(r->tag(), p9::Rversion{msize, version});
  return true;
}

}  // namespace ninep::testing
