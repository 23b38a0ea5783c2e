// libFuzzer target: the streaming multipart/form-data parser
// (src/api/multipart.hpp), driven as the server drives it with the
// Content-Type header and the body of an upload.
//
// Input layout (fuzz/make_seeds.py writes seeds in it):
//   byte 0      max_file_bytes  = 16 × byte
//   byte 1      max_field_bytes =  4 × byte
//   byte 2      max_part_header_bytes = 4 × byte
//   byte 3      max_parts = byte % 9
//   bytes 4..7  piece sizes: the body is fed in pieces of 1 + byte[4 + i % 4] bytes
//   then        a Content-Type header value, up to the first '\n'
//   then        the body
// The limits are small so that every limit is reached often.
//
// Properties checked; a violation aborts, which libFuzzer reports as a crash:
// - multipart_boundary() gives a boundary of 1 to 70 characters or an error;
// - a parser that failed returns the same error from every later call;
// - the outcome (the status, and the parts completed before it) is the same
//   whether the body is fed in one piece, in the pieces the input chooses,
//   or byte by byte;
// - no part holds more than its limit allows, and there are at most max_parts;
// - a body that parsed, written out again from its parts, parses to the
//   same parts.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/multipart.hpp"

namespace visor::api {
namespace {

constexpr std::size_t kControlBytes = 8;

struct FuzzInput {
  MultipartLimits limits;
  std::array<std::size_t, 4> piece_sizes{};
  std::string_view content_type;
  std::string_view body;
};

// False when the input is too short to hold the control bytes and the
// Content-Type line.
bool split_input(std::string_view data, FuzzInput& input) {
  if (data.size() < kControlBytes) return false;
  const auto byte = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(data[i])); };
  input.limits = MultipartLimits{.max_file_bytes = 16 * byte(0),
                                 .max_field_bytes = 4 * byte(1),
                                 .max_part_header_bytes = 4 * byte(2),
                                 .max_parts = byte(3) % 9};
  for (std::size_t i = 0; i < input.piece_sizes.size(); ++i) input.piece_sizes[i] = 1 + byte(4 + i);
  data.remove_prefix(kControlBytes);
  const std::size_t line_end = data.find('\n');
  if (line_end == std::string_view::npos) return false;
  input.content_type = data.substr(0, line_end);
  input.body = data.substr(line_end + 1);
  return true;
}

// Reports which property failed and stops the run, so that libFuzzer keeps
// the input as a crash.
[[noreturn]] void violated(const char* property) {
  std::fprintf(stderr, "multipart fuzz target: property violated: %s\n", property);
  std::abort();
}

void require(bool holds, const char* property) {
  if (!holds) violated(property);
}

// What one parse of a body ended with.
struct Outcome {
  bool ok = true;
  Error error;  // when !ok
  std::vector<FormPart> parts;
};

bool same_parts(const std::vector<FormPart>& a, const std::vector<FormPart>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const FormPart& x, const FormPart& y) {
    return x.name == y.name && x.filename == y.filename && x.content_type == y.content_type && x.data == y.data;
  });
}

bool same_error(const Status& status, const Error& error) {
  return !status.ok() && status.error().kind == error.kind && status.error().message == error.message;
}

bool same_outcome(const Outcome& a, const Outcome& b) {
  if (a.ok != b.ok) return false;
  if (!a.ok && (a.error.kind != b.error.kind || a.error.message != b.error.message)) return false;
  return same_parts(a.parts, b.parts);
}

// Feeds `body` in pieces whose sizes cycle through `piece_sizes` (each at
// least 1), stopping at the first error as the server does, then finishes.
// A failed parser is fed and finished once more, which must give its error.
Outcome parse(const std::string& boundary, const MultipartLimits& limits, std::string_view body,
              std::span<const std::size_t> piece_sizes) {
  MultipartParser parser(boundary, limits);
  Status status;
  for (std::size_t at = 0, piece = 0; at < body.size() && status.ok(); ++piece) {
    const std::size_t size = piece_sizes[piece % piece_sizes.size()];
    status = parser.feed(body.substr(at, size));
    at += size;
  }
  if (status.ok()) status = parser.finish();
  if (!status.ok()) {
    require(same_error(parser.feed(body), status.error()) && same_error(parser.finish(), status.error()),
            "a failed parser keeps failing with the same error");
  }
  Outcome outcome;
  outcome.ok = status.ok();
  if (!status.ok()) outcome.error = status.error();
  outcome.parts = std::move(parser.parts());
  return outcome;
}

void check_limits(const std::vector<FormPart>& parts, const MultipartLimits& limits) {
  require(parts.size() <= limits.max_parts, "at most max_parts parts");
  for (const FormPart& part : parts) {
    // Only a part with a filename parameter may use the file limit; an empty
    // filename does not say which limit applied.
    const std::size_t limit = part.filename.empty() ? std::max(limits.max_file_bytes, limits.max_field_bytes)
                                                    : limits.max_file_bytes;
    require(part.data.size() <= limit, "a part's data within its limit");
  }
}

// `text` as a quoted-string: backslash before '"' and '\'.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// `text` as an RFC 5987 ext-value with every byte percent-encoded, so any
// byte (CR and LF included) survives a header line.
std::string ext_value(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "UTF-8''";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out += {'%', kHex[byte >> 4], kHex[byte & 0x0F]};
  }
  return out;
}

// A body that holds `parts`, in the simplest framing. Part data never holds
// the delimiter (it ended at the first one), so it goes in as it is.
std::string write_body(const std::string& boundary, const std::vector<FormPart>& parts) {
  std::string body;
  for (const FormPart& part : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=" + quoted(part.name);
    if (!part.filename.empty()) body += "; filename*=" + ext_value(part.filename);
    body += "\r\n";
    if (!part.content_type.empty()) body += "Content-Type: " + part.content_type + "\r\n";
    body += "\r\n" + part.data + "\r\n";
  }
  return body + "--" + boundary + "--";
}

void check_round_trip(const std::string& boundary, const FuzzInput& input, const Outcome& original) {
  // Rewritten headers may be longer, and the parser reports no longer which
  // limit a part with an empty filename had: relax both.
  const std::size_t data_limit = std::max(input.limits.max_file_bytes, input.limits.max_field_bytes);
  const MultipartLimits limits{.max_file_bytes = data_limit,
                               .max_field_bytes = data_limit,
                               .max_part_header_bytes = std::size_t{1} << 20,
                               .max_parts = input.limits.max_parts};
  const std::string body = write_body(boundary, original.parts);
  const std::array<std::size_t, 1> whole{std::max<std::size_t>(body.size(), 1)};
  const Outcome again = parse(boundary, limits, body, whole);
  require(again.ok && same_parts(again.parts, original.parts), "parts written out again parse to the same parts");
}

void check(const FuzzInput& input) {
  Result<std::string> boundary = multipart_boundary(input.content_type);
  if (!boundary.ok()) return;
  require(!boundary->empty() && boundary->size() <= 70, "a boundary has 1 to 70 characters");

  const std::array<std::size_t, 1> whole{std::max<std::size_t>(input.body.size(), 1)};
  const std::array<std::size_t, 1> bytewise{1};
  const Outcome in_one_piece = parse(*boundary, input.limits, input.body, whole);
  const Outcome in_pieces = parse(*boundary, input.limits, input.body, input.piece_sizes);
  const Outcome byte_by_byte = parse(*boundary, input.limits, input.body, bytewise);
  require(same_outcome(in_one_piece, in_pieces), "the same outcome in one piece and in the input's pieces");
  require(same_outcome(in_one_piece, byte_by_byte), "the same outcome in one piece and byte by byte");

  check_limits(in_one_piece.parts, input.limits);
  if (in_one_piece.ok) check_round_trip(*boundary, input, in_one_piece);
}

}  // namespace
}  // namespace visor::api

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  visor::api::FuzzInput input;
  if (visor::api::split_input(std::string_view(reinterpret_cast<const char*>(data), size), input)) {
    visor::api::check(input);
  }
  return 0;
}
