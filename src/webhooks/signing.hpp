#pragma once
// Webhook signatures as the Standard Webhooks convention makes them
// (standardwebhooks.com), so receivers can verify with its libraries:
//
//   webhook-id:        the delivery's id, the same on every attempt
//   webhook-timestamp: Unix seconds of this attempt
//   webhook-signature: "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body))
//
// A secret is written "whsec_" + base64 of its key bytes, as those
// libraries take it.

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace visor::webhooks {

class SigningSecret {
 public:
  // bad_input, saying the expected form, unless `text` is "whsec_" and the
  // base64 of at least 16 bytes (e.g. `echo whsec_$(head -c 32 /dev/urandom | base64)`).
  static Result<SigningSecret> parse(std::string_view text);

  // The webhook-signature value for one attempt.
  std::string sign(std::string_view message_id, std::int64_t timestamp_s, std::string_view body) const;

 private:
  explicit SigningSecret(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace visor::webhooks
