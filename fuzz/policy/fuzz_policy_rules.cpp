// The rule parser over arbitrary text: no crash, and whatever parses compiles to a program the
// kernel would accept, that gives the direct evaluator's verdicts, and whose rules print back to
// text that parses to the same rules.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/validate.h"
#include "bpf/vm.h"
#include "policy/rules.h"

using namespace ninep;
using namespace ninep::policy;

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = parse_rules(text);
  if (!rules) {
    check(rules.error().message.starts_with("line "));
    return 0;
  }
  const bpf::Program program = compile(*rules);
  check(!bpf::find_rejection(program));
  auto vm = bpf::Vm::create(program, bpf::Engine::Interpreter);
  check(vm.has_value());

  // Records made of what the rules mention, so that rules match.
  std::vector<std::uint8_t> packet;
  for (const Rule& r : rules->rules) {
    RequestRecord rec;
    rec.type = r.types.empty() ? 110 : r.types.front();
    rec.uid = r.uids.empty() ? 0 : r.uids.back();
    rec.gid = r.gids.empty() ? 0 : r.gids.front();
    rec.export_index = r.exports.empty() ? 0 : r.exports.front();
    rec.file_type = r.file_types.empty() ? 0100000 : r.file_types.front();
    rec.flags = r.flag_bits | (r.access_modes.empty() ? 0 : r.access_modes.back());
    std::string name = r.names.empty() ? "" : r.names.front().text;
    std::string path = r.paths.empty() ? "" : r.paths.front();
    for (int variant = 0; variant < 3; ++variant) {
      if (variant == 1) path += "/x";
      if (variant == 2) {
        const auto slash = path.find('/');
        name = path.substr(0, slash);
        path.clear();
      }
      if (name.size() > kMaxName) name.resize(kMaxName);
      rec.name = name;
      rec.path = path;
      if (!encode(rec, packet)) continue;
      check(vm->run(packet) == evaluate(*rules, rec));
    }
  }

  // Each rule prints as text that parses to the same rule.
  for (const Rule& r : rules->rules) {
    const std::string again = to_string(r) + (r.matches_all() ? "\n" : "\nallow all\n");
    auto back = parse_rules(again);
    check(back.has_value());
    Rule copy = back->rules.front();
    copy.line = r.line;
    check(copy == r);
  }
  return 0;
}
