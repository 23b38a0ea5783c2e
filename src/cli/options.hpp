#pragma once
// Command-line options with environment equivalents: every --some-flag can
// also be set as VISOR_SOME_FLAG; a flag on the command line wins.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace visor::cli {

struct OptionSpec {
  std::string name;           // without dashes: "max-upload"
  std::string default_value;  // shown in --help; empty for none
  std::string help;
  bool is_switch = false;     // takes no value ("--help")
};

class ParsedOptions {
 public:
  // The value from the command line, else the environment, else the default.
  std::string get(const std::string& name) const;
  bool has(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend Result<ParsedOptions> parse_options(const std::vector<OptionSpec>&, int, char**, int);
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Parses argv[first..argc). bad_input for unknown flags or missing values.
Result<ParsedOptions> parse_options(const std::vector<OptionSpec>& specs, int argc, char** argv, int first);

// Parses a subcommand's argv[2..]. On a malformed option it prints
// "visor NAME: <error>" to stderr and sets `exit_code` to 2; on --help it
// prints the help to stdout and sets `exit_code` to 0; either way it
// returns nullopt and the command should end with `exit_code`.
std::optional<ParsedOptions> parse_command(const std::string& name, const std::string& usage,
                                           const std::vector<OptionSpec>& specs, int argc, char** argv,
                                           int& exit_code);

// "VISOR_MAX_UPLOAD" for "max-upload".
std::string env_name(const std::string& option_name);

// The --help text: usage line, then one line per option with its default
// and environment variable.
std::string format_help(const std::string& usage, const std::vector<OptionSpec>& specs);

}  // namespace visor::cli
