// `ninep policy`: request policies' rule files (docs/policy.md): check one, print the cBPF
// program it compiles to, or say which verdict (and which rule) a request gets.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "bpf/text.h"
#include "bpf/vm.h"
#include "command.h"
#include "policy/request_text.h"
#include "policy/rules.h"

namespace ninep::tool {

namespace {

Result<std::string> read_text(const std::string& file) {
  if (file == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail_errno(file);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return fail_errno(file);
  return s.str();
}

}  // namespace

int run_policy(int argc, char** argv) {
  CLI::App app{
      "Request policies (rules compiled to cBPF; see docs/policy.md):\n"
      "  ninep policy check FILE             check the rules\n"
      "  ninep policy compile [--ddd] FILE   print the cBPF program (bpf_asm text, or --ddd\n"
      "                                      tcpdump -ddd bytecode)\n"
      "  ninep policy test FILE REQUEST      print the verdict for a request, e.g.\n"
      "                                      'Twalk name=.ssh uid=1000 path=home', and the rule\n"
      "                                      that decided",
      "ninep policy"};
  std::string action, file, request;
  bool ddd = false;
  app.add_option("ACTION", action, "check, compile or test")
      ->required()
      ->check(CLI::IsMember({"check", "compile", "test"}));
  app.add_option("FILE", file, "the rule file ('-': standard input)")->required();
  app.add_option("REQUEST", request, "test: the request (MESSAGE FIELD=VALUE...)");
  app.add_flag("--ddd", ddd, "compile: print the program as tcpdump -ddd bytecode");
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  if (action == "test" && request.empty())
    return usage_error("policy", Error{EINVAL, "policy test needs a REQUEST"});
  if (action != "test" && !request.empty())
    return usage_error("policy", Error{EINVAL, "only policy test takes a REQUEST"});

  auto text = read_text(file);
  if (!text) return start_error("policy", text.error());
  auto rules = policy::parse_rules(*text);
  if (!rules) return start_error("policy", Error{0, file + ": " + rules.error().message});
  const bpf::Program program = policy::compile(*rules);
  if (action == "check") {
    std::printf("%s: %zu rules, %zu cBPF instructions\n", file.c_str(), rules->rules.size(),
                program.size());
    return kExitOk;
  }
  if (action == "compile") {
    const std::string out =
        ddd ? bpf::print_bytecode(program, true) : bpf::print_assembler(program);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return kExitOk;
  }
  auto parsed = policy::parse_request(request);
  if (!parsed) return usage_error("policy", Error{0, "REQUEST: " + parsed.error().message});
  const policy::RequestRecord record = parsed->record();
  const policy::Match m = policy::match(*rules, record);
  // The verdict is the program's (run as the server runs it); the rule is the evaluator's.
  std::vector<std::uint8_t> packet;
  auto vm = bpf::Vm::create(program);
  if (!vm) return start_error("policy", vm.error());
  if (policy::encode(record, packet) && vm->run(packet) != m.verdict)
    return start_error("policy", Error{EPROTO, "the program and the rules disagree"});
  std::printf("%s\n", policy::describe(*rules, m).c_str());
  return kExitOk;
}

}  // namespace ninep::tool
