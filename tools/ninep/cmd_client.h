// The command line shared by the client sub-commands (ls, stat, cat, put, get, mkdir, rm, mv, ln,
// readlink, df, xattr).
//
// Syntax of every client command: `ninep CMD [OPTIONS] ADDRESS PATH...`; ADDRESS is a transport
// address (unix:/path, tcp:HOST:PORT, vsock:CID:PORT, fd:N) and remote PATHs are separate
// arguments, relative to the attached export ("/" is its root).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "client/listing.h"
#include "client/remote.h"

namespace ninep::tool {

using client::Fid;

// Adds --aname, --uname, --msize, --uid and the ADDRESS positional (add it before the paths).
void add_client_options(CLI::App& app, client::RemoteOptions& o);

// Adds --json: `output` becomes Output::Json (JSON Lines, client/attr_json.h).
void add_json_flag(CLI::App& app, client::Output& output);

// The common shape of a client command `ninep CMD [OPTIONS] ADDRESS PATH...`: adds the client
// options and the paths to `app` (which has the command's own options), parses, connects, and
// runs `each` on every path. Exit code: 0, or 1 when any path failed (each one reported).
int for_each_path(CLI::App& app, std::string_view cmd, int argc, char** argv,
                  const std::function<Result<void>(const Fid&, const std::string&)>& each);

}  // namespace ninep::tool
