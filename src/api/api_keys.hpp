#pragma once
// Optional API keys: who is calling, and which jobs are theirs. With no
// keys configured the server is open and every caller is the same
// anonymous one; with keys, every /ocr/* request must present one.
//
// Keys are never stored: a job's owner is an id derived from its key
// (SHA-256), so the job store does not hold secrets.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"
#include "webhooks/signing.hpp"

namespace visor::api {

struct Caller {
  // The owner id written on the jobs this caller creates and required on
  // those it reads; nullopt when keys are off (every job is visible).
  std::optional<std::string> owner;
  std::string name;  // for logs: the key's label, or "anonymous"
};

class ApiKeys {
 public:
  // Keys from a file (one per line: "KEY [label] [webhook-secret=whsec_...]",
  // the secret signing the webhooks of that key's jobs; blank lines and
  // lines starting with '#' are ignored) and/or a comma-separated list.
  // Both empty: keys are off. bad_input, naming the line, for a key shorter
  // than 16 characters, a malformed secret or an unreadable file.
  static Result<ApiKeys> load(const std::string& file, std::string_view list);

  bool enabled() const { return !labels_by_owner_.empty(); }
  std::size_t size() const { return labels_by_owner_.size(); }

  // The caller holding `key` (from "Authorization: Bearer KEY", or ?api_key=
  // where a browser cannot send headers); unauthenticated when keys are on
  // and the key is missing or unknown.
  Result<Caller> identify(std::optional<std::string_view> key) const;

  // The owner id of a key: "key-" and the first 32 hex digits of its SHA-256.
  static std::string owner_of(std::string_view key);

  // The webhook secret given with the key whose owner id is `owner`;
  // nullptr when it has none.
  const webhooks::SigningSecret* webhook_secret(std::string_view owner) const;

 private:
  Status add(std::string_view key, std::string_view rest_of_line, const std::string& where);
  std::map<std::string, std::string, std::less<>> labels_by_owner_;
  std::map<std::string, webhooks::SigningSecret, std::less<>> secrets_by_owner_;
};

// The token of an "Authorization: Bearer TOKEN" header value; nullopt for
// any other scheme or an empty token.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace visor::api
