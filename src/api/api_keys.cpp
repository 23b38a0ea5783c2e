#include "api/api_keys.hpp"

#include <cctype>
#include <fstream>

#include "util/digest.hpp"
#include "util/text.hpp"

namespace visor::api {
namespace {

constexpr std::size_t kMinKeyLength = 16;

// Splits "KEY label words" into the key and the (possibly empty) label.
std::pair<std::string_view, std::string_view> split_key_line(std::string_view line) {
  std::size_t end = 0;
  while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) ++end;
  return {line.substr(0, end), util::trim_space(line.substr(end))};
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  authorization = util::trim_space(authorization);
  if (!iequals_prefix(authorization, kScheme)) return std::nullopt;
  const std::string_view token = util::trim_space(authorization.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

std::string ApiKeys::owner_of(std::string_view key) { return "key-" + util::sha256_hex(key).substr(0, 32); }

Status ApiKeys::add(std::string_view key, std::string_view rest_of_line, const std::string& where) {
  if (key.size() < kMinKeyLength) {
    return Error::bad_input("The API key " + where + " is shorter than " + std::to_string(kMinKeyLength) +
                            " characters; use long random keys (e.g. `openssl rand -hex 24`)");
  }
  constexpr std::string_view kSecretWord = "webhook-secret=";
  std::string label;
  while (!rest_of_line.empty()) {
    const auto [word, rest] = split_key_line(rest_of_line);
    rest_of_line = rest;
    if (word.starts_with(kSecretWord)) {
      auto secret = webhooks::SigningSecret::parse(word.substr(kSecretWord.size()));
      if (!secret) return Error::bad_input("The webhook secret " + where + ": " + secret.error().message);
      secrets_by_owner_.insert_or_assign(owner_of(key), std::move(*secret));
    } else {
      label += (label.empty() ? "" : " ") + std::string(word);
    }
  }
  if (label.empty()) label = "key " + std::to_string(labels_by_owner_.size() + 1);
  labels_by_owner_.emplace(owner_of(key), std::move(label));
  return {};
}

const webhooks::SigningSecret* ApiKeys::webhook_secret(std::string_view owner) const {
  const auto it = secrets_by_owner_.find(owner);
  return it == secrets_by_owner_.end() ? nullptr : &it->second;
}

Result<ApiKeys> ApiKeys::load(const std::string& file, std::string_view list) {
  ApiKeys keys;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return Error::bad_input("Cannot read the API key file " + file);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      const std::string_view text = util::trim_space(line);
      if (text.empty() || text.front() == '#') continue;
      const auto [key, label] = split_key_line(text);
      if (Status s = keys.add(key, label, "on line " + std::to_string(number) + " of " + file); !s) {
        return s.take_error();
      }
    }
  }
  int position = 0;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view key = util::trim_space(list.substr(0, comma));
    ++position;
    if (!key.empty()) {
      if (Status s = keys.add(key, "", "number " + std::to_string(position) + " of --api-keys"); !s) {
        return s.take_error();
      }
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return keys;
}

Result<Caller> ApiKeys::identify(std::optional<std::string_view> key) const {
  if (!enabled()) return Caller{std::nullopt, "anonymous"};
  if (!key || key->empty()) {
    return Error::unauthenticated(
        "An API key is required: send the header 'Authorization: Bearer <key>' (EventSource streams and page "
        "images may pass ?api_key=<key> instead)");
  }
  std::string owner = owner_of(*key);
  const auto it = labels_by_owner_.find(owner);
  if (it == labels_by_owner_.end()) return Error::unauthenticated("The API key is not valid");
  return Caller{std::move(owner), it->second};
}

}  // namespace visor::api
