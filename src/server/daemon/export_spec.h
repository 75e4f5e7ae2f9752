// What `ninep serve` and podman's `server9p` are told to serve, as written on their command lines.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/error.h"

namespace ninep::server {

struct ExportSpec {
  std::string name, path;
  bool read_only = false;
  std::string policy_file;  // the request policy (policy/policy.h); empty for none
};

// NAME=PATH[,OPTION]... or PATH[,OPTION]...; without a NAME, the directory's base name. Options:
// ro, rw, policy=FILE (FILE is everything after "policy=" up to a following ",ro" / ",rw").
Result<ExportSpec> parse_export(std::string_view text);

// podman's `--serve` value: PATH:ID, split at the LAST ':' (paths may contain ':'; ID is a vsock
// port), or PATH=ADDRESS for any transport. Returns the path and the address to listen on.
Result<std::pair<std::string, std::string>> parse_podman_serve(std::string_view text);

}  // namespace ninep::server
