// `ninep watch`: print the changes the server reports below a remote path, one line each, until
// interrupted (SIGINT/SIGTERM: exit 0) or the server goes away (exit 1).
#include <signal.h>

#include <cstdio>
#include <stop_token>

#include "client/events.h"
#include "cmd_client.h"
#include "command.h"
#include "common/stop_on_signals.h"

namespace ninep::tool {

int run_watch(int argc, char** argv) {
  CLI::App app{
      "Print changes made on the server's host below a remote path, as they happen: "
      "ninep watch [--json] ADDRESS [PATH] (default PATH: /)",
      "ninep watch"};
  client::RemoteOptions co;
  client::Output output = client::Output::Text;
  std::string path = "/";
  add_json_flag(app, output);
  add_client_options(app, co);
  app.add_option("path", path, "remote path to watch, with everything below it (default /)");
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;

  // SIGINT and SIGTERM are blocked in every thread (the session's too, started after this) and
  // taken by one that stops the watch.
  std::stop_source stop;
  StopOnSignals on_signals({SIGINT, SIGTERM}, [&] { stop.request_stop(); });

  auto remote = client::connect_remote(co);
  if (!remote) return start_error("watch", remote.error());
  auto r = client::watch_path(*remote, co, path, stop.get_token(), [&](const p9::Event& e) {
    std::printf("%s\n", client::format_event(e, output).c_str());
    std::fflush(stdout);
  });
  if (!r) return start_error("watch", r.error());
  return kExitOk;
}

}  // namespace ninep::tool
