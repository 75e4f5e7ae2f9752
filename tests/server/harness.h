// Test harness for the server: an in-process server on a temporary export, the "target"
// abstraction that lets one conformance suite run against our server and against diod, and a raw
// frame client for protocol-level tests.
#pragma once

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/session.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "diod_server.h"
#include "p9/message.h"
#include "server/config.h"
#include "server/server.h"
#include "temp_dir.h"

namespace ninep::servertest {

server::ServerConfig root_guest_config();

// Our server, in this process, exporting `<tmp>/export`; connections are socketpairs.
class InProcessServer {
 public:
  struct Options {
    // The suites act as a root guest would with a VM's root filesystem (--no-root-squash), as
    // the user running them; tests/security covers the default, root_squash.
    server::ServerConfig config = root_guest_config();
    bool read_only = false;
    std::uint32_t max_depth = 1024;
    std::string export_name = "export";
    // The export's request policy (policy/policy.h); none when null.
    std::shared_ptr<policy::PolicySlot> policy;
    // Wraps the export's backend (e.g. to slow some operations down).
    std::function<std::unique_ptr<server::Backend>(std::unique_ptr<server::Backend>)> wrap;
  };
  static std::unique_ptr<InProcessServer> start(Options opts);
  static std::unique_ptr<InProcessServer> start() { return start(Options{}); }
  ~InProcessServer();

  // A new connection: the server's end is served, the other end returned.
  Result<UniqueFd> connect_raw();
  Result<std::shared_ptr<client::Session>> connect(const client::SessionOptions& o = {});

  server::Server& server() { return *server_; }
  const std::string& export_dir() const { return export_; }
  const std::string& root() const { return dir_.path(); }  // holds export/ and room outside it

 private:
  testing::TempDir dir_;
  std::string export_;
  std::unique_ptr<server::Server> server_;
};

// A server under test, ours or diod.
class Target {
 public:
  virtual ~Target() = default;
  virtual bool is_diod() const = 0;
  virtual const std::string& export_dir() const = 0;
  virtual std::string aname() const = 0;
  virtual Result<std::shared_ptr<client::Session>> connect(
      const client::SessionOptions& o = {}) = 0;
  virtual std::string log() const { return {}; }

  // connect() + attach as the current user; fails the test on error.
  std::pair<std::shared_ptr<client::Session>, client::Fid> attach(
      const client::SessionOptions& o = {});
  std::string host(const std::string& rel) const { return export_dir() + "/" + rel; }
};

std::unique_ptr<Target> make_target(const std::string& which);

// Host-side helpers.
void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);
bool exists(const std::string& path);
struct stat lstat_of(const std::string& path);

// A client that speaks raw frames, for what the client library would never send.
class RawClient {
 public:
  explicit RawClient(UniqueFd fd, std::uint32_t msize = 1u << 20);
  // Sends one message; returns false on a write error.
  bool send(std::uint16_t tag, const p9::Message& m);
  bool send_bytes(const std::vector<std::uint8_t>& bytes);
  // The next reply (decoded), or nullopt on EOF/timeout. `frame` keeps the bytes alive.
  struct Reply {
    std::vector<std::uint8_t> frame;
    p9::Fcall call;
  };
  std::optional<Reply> recv(int timeout_ms = 5000);
  // True when the peer closed the connection within the timeout (no frame came).
  bool closed_by_peer(int timeout_ms = 5000);
  // Tversion + Tattach(fid) as root; asserts success.
  void handshake(std::uint32_t msize = 65536, std::uint32_t fid = 0);
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::vector<std::uint8_t> buf_;
  std::uint32_t msize_;
};

// The errno of an Rlerror reply, or -1 when the reply is something else.
int lerror(const RawClient::Reply& r);

}  // namespace ninep::servertest
