#include "cli/options.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>

namespace visor::cli {
namespace {

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, const std::string& name) {
  const auto it = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == name; });
  return it == specs.end() ? nullptr : &*it;
}

}  // namespace

std::string env_name(const std::string& option_name) {
  std::string out = "VISOR_";
  for (char c : option_name) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string ParsedOptions::get(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? std::string() : it->second;
}

bool ParsedOptions::has(const std::string& name) const { return values_.count(name) != 0; }

Result<ParsedOptions> parse_options(const std::vector<OptionSpec>& specs, int argc, char** argv, int first) {
  ParsedOptions parsed;
  for (const auto& spec : specs) {
    if (const char* env = std::getenv(env_name(spec.name).c_str()); env != nullptr && !spec.is_switch) {
      parsed.values_[spec.name] = env;
    } else if (!spec.default_value.empty()) {
      parsed.values_[spec.name] = spec.default_value;
    }
  }
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.starts_with("--") || arg == "--") {
      parsed.positional_.push_back(std::move(arg));
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const OptionSpec* spec = find_spec(specs, name);
    if (spec == nullptr) return Error::bad_input("Unknown option --" + name + " (see --help)");
    if (spec->is_switch) {
      parsed.values_[name] = "1";
      continue;
    }
    if (!value) {
      if (i + 1 >= argc) return Error::bad_input("Option --" + name + " needs a value");
      value = argv[++i];
    }
    parsed.values_[name] = *value;
  }
  return parsed;
}

std::optional<ParsedOptions> parse_command(const std::string& name, const std::string& usage,
                                           const std::vector<OptionSpec>& specs, int argc, char** argv,
                                           int& exit_code) {
  auto options = parse_options(specs, argc, argv, 2);
  if (!options) {
    std::cerr << "visor " << name << ": " << options.error().message << "\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (options->has("help")) {
    std::cout << format_help(usage, specs);
    exit_code = 0;
    return std::nullopt;
  }
  return std::move(*options);
}

std::string format_help(const std::string& usage, const std::vector<OptionSpec>& specs) {
  std::string out = "Usage: " + usage + "\n\nOptions (each also settable as an environment variable):\n";
  for (const auto& spec : specs) {
    std::string flag = "  --" + spec.name + (spec.is_switch ? "" : " VALUE");
    flag.resize(std::max<std::size_t>(flag.size() + 1, 28), ' ');
    out += flag + spec.help;
    if (!spec.default_value.empty()) out += " (default: " + spec.default_value + ")";
    if (!spec.is_switch) out += " [" + env_name(spec.name) + "]";
    out += '\n';
  }
  return out;
}

}  // namespace visor::cli
