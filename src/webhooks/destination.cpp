#include "webhooks/destination.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "util/text.hpp"

namespace visor::webhooks {
namespace {

struct Range {
  std::uint32_t first;
  int prefix;
  std::string_view what;
};

// Non-public IPv4 ranges (RFC 6890 and friends).
constexpr std::array<Range, 12> kIpv4Ranges{{
    {0x00000000, 8, "a 'this network' address"},
    {0x0A000000, 8, "a private address"},
    {0x64400000, 10, "a shared (carrier-grade NAT) address"},
    {0x7F000000, 8, "a loopback address"},
    {0xA9FE0000, 16, "a link-local address"},
    {0xAC100000, 12, "a private address"},
    {0xC0000000, 24, "an IETF protocol address"},
    {0xC0A80000, 16, "a private address"},
    {0xC6120000, 15, "a benchmarking address"},
    {0xE0000000, 4, "a multicast address"},
    {0xF0000000, 4, "a reserved address"},
    {0xFFFFFFFF, 32, "the broadcast address"},
}};

std::optional<std::string> non_public_ipv4(std::uint32_t host_order) {
  for (const Range& range : kIpv4Ranges) {
    const std::uint32_t mask = range.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - range.prefix);
    if ((host_order & mask) == range.first) return std::string(range.what);
  }
  return std::nullopt;
}

std::optional<std::string> non_public_ipv6(const in6_addr& address) {
  const unsigned char* b = address.s6_addr;
  static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(b, kMappedPrefix, sizeof kMappedPrefix) == 0) {
    return non_public_ipv4(std::uint32_t{b[12]} << 24 | std::uint32_t{b[13]} << 16 | std::uint32_t{b[14]} << 8 | b[15]);
  }
  if (IN6_IS_ADDR_UNSPECIFIED(&address)) return "the unspecified address";
  if (IN6_IS_ADDR_LOOPBACK(&address)) return "a loopback address";
  if ((b[0] & 0xFE) == 0xFC) return "a unique local (private) address";
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return "a link-local address";
  if (b[0] == 0xFF) return "a multicast address";
  return std::nullopt;
}

std::string printable(const sockaddr& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  } else if (address.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof text);
  }
  return text;
}

// The host of an http(s) URL as written ("[::1]" without brackets), or an
// error saying what is wrong with the URL.
Result<std::string> url_host(std::string_view url) {
  const auto scheme_end = url.find("://");
  const std::string scheme = util::to_lower(url.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end));
  if (scheme != "http" && scheme != "https") {
    return Error::invalid_request("webhook_url must be an http or https URL, got '" + std::string(url) + "'");
  }
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Error::invalid_request("webhook_url has an unclosed '[' in its host");
    host = authority.substr(1, close - 1);
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
  }
  if (host.empty()) return Error::invalid_request("webhook_url has no host: '" + std::string(url) + "'");
  return util::to_lower(host);
}

// The address `host` writes literally, if it is one.
std::optional<sockaddr_storage> literal_address(const std::string& host) {
  sockaddr_storage storage{};
  auto& v4 = reinterpret_cast<sockaddr_in&>(storage);
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return storage;
  }
  auto& v6 = reinterpret_cast<sockaddr_in6&>(storage);
  if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return storage;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> non_public_address(const sockaddr& address) {
  std::optional<std::string> what;
  if (address.sa_family == AF_INET) {
    what = non_public_ipv4(ntohl(reinterpret_cast<const sockaddr_in&>(address).sin_addr.s_addr));
  } else if (address.sa_family == AF_INET6) {
    what = non_public_ipv6(reinterpret_cast<const sockaddr_in6&>(address).sin6_addr);
  } else {
    what = "not an IP address";
  }
  if (!what) return std::nullopt;
  return "The webhook address " + printable(address) + " is " + *what +
         "; webhooks go only to public addresses unless the server runs with --webhook-allow-private";
}

Status check_url(std::string_view url, bool allow_private) {
  if (url.size() > kMaxUrlLength) {
    return Error::invalid_request("webhook_url must be at most " + std::to_string(kMaxUrlLength) + " characters");
  }
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7F; })) {
    return Error::invalid_request("webhook_url must not contain spaces or control characters");
  }
  auto host = url_host(url);
  if (!host) return host.take_error();
  if (allow_private) return {};
  if (*host == "localhost" || host->ends_with(".localhost")) {
    return Error::invalid_request("webhook_url names " + *host +
                                  "; webhooks go only to public addresses unless the server runs with "
                                  "--webhook-allow-private");
  }
  if (const auto literal = literal_address(*host)) {
    if (auto why = non_public_address(reinterpret_cast<const sockaddr&>(*literal))) {
      return Error::invalid_request(*why);
    }
  }
  return {};
}

}  // namespace visor::webhooks
