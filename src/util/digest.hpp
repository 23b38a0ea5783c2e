#pragma once
// SHA-256 digests, for fingerprints that must not collide by accident or
// on purpose (API key ids, idempotent request bodies), and HMAC-SHA256
// signatures (webhooks).

#include <string>
#include <string_view>

namespace visor::util {

// Accumulates bytes and yields their SHA-256 as 64 lowercase hex digits.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& add(std::string_view bytes);
  // REQUIRES: called once; the object is spent afterwards.
  std::string hex_digest();

 private:
  struct State;
  State* state_;
};

std::string sha256_hex(std::string_view bytes);

// HMAC-SHA256 of `message` under `key`: the 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

}  // namespace visor::util
