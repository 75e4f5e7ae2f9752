// Shared pieces of the client sub-commands (ls, stat, cat, put, get, mkdir, rm, mv, ln, readlink,
// df, xattr): connection options, connecting, remote path handling, error reporting.
//
// Syntax of every client command: `ninep CMD [OPTIONS] ADDRESS PATH...`; ADDRESS is a transport
// address (unix:/path, tcp:HOST:PORT, vsock:CID:PORT, fd:N) and remote PATHs are separate
// arguments, relative to the attached export ("/" is its root).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "client/session.h"
#include "common/error.h"

namespace ninep::tool {

struct ClientOptions {
  std::string address;
  std::string aname;
  std::string uname;
  std::uint32_t msize = 512 * 1024;
  std::optional<std::uint32_t> uid;
};

// Adds --aname, --uname, --msize, --uid and the ADDRESS positional (add it before the paths).
void add_client_options(CLI::App& app, ClientOptions& o);

// Parses argv; returns nullopt to continue, or the exit code (0 for --help, 2 for usage errors).
std::optional<int> parse_cli(CLI::App& app, int argc, char** argv);

struct Remote {
  std::shared_ptr<client::Session> session;
  client::Fid root;
};

// Connects, negotiates and attaches; errors are printed (naming the address) and returned.
std::optional<Remote> connect_remote(std::string_view cmd, const ClientOptions& o);

// Prints "ninep CMD: WHAT: error text" to stderr; returns 1.
int report(std::string_view cmd, std::string_view what, const Error& e);
// Prints a warning line to stderr (no exit code change).
void warn(std::string_view cmd, std::string_view what, const Error& e);

// "a/b/c" -> ("a/b", "c"); "c" -> ("", "c"); trailing slashes ignored.
std::pair<std::string, std::string> split_parent(std::string_view path);
// Joins remote or local path components with exactly one '/'.
std::string join_path(std::string_view dir, std::string_view name);

// Octal-ish "drwxr-xr-x" rendering of a Linux mode.
std::string mode_string(std::uint32_t mode);
// "1.5 MiB" style sizes.
std::string human_size(double bytes);

}  // namespace ninep::tool
