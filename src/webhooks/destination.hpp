#pragma once
// Where webhooks may go. Only http and https URLs; and, unless the operator
// allows it (--webhook-allow-private), never to loopback, private,
// link-local or otherwise non-public addresses, so that a client cannot
// make the server call into its own network (SSRF). URLs are checked when
// a job is submitted (a literal address or localhost), and every address
// a delivery connects to is checked again (names resolving to private
// addresses, DNS changing after submit).

#include <optional>
#include <string>
#include <string_view>

#include <sys/socket.h>

#include "util/result.hpp"

namespace visor::webhooks {

// The longest webhook URL accepted.
inline constexpr std::size_t kMaxUrlLength = 2048;

// invalid_request, saying why, unless `url` is an absolute http or https
// URL with a host, at most kMaxUrlLength long, without spaces or control
// characters; and, without `allow_private`, its host is neither
// "localhost" (or a name under .localhost) nor a literal non-public address.
Status check_url(std::string_view url, bool allow_private);

// Why a connection to `address` (IPv4 or IPv6) is refused without
// --webhook-allow-private, or nullopt for a public address.
std::optional<std::string> non_public_address(const sockaddr& address);

}  // namespace visor::webhooks
