#include "api/multipart.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <optional>
#include <utility>

#include "util/duration.hpp"

namespace visor::api {
namespace {

constexpr std::size_t kMaxBoundaryLength = 70;  // RFC 2046 section 5.1.1

// The part headers are kept behind this artificial line break so that an
// empty header block ends at the first CRLFCRLF like any other.
constexpr std::string_view kHeaderPrefix = "\r\n";
constexpr std::string_view kHeaderEnd = "\r\n\r\n";

char to_lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return to_lower(x) == to_lower(y); });
}

bool is_lwsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_lwsp(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_lwsp(text.back())) text.remove_suffix(1);
  return text;
}

struct Parameter {
  std::string name;  // lower case
  std::string value;
};

// Reads a quoted-string (text starts at the opening quote), resolving
// backslash escapes, and leaves text after the closing quote. False when the
// closing quote is missing.
bool read_quoted(std::string_view& text, std::string& value) {
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (text[i] == '"') {
      text.remove_prefix(i + 1);
      return true;
    }
    if (text[i] == '\\' && i + 1 < text.size()) ++i;
    value.push_back(text[i]);
  }
  return false;
}

// Reads one `name=value` or `name="quoted"` and leaves text after it.
bool read_parameter(std::string_view& text, Parameter& parameter) {
  const std::size_t equals = text.find_first_of("=;");
  if (equals == std::string_view::npos || text[equals] != '=') return false;
  for (char c : trim(text.substr(0, equals))) parameter.name.push_back(to_lower(c));
  if (parameter.name.empty()) return false;
  text = trim(text.substr(equals + 1));
  if (!text.empty() && text.front() == '"') return read_quoted(text, parameter.value);
  const std::size_t end = std::min(text.find(';'), text.size());
  parameter.value = std::string(trim(text.substr(0, end)));
  text.remove_prefix(end);
  return true;
}

// Parses the `; name=value` list that follows a media type or disposition
// type. False when it is malformed. A trailing ';' is tolerated.
bool parse_parameters(std::string_view text, std::vector<Parameter>& parameters) {
  for (;;) {
    text = trim(text);
    if (text.empty()) return true;
    if (text.front() != ';') return false;
    text = trim(text.substr(1));
    if (text.empty()) return true;
    Parameter parameter;
    if (!read_parameter(text, parameter)) return false;
    parameters.push_back(std::move(parameter));
  }
}

// The first parameter called `name` (lower case), or null.
const std::string* find_parameter(const std::vector<Parameter>& parameters, std::string_view name) {
  for (const Parameter& parameter : parameters) {
    if (parameter.name == name) return &parameter.value;
  }
  return nullptr;
}

// Splits "type; a=b" into the trimmed type and its parameters.
bool split_header_value(std::string_view value, std::string_view& type, std::vector<Parameter>& parameters) {
  const std::size_t semicolon = std::min(value.find(';'), value.size());
  type = trim(value.substr(0, semicolon));
  return parse_parameters(value.substr(semicolon), parameters);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = to_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes an RFC 5987 ext-value ("UTF-8'lang'percent%20encoded"). Other
// charsets and malformed escapes give nullopt, so the caller falls back to
// the plain filename parameter.
std::optional<std::string> decode_ext_value(std::string_view text) {
  const std::size_t charset_end = text.find('\'');
  if (charset_end == std::string_view::npos) return std::nullopt;
  const std::size_t language_end = text.find('\'', charset_end + 1);
  if (language_end == std::string_view::npos) return std::nullopt;
  if (!equals_ignoring_case(text.substr(0, charset_end), "utf-8")) return std::nullopt;
  std::string decoded;
  for (std::size_t i = language_end + 1; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_digit(text[i + 1]);
    const int low = hex_digit(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    decoded.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return decoded;
}

// Fills name and filename from a Content-Disposition value; `is_file` tells
// whether a filename parameter was present (even an empty one), which picks
// the size limit.
Status apply_disposition(std::string_view value, FormPart& part, bool& is_file) {
  std::string_view type;
  std::vector<Parameter> parameters;
  if (!split_header_value(value, type, parameters)) {
    return Error::bad_input("A multipart part has a malformed Content-Disposition header");
  }
  if (!equals_ignoring_case(type, "form-data")) {
    return Error::bad_input("A multipart part is not form-data (Content-Disposition: " + std::string(type) + ")");
  }
  const std::string* name = find_parameter(parameters, "name");
  if (name == nullptr) return Error::bad_input("A multipart part has no field name");
  part.name = *name;
  const std::string* filename = find_parameter(parameters, "filename");
  const std::string* extended = find_parameter(parameters, "filename*");
  is_file = filename != nullptr || extended != nullptr;
  std::optional<std::string> decoded = extended ? decode_ext_value(*extended) : std::nullopt;
  if (decoded) {
    part.filename = std::move(*decoded);
  } else if (filename != nullptr) {
    part.filename = *filename;
  }
  return {};
}

// Parses the header lines of one part (without the blank line that ends them).
Status parse_part_headers(std::string_view block, FormPart& part, bool& is_file) {
  bool has_disposition = false;
  while (!block.empty()) {
    const std::size_t line_end = std::min(block.find("\r\n"), block.size());
    const std::string_view line = block.substr(0, line_end);
    block.remove_prefix(std::min(line_end + 2, block.size()));
    if (line.empty()) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Error::bad_input("A multipart part has a malformed header line");
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (equals_ignoring_case(name, "content-disposition")) {
      // A second one would mix the two (the filename of one, the size limit
      // of the other), and other parsers may read only the first: refuse.
      if (has_disposition) return Error::bad_input("A multipart part has more than one Content-Disposition header");
      if (Status status = apply_disposition(value, part, is_file); !status.ok()) return status;
      has_disposition = true;
    } else if (equals_ignoring_case(name, "content-type")) {
      part.content_type = std::string(value);
    }
  }
  if (!has_disposition) return Error::bad_input("A multipart part has no Content-Disposition: form-data header");
  return {};
}

}  // namespace

Result<std::string> multipart_boundary(std::string_view content_type) {
  std::string_view type;
  std::vector<Parameter> parameters;
  const bool well_formed = split_header_value(content_type, type, parameters);
  if (!equals_ignoring_case(type, "multipart/form-data")) {
    return Error::bad_input("Expected a multipart/form-data upload with a 'file' field");
  }
  if (!well_formed) return Error::bad_input("The multipart/form-data Content-Type header is malformed");
  const std::string* boundary = find_parameter(parameters, "boundary");
  if (boundary == nullptr) return Error::bad_input("The multipart/form-data Content-Type header has no boundary");
  if (boundary->empty() || boundary->size() > kMaxBoundaryLength) {
    return Error::bad_input("The multipart boundary must be 1 to 70 characters long");
  }
  return *boundary;
}

// Not thread-safe; owned by one MultipartParser. Never moved, because the
// searcher points into `delimiter_`.
struct MultipartParser::Impl {
  enum class State {
    preamble,         // before the first delimiter; bytes are dropped
    body,             // inside a part's data
    after_delimiter,  // "--" closes, else optional LWSP then CRLF
    closing_dash,     // saw the first '-' of "--"
    padding,          // LWSP after a delimiter
    line_feed,        // saw the CR after a delimiter
    headers,          // accumulating a part's header block
    epilogue,         // after the close delimiter; bytes are dropped
  };

  using Searcher = std::boyer_moore_horspool_searcher<const char*>;

  Impl(std::string boundary, MultipartLimits limits)
      : delimiter_("\r\n--" + std::move(boundary)),
        searcher_(delimiter_.data(), delimiter_.data() + delimiter_.size()),
        limits_(limits),
        held_(kHeaderPrefix) {}  // the first delimiter may lack its CRLF

  Status feed(std::string_view chunk) {
    if (error_) return *error_;
    while (!chunk.empty()) {
      if (Status status = step(chunk); !status.ok()) return fail(status.take_error());
    }
    return {};
  }

  Status finish() {
    if (error_) return *error_;
    if (state_ != State::epilogue) {
      return fail(Error::bad_input("The multipart body ended before its closing boundary"));
    }
    return {};
  }

  std::vector<FormPart> parts_;

 private:
  Status fail(Error error) {
    error_ = error;
    return error;
  }

  // Consumes at least one byte of `in` or moves to another state.
  Status step(std::string_view& in) {
    switch (state_) {
      case State::preamble:
      case State::body:
        return held_.empty() ? scan(in) : scan_held(in);
      case State::headers:
        return read_headers(in);
      case State::epilogue:
        in = {};
        return {};
      default:
        return read_delimiter_suffix(in);
    }
  }

  // Searches `in` for the delimiter. Without one, a tail of `in` that could
  // begin a delimiter completed by the next chunk is held back.
  Status scan(std::string_view& in) {
    const char* begin = in.data();
    const char* end = begin + in.size();
    const char* hit = searcher_(begin, end).first;
    if (hit != end) {
      const auto length = static_cast<std::size_t>(hit - begin);
      if (Status status = emit(in.substr(0, length)); !status.ok()) return status;
      in.remove_prefix(length + delimiter_.size());
      return end_part();
    }
    const std::size_t keep = partial_delimiter_suffix(in);
    if (Status status = emit(in.substr(0, in.size() - keep)); !status.ok()) return status;
    held_.assign(in.substr(in.size() - keep));
    in = {};
    return {};
  }

  // Resolves the held-back bytes (a proper prefix of the delimiter) against
  // the start of `in`. Looks only at a window of under twice the delimiter's
  // length; afterwards held_ is empty, or `in` is used up, or a delimiter ended.
  Status scan_held(std::string_view& in) {
    const std::size_t held = held_.size();
    window_ = held_;
    window_.append(in.substr(0, std::min(in.size(), delimiter_.size())));
    const std::string_view window = window_;
    held_.clear();
    const std::size_t hit = window.find(delimiter_);
    if (hit < held) {
      if (Status status = emit(window.substr(0, hit)); !status.ok()) return status;
      in.remove_prefix(hit + delimiter_.size() - held);
      return end_part();
    }
    for (std::size_t start = 0; start < held; ++start) {
      const std::string_view rest = window.substr(start);
      // Only possible when `in` fits in the window entirely.
      if (rest.size() < delimiter_.size() && delimiter_.starts_with(rest)) {
        if (Status status = emit(window.substr(0, start)); !status.ok()) return status;
        held_.assign(rest);
        in = {};
        return {};
      }
    }
    return emit(window.substr(0, held));
  }

  // Length of the longest proper suffix of `in` that is a prefix of the delimiter.
  std::size_t partial_delimiter_suffix(std::string_view in) const {
    const std::size_t longest = std::min(in.size(), delimiter_.size() - 1);
    for (std::size_t start = in.size() - longest; start < in.size(); ++start) {
      if (in[start] == delimiter_.front() && delimiter_.starts_with(in.substr(start))) return in.size() - start;
    }
    return 0;
  }

  // Appends part data, enforcing the part's limit before the data grows.
  Status emit(std::string_view bytes) {
    if (state_ != State::body || bytes.empty()) return {};
    const std::size_t limit = is_file_ ? limits_.max_file_bytes : limits_.max_field_bytes;
    if (bytes.size() > limit - current_.data.size()) {
      if (is_file_) return Error::too_large("The uploaded file exceeds the " + util::describe_size(limit) + " limit");
      return Error::too_large("The form field '" + current_.name + "' exceeds the " + util::describe_size(limit) + " limit");
    }
    current_.data.append(bytes);
    return {};
  }

  Status end_part() {
    if (state_ == State::body) {
      parts_.push_back(std::move(current_));
      current_ = {};
    }
    state_ = State::after_delimiter;
    return {};
  }

  // The bytes after a delimiter, one at a time: "--", or LWSP* CRLF.
  Status read_delimiter_suffix(std::string_view& in) {
    const char c = in.front();
    in.remove_prefix(1);
    const bool after_delimiter = state_ == State::after_delimiter;
    if (after_delimiter && c == '-') {
      state_ = State::closing_dash;
    } else if (state_ == State::closing_dash && c == '-') {
      state_ = State::epilogue;
    } else if ((after_delimiter || state_ == State::padding) && is_lwsp(c)) {
      state_ = State::padding;
    } else if ((after_delimiter || state_ == State::padding) && c == '\r') {
      state_ = State::line_feed;
    } else if (state_ == State::line_feed && c == '\n') {
      return start_part();
    } else {
      return Error::bad_input("The multipart body has a malformed boundary line");
    }
    return {};
  }

  Status start_part() {
    if (parts_.size() >= limits_.max_parts) {
      return Error::bad_input("The upload has more than " + std::to_string(limits_.max_parts) + " parts");
    }
    header_.assign(kHeaderPrefix);
    state_ = State::headers;
    return {};
  }

  // Takes bytes up to and including the next LF, so nothing past the header
  // block is consumed and the block never grows past its limit.
  Status read_headers(std::string_view& in) {
    const std::size_t line_feed = in.find('\n');
    const std::size_t take = line_feed == std::string_view::npos ? in.size() : line_feed + 1;
    const std::size_t stored = header_.size() - kHeaderPrefix.size();
    if (stored + take > limits_.max_part_header_bytes + kHeaderEnd.size()) {
      return Error::bad_input("The headers of a multipart part exceed the " +
                              util::describe_size(limits_.max_part_header_bytes) + " limit");
    }
    header_.append(in.substr(0, take));
    in.remove_prefix(take);
    if (!header_.ends_with(kHeaderEnd)) return {};
    // Dropping only the blank line's CRLF keeps an empty block well formed.
    const std::string_view block =
        std::string_view(header_).substr(kHeaderPrefix.size(), header_.size() - kHeaderPrefix.size() - 2);
    current_ = {};
    is_file_ = false;
    if (Status status = parse_part_headers(block, current_, is_file_); !status.ok()) return status;
    header_.clear();
    state_ = State::body;
    return {};
  }

  const std::string delimiter_;  // CRLF "--" boundary
  const Searcher searcher_;
  const MultipartLimits limits_;
  State state_ = State::preamble;
  std::string held_;    // a proper prefix of delimiter_ seen at the end of the last chunk
  std::string window_;  // scratch for scan_held, kept to reuse its allocation
  std::string header_;  // kHeaderPrefix, then the current part's header bytes
  FormPart current_;
  bool is_file_ = false;
  std::optional<Error> error_;
};

MultipartParser::MultipartParser(std::string boundary, MultipartLimits limits)
    : impl_(std::make_unique<Impl>(std::move(boundary), limits)) {}

MultipartParser::~MultipartParser() = default;

Status MultipartParser::feed(std::string_view chunk) { return impl_->feed(chunk); }

Status MultipartParser::finish() { return impl_->finish(); }

std::vector<FormPart>& MultipartParser::parts() { return impl_->parts_; }

}  // namespace visor::api
