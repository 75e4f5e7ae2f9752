// Requests and verdicts as text, for `ninep policy test` and people: a request is its message
// name and the record fields it sets, e.g. "Twalk name=.ssh uid=1000 path=home".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "policy/record.h"
#include "policy/rules.h"

namespace ninep::policy {

// A record that owns its name and path.
struct RequestText {
  RequestRecord fields;  // name and path are not set here: see record()
  std::string name, path;
  RequestRecord record() const {
    RequestRecord r = fields;
    r.name = name;
    r.path = path;
    return r;
  }
};

// "MESSAGE [KEY=VALUE...]": MESSAGE is a message name (Twalk) or number; keys are the record's
// fields: name, path (a leading or trailing '/' is dropped), uid, gid, export, type (reg, dir,
// lnk, chr, blk, fifo, sock or a number), flags (open flag names as in rules, joined by ',', or a
// number), mode, unlink, valid, depth, offset, count (numbers: decimal, 0x hex or 0 octal).
// Errors (EINVAL) give the column: "column 7: unknown field 'colour'".
Result<RequestText> parse_request(std::string_view text);

// "ALLOW", "LOG", "ERRNO ENOENT (2)", "KILL", or "0x12345678 (refuses with EACCES)".
std::string verdict_name(std::uint32_t verdict);

// What `ninep policy test` prints: the verdict, and the rule that decided
// ("ERRNO ENOENT (2): rule 1, line 3: deny ENOENT walk name=.ssh").
std::string describe(const Rules& rules, const Match& match);

}  // namespace ninep::policy
