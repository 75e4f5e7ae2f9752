#include "diod_server.h"

#include <sys/stat.h>

namespace ninep::testing {

bool DiodServer::available() {
  return !find_program("diod").empty();
}

Result<std::unique_ptr<DiodServer>> DiodServer::start(const std::string& export_dir) {
  std::string diod = find_program("diod");
  if (diod.empty()) return fail(ENOENT, "diod is not installed");
  auto dir = TempDir::create("ninep-diod-");
  if (!dir) return std::unexpected(dir.error());
  auto s = std::make_unique<DiodServer>();
  s->dir_ = std::move(*dir);
  s->export_ = export_dir.empty() ? s->dir_ / "export" : export_dir;
  if (export_dir.empty() && ::mkdir(s->export_.c_str(), 0755) != 0)
    return fail_errno("mkdir " + s->export_);
  s->socket_ = s->dir_ / "diod.sock";
  ServerProcess::Options o;
  o.argv = {diod,       "-f", "-n",       "-c", "/dev/null", "-e",
            s->export_, "-l", s->socket_, "-L", "stderr"};
  o.socket_path = s->socket_;
  o.log_path = s->dir_ / "diod.log";
  auto p = ServerProcess::start(std::move(o));
  if (!p) return std::unexpected(p.error());
  s->proc_ = std::move(*p);
  return s;
}

}  // namespace ninep::testing
