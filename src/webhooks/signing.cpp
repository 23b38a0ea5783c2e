#include "webhooks/signing.hpp"

#include "util/base64.hpp"
#include "util/digest.hpp"

namespace visor::webhooks {
namespace {

constexpr std::string_view kPrefix = "whsec_";
constexpr std::size_t kMinKeyBytes = 16;

}  // namespace

Result<SigningSecret> SigningSecret::parse(std::string_view text) {
  const Error malformed = Error::bad_input(
      "A webhook secret must be 'whsec_' followed by the base64 of at least " + std::to_string(kMinKeyBytes) +
      " random bytes, e.g. whsec_$(head -c 32 /dev/urandom | base64)");
  if (!text.starts_with(kPrefix)) return malformed;
  auto key = util::base64_decode(text.substr(kPrefix.size()));
  if (!key || key->size() < kMinKeyBytes) return malformed;
  return SigningSecret(std::move(*key));
}

std::string SigningSecret::sign(std::string_view message_id, std::int64_t timestamp_s, std::string_view body) const {
  const std::string signed_content =
      std::string(message_id) + "." + std::to_string(timestamp_s) + "." + std::string(body);
  return "v1," + util::base64_encode(util::hmac_sha256(key_, signed_content));
}

}  // namespace visor::webhooks
