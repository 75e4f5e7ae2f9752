// diod serving a fresh temporary directory on a unix socket, for conformance tests and benchmarks:
//   diod -f -n -c /dev/null -e EXPORT -l SOCKET -L stderr
// (foreground, no authentication, no config file). diod's quirks: msize at most 65536, needs a
// numeric n_uname in Tattach, no Tunlinkat; the export is attached with aname = export path.
#pragma once

#include <memory>
#include <string>

#include "common/error.h"
#include "server_process.h"
#include "temp_dir.h"

namespace ninep::testing {

class DiodServer {
 public:
  // True when diod is installed (tests skip otherwise, saying so).
  static bool available();
  // Starts diod exporting a new empty directory `<tmp>/export` on `<tmp>/diod.sock`. With a
  // non-empty `export_dir`, exports that directory instead.
  static Result<std::unique_ptr<DiodServer>> start(const std::string& export_dir = {});

  const std::string& export_dir() const { return export_; }
  const std::string& socket_path() const { return socket_; }
  std::string address() const { return "unix:" + socket_; }
  // The aname diod expects: the exported path.
  const std::string& aname() const { return export_; }
  ServerProcess& process() { return proc_; }
  // Kills diod at once (SIGKILL).
  void kill() { proc_.kill(); }
  std::string log() const { return proc_.log(); }

 private:
  TempDir dir_;
  std::string export_, socket_;
  ServerProcess proc_;
};

}  // namespace ninep::testing
