#include "cli/spec.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace ninep::cli {
namespace {

std::vector<std::string> split_commas(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    out.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

// The fixed set of values a validator accepts, read from its description (CLI11 has no other
// access): CLI::IsMember describes itself as "{a,b,c}", CLI::CheckedTransformer as
// "value in {a->1,b->2} OR {1,2}". Anything else (a range, a Transformer, which also passes other
// values through, a combination) accepts values that are not listed: empty.
std::vector<std::string> fixed_values(const CLI::Validator& v) {
  const std::string desc = v.get_description();
  constexpr std::string_view kChecked = "value in {";
  if (desc.starts_with(kChecked)) {
    const auto end = desc.find("} OR {");
    if (end == std::string::npos) return {};
    auto values =
        split_commas(std::string_view(desc).substr(kChecked.size(), end - kChecked.size()));
    for (auto& value : values) {
      const auto arrow = value.find("->");
      if (arrow == std::string::npos) return {};
      value.resize(arrow);
    }
    return values;
  }
  if (desc.size() < 2 || desc.front() != '{' || desc.back() != '}') return {};
  auto values = split_commas(std::string_view(desc).substr(1, desc.size() - 2));
  if (std::ranges::any_of(values, [](const auto& s) { return s.find("->") != s.npos; })) return {};
  return values;
}

ArgKind kind_of(std::string name) {
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name == "DIR") return ArgKind::Directory;
  if (name == "PID" || name == "PORT") return ArgKind::Other;
  return ArgKind::File;
}

}  // namespace

CommandSpec describe_command(CLI::App& app, std::string name) {
  CommandSpec spec{std::move(name), {}, {}};
  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;  // hidden
    if (opt->nonpositional()) {
      OptionSpec o;
      for (const auto& s : opt->get_snames()) o.names.push_back("-" + s);
      for (const auto& l : opt->get_lnames()) o.names.push_back("--" + l);
      o.takes_value = opt->get_items_expected_min() > 0;
      try {  // CLI11 tells how many validators there are only by throwing past the last
        for (int i = 0; o.takes_value && o.values.empty(); ++i)
          o.values = fixed_values(*opt->get_validator(i));
      } catch (const CLI::OptionNotFound&) {
      }
      spec.options.push_back(std::move(o));
    }
    if (opt->get_positional()) {
      const std::string pname = opt->get_name(true);
      spec.positionals.push_back({pname, kind_of(pname), opt->get_items_expected_max() > 1});
    }
  }
  return spec;
}

ProgramSpec describe_program(CLI::App& app, std::string name) {
  ProgramSpec spec;
  CommandSpec own = describe_command(app, name);
  spec.name = std::move(name);
  spec.options = std::move(own.options);
  for (CLI::App* sub : app.get_subcommands([](CLI::App* s) { return !s->get_group().empty(); }))
    spec.commands.push_back(describe_command(*sub, sub->get_name()));
  return spec;
}

}  // namespace ninep::cli
