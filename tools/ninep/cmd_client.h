// The command line shared by the client sub-commands (ls, stat, cat, put, get, mkdir, rm, mv, ln,
// readlink, df, xattr).
//
// Syntax of every client command: `ninep CMD [OPTIONS] ADDRESS PATH...`; ADDRESS is a transport
// address (unix:/path, tcp:HOST:PORT, vsock:CID:PORT, fd:N) and remote PATHs are separate
// arguments, relative to the attached export ("/" is its root).
#pragma once

#include <CLI/CLI.hpp>

#include "client/remote.h"

namespace ninep::tool {

// Adds --aname, --uname, --msize, --uid and the ADDRESS positional (add it before the paths).
void add_client_options(CLI::App& app, client::RemoteOptions& o);

}  // namespace ninep::tool
