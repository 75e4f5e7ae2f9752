// libFuzzer target: arbitrary bytes as a client's stream into a real server connection (localfs
// backend on a temporary directory) over a socketpair, after a valid Tversion + Tattach so the
// fuzzer starts with a session. The server must never crash, hang, leak or touch anything
// outside its export; every input ends with the connection closing and all of it released.
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/forwarding_backend.h"
#include "server/localfs/localfs.h"
#include "server/server.h"

namespace {

using namespace ninep;

// The fuzzer runs as root: never let it make device nodes (a block device node of the host's
// disk, opened and written, would be a real accident).
class NoDevices final : public server::ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  Result<p9::Qid> mknod(server::Node& d, std::string_view n, std::uint32_t mode, std::uint32_t ma,
                        std::uint32_t mi, std::uint32_t g) override {
    const std::uint32_t type = mode & p9::kSIfmt;
    if (type == p9::kSIfblk || type == p9::kSIfchr) return fail(EPERM, "no devices here");
    return inner().mknod(d, n, mode, ma, mi, g);
  }
};

struct Env {
  std::string dir;
  std::unique_ptr<server::Server> server;
  Env() {
    char tmpl[] = "/tmp/ninep-fuzz-server-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    auto fs = server::localfs::LocalFs::open(dir);
    if (!fs) std::abort();
    server::ServerConfig cfg;
    cfg.max_msize = 65536;
    cfg.threads = 4;
    cfg.max_fids = 256;
    // As a VM's root guest would (the export is root's 0700 temporary directory): squashed to
    // nobody, nearly every request would stop at EACCES and the fuzzer would see little.
    cfg.identity.squash = server::Squash::None;
    cfg.log_sink = [](server::LogLevel, std::string_view) {};
    std::vector<server::Export> exports(1);
    exports[0].name = "fuzz";
    exports[0].path = dir;
    exports[0].backend = std::make_unique<NoDevices>(std::move(*fs));
    server = std::make_unique<server::Server>(std::move(cfg), std::move(exports));
  }
};

Env& env() {
  static Env e;
  return e;
}

int remove_entry(const char* path, const struct stat*, int, struct FTW* ftw) {
  if (ftw->level > 0) ::remove(path);
  return 0;
}

// Everything the fuzzer created goes away now and then, so the tree stays small.
void wipe(const std::string& dir) {
  ::chmod(dir.c_str(), 0755);
  ::nftw(dir.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

void put_frame(std::vector<std::uint8_t>& out, std::uint8_t type, std::uint16_t tag,
               const std::vector<std::uint8_t>& body) {
  const std::uint32_t size = static_cast<std::uint32_t>(7 + body.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(size >> (8 * i)));
  out.push_back(type);
  out.push_back(static_cast<std::uint8_t>(tag));
  out.push_back(static_cast<std::uint8_t>(tag >> 8));
  out.insert(out.end(), body.begin(), body.end());
}

std::vector<std::uint8_t> handshake() {
  std::vector<std::uint8_t> out;
  // Tversion msize=65536 "9P2000.L"
  put_frame(out, 100, 0xFFFF,
            {0x00, 0x00, 0x01, 0x00, 8, 0, '9', 'P', '2', '0', '0', '0', '.', 'L'});
  // Tattach fid=0 afid=NOFID uname="0" aname="" n_uname=0
  put_frame(out, 104, 0, {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, '0', 0, 0, 0, 0, 0, 0});
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static int iteration = 0;
  Env& e = env();
  if (++iteration % 200 == 0) wipe(e.dir);

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
  // A joined thread (not the server's detached one): once joined, every thread that served this
  // input has exited, so the leak checker sees a quiet process.
  std::thread conn([&e, fd = sv[0]] {
    if (!e.server->serve_here(UniqueFd(fd))) std::abort();
  });

  std::vector<std::uint8_t> stream = handshake();
  stream.insert(stream.end(), data, data + size);
  // Write everything while draining replies (either side may fill its buffer), then half-close
  // and read until the server closes.
  std::size_t sent = 0;
  bool write_open = true;
  std::uint8_t sink[65536];
  for (;;) {
    pollfd p{sv[1], static_cast<short>(POLLIN | (write_open ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 10000) <= 0) std::abort();  // the server hung
    if (write_open && (p.revents & POLLOUT)) {
      ssize_t n =
          ::send(sv[1], stream.data() + sent, stream.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<std::size_t>(n);
      if (n < 0 && errno != EAGAIN) write_open = false;
      if (sent == stream.size()) write_open = false;
      if (!write_open) ::shutdown(sv[1], SHUT_WR);
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(sv[1], sink, sizeof sink, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN)) break;
    }
  }
  ::close(sv[1]);
  conn.join();
  return 0;
}
