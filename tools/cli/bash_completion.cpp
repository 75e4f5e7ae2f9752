#include "cli/bash_completion.h"

#include <fmt/format.h>

#include <cctype>

namespace ninep::cli {
namespace {

// `s` as one single-quoted shell word.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string option_names(const std::vector<OptionSpec>& options) {
  std::vector<std::string> names;
  for (const auto& o : options) names.insert(names.end(), o.names.begin(), o.names.end());
  return joined(names);
}

// The case branch of one command: its options (opts), those that take a value (takes, each
// between spaces), their fixed values (values[OPTION]) and its positionals (kinds: f, d or -, a
// trailing + when the last one repeats).
std::string command_branch(const CommandSpec& c) {
  std::vector<std::string> takes, values, kinds;
  for (const auto& o : c.options) {
    if (!o.takes_value) continue;
    for (const auto& n : o.names) {
      takes.push_back(n);
      if (!o.values.empty()) values.push_back(fmt::format("[{}]={}", n, quoted(joined(o.values))));
    }
  }
  for (const auto& p : c.positionals) {
    const char* kind = p.kind == ArgKind::Directory ? "d" : p.kind == ArgKind::File ? "f" : "-";
    kinds.push_back(std::string(kind) + (p.repeats ? "+" : ""));
  }
  return fmt::format(
      "    {})\n"
      "      opts={}\n"
      "      takes={}\n"
      "      values=({})\n"
      "      kinds={}\n"
      "      ;;\n",
      quoted(c.name), quoted(option_names(c.options)), quoted(" " + joined(takes) + " "),
      joined(values), quoted(joined(kinds)));
}

// The completion function; @FN@ is its name (after the program's), @OPTS@ the program's own
// options, @COMMANDS@ the command names, @BRANCHES@ one command_branch each.
constexpr std::string_view kFunction = R"(_@FN@() {
  local cur cmd= ci=0 i w n=0 opt= val= pre opts= takes= kinds= k line rest
  local -a words=() ks=()
  local -A values=()
  COMPREPLY=()
  # Re-join what bash split at COMP_WORDBREAKS (':' in unix:/path, '=' in --opt=value): words
  # with no blank between them in COMP_LINE are one argument.
  if [[ -n ${COMP_LINE-} ]]; then
    line=${COMP_LINE:0:COMP_POINT}
    for ((i = 0; i <= COMP_CWORD; i++)); do
      w=${COMP_WORDS[i]}
      rest=${line#"${line%%[![:blank:]]*}"}
      if ((i > 0 && ${#rest} == ${#line})); then
        words[${#words[@]} - 1]+=$w
      else
        words+=("$w")
      fi
      line=${rest:${#w}}
    done
  else
    words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
  fi
  cur=${words[${#words[@]} - 1]}
  # What bash will replace: the replies are whole arguments, less what belongs to earlier words.
  pre=${cur%"${COMP_WORDS[COMP_CWORD]}"}
  for ((i = 1; i < ${#words[@]} - 1; i++)); do
    [[ ${words[i]} == -* ]] && continue
    cmd=${words[i]} ci=$i
    break
  done
  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W @OPTS@ -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W @COMMANDS@ -- "$cur")
    fi
  else
    case $cmd in
@BRANCHES@    *) return 0 ;;
    esac
    if [[ $cur == -*=* ]]; then
      opt=${cur%%=*} val=${cur#*=}
    elif ((${#words[@]} - 2 > ci)); then
      opt=${words[${#words[@]} - 2]} val=$cur
    fi
    if [[ -n $opt && $takes == *" $opt "* ]]; then
      if [[ -n ${values[$opt]-} ]]; then
        mapfile -t COMPREPLY < <(compgen -W "${values[$opt]}" -- "$val")
      else
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$val")
      fi
      [[ $cur == -*=* ]] && COMPREPLY=("${COMPREPLY[@]/#/$opt=}")
    elif [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
    else
      # Which positional this is: count the arguments before it that are not options or their
      # values (everything after "--" is one).
      for ((i = ci + 1; i < ${#words[@]} - 1; i++)); do
        w=${words[i]}
        if [[ $w == -- ]]; then
          n=$((n + ${#words[@]} - 2 - i))
          break
        elif [[ $w == -* ]]; then
          [[ $w != *=* && $takes == *" $w "* ]] && i=$((i + 1))
        else
          n=$((n + 1))
        fi
      done
      ks=($kinds)
      k=
      if ((n < ${#ks[@]})); then
        k=${ks[n]}
      elif ((${#ks[@]} > 0)) && [[ ${ks[${#ks[@]} - 1]} == *+ ]]; then
        k=${ks[${#ks[@]} - 1]}
      fi
      case ${k%+} in
        f)
          compopt -o filenames 2>/dev/null
          mapfile -t COMPREPLY < <(compgen -f -- "$cur")
          ;;
        d)
          compopt -o filenames 2>/dev/null
          mapfile -t COMPREPLY < <(compgen -d -- "$cur")
          ;;
      esac
    fi
  fi
  if [[ -n $pre ]]; then
    COMPREPLY=("${COMPREPLY[@]#"$pre"}")
  fi
  return 0
}
)";

void replace(std::string& text, std::string_view key, const std::string& with) {
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + with.size()))
    text.replace(at, key.size(), with);
}

// A shell function name for `name`.
std::string function_name(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

}  // namespace

std::string bash_completion(const ProgramSpec& program) {
  std::vector<std::string> names;
  std::string branches;
  for (const auto& c : program.commands) {
    names.push_back(c.name);
    branches += command_branch(c);
  }
  std::string fn(kFunction);
  replace(fn, "@FN@", function_name(program.name));
  replace(fn, "@OPTS@", quoted(option_names(program.options)));
  replace(fn, "@COMMANDS@", quoted(joined(names)));
  replace(fn, "@BRANCHES@", branches);
  return fmt::format(
      "# bash completion for {0}: generated by `{0} completion bash` from its command-line\n"
      "# definition.\n\n"
      "{1}\n"
      "complete -F _{2} {0}\n",
      program.name, fn, function_name(program.name));
}

}  // namespace ninep::cli
