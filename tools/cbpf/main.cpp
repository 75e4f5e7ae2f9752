// `cbpf`: classic BPF programs from the command line (see commands.h).
//
// Hidden: `cbpf --parse-only SUBCMD ARGS...` parses the command line as it would run and stops
// there (exit 0, or 2 with CLI11's message); `cbpf completion bash` prints a bash completion
// script generated from the command line below.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "cli/bash_completion.h"
#include "commands.h"
#include "common/version.h"

int main(int argc, char** argv) {
  using namespace ninep::cbpf;
  std::vector<char*> args(argv, argv + argc);
  const bool parse_only = argc >= 2 && !std::strcmp(argv[1], "--parse-only");
  if (parse_only) args.erase(args.begin() + 1);
  const bool completion = args.size() >= 2 && !std::strcmp(args[1], "completion");
  CLI::App app{
      "cbpf: assemble, disassemble, check, run and time classic BPF programs.\n"
      "PROGRAM files may be bpf_asm text, bytecode (N,op jt jf k,...; tcpdump -ddd), a C\n"
      "array (tcpdump -dd) or a listing (tcpdump -d); the form is detected. '-' is stdin."};
  app.set_version_flag("--version", std::string("cbpf ") + ninep::kVersionString);
  app.require_subcommand(1);

  const std::map<std::string, OutputFormat> formats = {
      {"bytecode", OutputFormat::Bytecode}, {"ddd", OutputFormat::Lines},
      {"c", OutputFormat::CArray},          {"raw", OutputFormat::Raw},
      {"listing", OutputFormat::Listing},   {"asm", OutputFormat::Assembler}};
  const std::map<std::string, ninep::bpf::Engine> engines = {
      {"interpreter", ninep::bpf::Engine::Interpreter}, {"jit", ninep::bpf::Engine::Jit}};

  std::string file;
  OutputFormat asm_format = OutputFormat::Bytecode;
  auto* asm_cmd = app.add_subcommand(
      "asm", "assemble a program: print it as bytecode (default), C, raw bytes, ...");
  asm_cmd->add_option("FILE", file, "the program")->required();
  asm_cmd
      ->add_option("--format,-f", asm_format,
                   "bytecode (N,op jt jf k,...), ddd (one per line), c, raw (struct sock_filter "
                   "bytes), listing, asm")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));

  OutputFormat dis_format = OutputFormat::Listing;
  auto* dis_cmd =
      app.add_subcommand("dis", "disassemble a program: print it as a listing (default) or asm");
  dis_cmd->add_option("FILE", file, "the program")->required();
  dis_cmd->add_option("--format,-f", dis_format, "listing (tcpdump -d) or asm (bpf_asm syntax)")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));

  bool quiet = false;
  auto* check_cmd = app.add_subcommand(
      "check", "validate a program as the kernel would: exit 0 if accepted, 1 if not");
  check_cmd->add_option("FILE", file, "the program")->required();
  check_cmd->add_flag("--quiet,-q", quiet, "no output, only the exit code");

  RunOptions run_options;
  auto* run_cmd = app.add_subcommand("run", "run a program over a pcap file or one packet");
  run_cmd->add_option("PROGRAM", run_options.program, "the program")->required();
  auto* pcap = run_cmd->add_option("--pcap", run_options.pcap,
                                   "a classic pcap file: count accepted packets and bytes kept");
  auto* hex = run_cmd->add_option("--hex", run_options.hex,
                                  "one packet in hex (spaces and colons allowed): its verdict");
  pcap->excludes(hex);
  run_cmd
      ->add_option("--engine", run_options.engine,
                   "interpreter or jit (default: the best available)")
      ->transform(CLI::CheckedTransformer(engines, CLI::ignore_case));
  run_cmd->add_flag("--verbose,-v", run_options.verbose, "print the verdict of every packet");

  BenchOptions bench_options;
  auto* bench_cmd = app.add_subcommand("bench", "time a program over a pcap file: ns per packet");
  bench_cmd->add_option("PROGRAM", bench_options.program, "the program")->required();
  bench_cmd->add_option("--pcap", bench_options.pcap, "a classic pcap file")->required();
  bench_cmd->add_option("--engine", bench_options.engine, "interpreter or jit (default: both)")
      ->transform(CLI::CheckedTransformer(engines, CLI::ignore_case));
  bench_cmd->add_option("--runs", bench_options.runs, "timed runs (the median is reported)")
      ->check(CLI::Range(1, 101));
  bench_cmd->add_option("--ms", bench_options.milliseconds, "milliseconds per run")
      ->check(CLI::Range(1, 60000));
  bench_cmd->add_option("--cpu", bench_options.cpu, "pin to this CPU")
      ->check(CLI::NonNegativeNumber);

  if (completion) {
    // Its own command line, outside `app` so that neither help nor completion offer it.
    CLI::App comp{"Print a shell completion script for cbpf: cbpf completion bash",
                  "cbpf completion"};
    std::string shell;
    comp.add_option("SHELL", shell, "the shell")->required()->check(CLI::IsMember({"bash"}));
    try {
      comp.parse(int(args.size()) - 1, args.data() + 1);
    } catch (const CLI::ParseError& e) {
      return comp.exit(e) == 0 ? 0 : 2;
    }
    if (parse_only) return 0;
    const std::string script =
        ninep::cli::bash_completion(ninep::cli::describe_program(app, "cbpf"));
    std::fwrite(script.data(), 1, script.size(), stdout);
    return std::fflush(stdout) == 0 && !std::ferror(stdout) ? 0 : 1;
  }

  try {
    app.parse(int(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (parse_only) return 0;
  if (*asm_cmd) return assemble(file, asm_format);
  if (*dis_cmd) return disassemble(file, dis_format);
  if (*check_cmd) return check(file, quiet);
  if (*run_cmd) {
    if (run_options.pcap.empty() == run_options.hex.empty()) {
      std::fprintf(stderr, "cbpf run: give either --pcap FILE or --hex PACKET\n");
      return 2;
    }
    return run(run_options);
  }
  if (*bench_cmd) return bench(bench_options);
  return 2;
}
