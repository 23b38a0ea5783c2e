#pragma once
// A streaming multipart/form-data parser (RFC 7578). The body is fed in
// chunks of any size, split anywhere, including inside a boundary; memory
// stays bounded by the limits.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace visor::api {

struct FormPart {
  std::string name;          // from Content-Disposition
  std::string filename;      // empty when the part is not a file
  std::string content_type;  // empty when absent
  std::string data;
};

struct MultipartLimits {
  std::size_t max_file_bytes = 100u << 20;  // per part with a filename
  std::size_t max_field_bytes = 64u << 10;  // per part without a filename
  std::size_t max_part_header_bytes = 16u << 10;
  std::size_t max_parts = 32;
};

// Extracts the boundary parameter from a Content-Type header value; errors
// (bad_input) when the type is not multipart/form-data or has no boundary.
Result<std::string> multipart_boundary(std::string_view content_type);

class MultipartParser {
 public:
  MultipartParser(std::string boundary, MultipartLimits limits);
  ~MultipartParser();
  MultipartParser(const MultipartParser&) = delete;
  MultipartParser& operator=(const MultipartParser&) = delete;

  // Consumes the next chunk. After an error the parser stays failed and every
  // later call returns the same error. A file part over max_file_bytes gives
  // Kind::too_large; malformed framing gives Kind::bad_input.
  Status feed(std::string_view chunk);

  // Declares the end of the body: bad_input unless the closing boundary was seen.
  Status finish();

  // The parts completed so far, in body order.
  std::vector<FormPart>& parts();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace visor::api
