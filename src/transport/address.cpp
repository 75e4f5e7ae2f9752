// Parsing and printing of transport addresses.
#include "transport/address.h"

#include <fmt/format.h>

#include <charconv>
#include <climits>
#include <cstdint>
#include <optional>

namespace ninep::transport {
namespace {

// sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t kMaxUnixPath = 107;
constexpr std::uint32_t kVsockAnyCid = 0xFFFFFFFF;  // VMADDR_CID_ANY

template <typename T>
std::optional<T> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<Address> parse_unix(std::string_view rest) {
  if (rest.empty()) return fail(EINVAL, "unix: missing socket path (expected unix:/path)");
  if (rest.size() > kMaxUnixPath)
    return fail(EINVAL, fmt::format("unix: path is too long ({} bytes, at most {})", rest.size(),
                                    kMaxUnixPath));
  if (rest.find('\0') != std::string_view::npos)
    return fail(EINVAL, "unix: path contains a NUL byte");
  Address a;
  a.kind = Address::Kind::Unix;
  a.path = std::string(rest);
  return a;
}

Result<Address> parse_tcp(std::string_view rest) {
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    // tcp:PORT means the loopback address (TCP stays local unless a host is named).
    if (auto p = parse_number<std::uint32_t>(rest); p && *p <= 65535) {
      Address a;
      a.kind = Address::Kind::Tcp;
      a.host = "127.0.0.1";
      a.port = static_cast<std::uint16_t>(*p);
      return a;
    }
    return fail(EINVAL, fmt::format("tcp: missing port in '{}' (expected tcp:HOST:PORT)", rest));
  }
  std::string_view host = rest.substr(0, colon);
  std::string_view port = rest.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) return fail(EINVAL, "tcp: missing host (expected tcp:HOST:PORT)");
  if (host.find_first_of("[]/ ") != std::string_view::npos)
    return fail(EINVAL, fmt::format("tcp: host '{}' is not a valid host name or address", host));
  auto p = parse_number<std::uint32_t>(port);
  if (!p) return fail(EINVAL, fmt::format("tcp: port '{}' is not a number", port));
  if (*p > 65535) return fail(EINVAL, fmt::format("tcp: port {} is out of range (0-65535)", *p));
  Address a;
  a.kind = Address::Kind::Tcp;
  a.host = std::string(host);
  a.port = static_cast<std::uint16_t>(*p);
  return a;
}

Result<Address> parse_vsock(std::string_view rest) {
  Address a;
  a.kind = Address::Kind::Vsock;
  std::string_view port = rest;
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) {
    a.cid = kVsockAnyCid;
  } else {
    std::string_view cid = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    auto c = parse_number<std::uint32_t>(cid);
    if (!c) return fail(EINVAL, fmt::format("vsock: CID '{}' is not a number", cid));
    a.cid = *c;
  }
  if (port.empty())
    return fail(EINVAL, "vsock: missing port (expected vsock:CID:PORT or vsock:PORT)");
  auto p = parse_number<std::uint32_t>(port);
  if (!p) return fail(EINVAL, fmt::format("vsock: port '{}' is not a number", port));
  a.vport = *p;
  return a;
}

Result<Address> parse_fd(std::string_view rest) {
  auto n = parse_number<int>(rest);
  if (!n || *n < 0)
    return fail(EINVAL, fmt::format("fd: descriptor '{}' is not a non-negative number", rest));
  Address a;
  a.kind = Address::Kind::Fd;
  a.fd = *n;
  return a;
}

}  // namespace

Result<Address> parse_address(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return fail(EINVAL, fmt::format("address '{}' has no transport prefix (expected unix:/path, "
                                    "tcp:HOST:PORT, vsock:CID:PORT or fd:N)",
                                    text));
  std::string_view scheme = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  if (scheme == "unix") return parse_unix(rest);
  if (scheme == "tcp") return parse_tcp(rest);
  if (scheme == "vsock") return parse_vsock(rest);
  if (scheme == "fd") return parse_fd(rest);
  return fail(EINVAL,
              fmt::format("unknown transport '{}' (expected unix, tcp, vsock or fd)", scheme));
}

std::string Address::to_string() const {
  switch (kind) {
    case Kind::Unix:
      return "unix:" + path;
    case Kind::Tcp:
      if (host.find(':') != std::string::npos) return fmt::format("tcp:[{}]:{}", host, port);
      return fmt::format("tcp:{}:{}", host, port);
    case Kind::Vsock:
      if (cid == kVsockAnyCid) return fmt::format("vsock:{}", vport);
      return fmt::format("vsock:{}:{}", cid, vport);
    case Kind::Fd:
      return fmt::format("fd:{}", fd);
  }
  return "?";
}

}  // namespace ninep::transport
