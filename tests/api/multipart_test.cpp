#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "api/multipart.hpp"

namespace visor::api {
namespace {

using namespace std::string_literals;

constexpr std::string_view kBoundary = "boundary";

// Feeds `body` in pieces of `chunk_size` bytes, then finishes.
Result<std::vector<FormPart>> parse_in_chunks(std::string_view body, std::size_t chunk_size,
                                              MultipartLimits limits = {},
                                              std::string_view boundary = kBoundary) {
  MultipartParser parser{std::string(boundary), limits};
  for (std::size_t at = 0; at < body.size(); at += chunk_size) {
    if (Status status = parser.feed(body.substr(at, chunk_size)); !status.ok()) return status.take_error();
  }
  if (Status status = parser.finish(); !status.ok()) return status.take_error();
  return std::move(parser.parts());
}

Result<std::vector<FormPart>> parse(std::string_view body, MultipartLimits limits = {}) {
  return parse_in_chunks(body, std::max<std::size_t>(body.size(), 1), limits);
}

// Feeds the body as two pieces split at `split`.
Result<std::vector<FormPart>> parse_split(std::string_view body, std::size_t split) {
  MultipartParser parser{std::string(kBoundary), {}};
  if (Status status = parser.feed(body.substr(0, split)); !status.ok()) return status.take_error();
  if (Status status = parser.feed(body.substr(split)); !status.ok()) return status.take_error();
  if (Status status = parser.finish(); !status.ok()) return status.take_error();
  return std::move(parser.parts());
}

std::string field_part(std::string_view name, std::string_view value) {
  return "--boundary\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n\r\n" +
         std::string(value) + "\r\n";
}

std::string file_part(std::string_view filename, std::string_view data) {
  return "--boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + std::string(filename) +
         "\"\r\nContent-Type: application/pdf\r\n\r\n" + std::string(data) + "\r\n";
}

const std::string kClose = "--boundary--\r\n";

bool same_parts(const std::vector<FormPart>& a, const std::vector<FormPart>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].filename != b[i].filename || a[i].content_type != b[i].content_type ||
        a[i].data != b[i].data) {
      return false;
    }
  }
  return true;
}

// A body that exercises every state: preamble, padding, a field, a file with
// delimiter-like data, and an epilogue.
std::string tricky_body() {
  return "preamble --boundary x\r\n--bound\r\n"s + "--boundary \t\r\n" +
         "content-disposition: form-data; name=lang\r\n\r\neng\r\n" +
         file_part("a.pdf", "%PDF\r\n--boundar\r\r\n-\r\n--boundar-x--boundary\0\r"s) + kClose + "epilogue\r\n";
}

TEST(MultipartParserTest, ParsesAFieldAndAFile) {
  const auto parts = parse(field_part("lang", "eng") + file_part("a.pdf", "%PDF-1.7 data") + kClose);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "lang");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[0].content_type, "");
  EXPECT_EQ((*parts)[0].data, "eng");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "a.pdf");
  EXPECT_EQ((*parts)[1].content_type, "application/pdf");
  EXPECT_EQ((*parts)[1].data, "%PDF-1.7 data");
}

TEST(MultipartParserTest, GivesTheSamePartsForEveryChunking) {
  const std::string body = tricky_body();
  const auto whole = parse(body);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  ASSERT_EQ(whole->size(), 2u);
  EXPECT_EQ((*whole)[0].data, "eng");
  EXPECT_EQ((*whole)[1].data, "%PDF\r\n--boundar\r\r\n-\r\n--boundar-x--boundary\0\r"s);

  for (std::size_t chunk_size = 1; chunk_size <= 16; ++chunk_size) {
    const auto parts = parse_in_chunks(body, chunk_size);
    ASSERT_TRUE(parts.ok()) << "chunk size " << chunk_size << ": " << parts.error().message;
    EXPECT_TRUE(same_parts(*parts, *whole)) << "chunk size " << chunk_size;
  }
  for (std::size_t split = 0; split <= body.size(); ++split) {
    const auto parts = parse_split(body, split);
    ASSERT_TRUE(parts.ok()) << "split at " << split << ": " << parts.error().message;
    EXPECT_TRUE(same_parts(*parts, *whole)) << "split at " << split;
  }
}

TEST(MultipartParserTest, KeepsDelimiterLikeTextThatIsNotADelimiterAsData) {
  const std::vector<std::string> samples = {
      "a\r\n--bound",           // a delimiter cut short at the end of the data
      "a\r\n--bound\r\nmore",   // ... and in the middle
      "x--boundary y",          // not preceded by CRLF
      "\n--boundary",           // LF only
      "\r--boundary",           // CR only
      "\r\r\n--boundar",        // CRs before a near delimiter
      "--boundary",             // at the start of the data, which follows CRLFCRLF
      "\r\n-",
      "\r",
  };
  for (const std::string& data : samples) {
    for (std::size_t chunk_size : {std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
      const auto parts = parse_in_chunks(file_part("a.pdf", data) + kClose, chunk_size);
      ASSERT_TRUE(parts.ok()) << parts.error().message;
      ASSERT_EQ(parts->size(), 1u);
      EXPECT_EQ((*parts)[0].data, data) << "chunk size " << chunk_size;
    }
  }
}

TEST(MultipartParserTest, KeepsBinaryDataWithNulsAndCarriageReturns) {
  std::string data;
  for (int round = 0; round < 3; ++round) {
    for (int byte = 0; byte < 256; ++byte) data.push_back(static_cast<char>(byte));
    data += "\r\n\r\n\0\r\0\n"s;
  }
  for (std::size_t chunk_size : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    const auto parts = parse_in_chunks(file_part("b.bin", data) + kClose, chunk_size);
    ASSERT_TRUE(parts.ok()) << parts.error().message;
    ASSERT_EQ(parts->size(), 1u);
    EXPECT_EQ((*parts)[0].data, data);
  }
}

TEST(MultipartParserTest, KeepsPartsWhoseDataIsEmptyOrOnlyLineBreaks) {
  const auto parts = parse(field_part("a", "") + field_part("b", "\r\n") + file_part("c.txt", "\r\n\r\n") + kClose);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].data, "");
  EXPECT_EQ((*parts)[1].data, "\r\n");
  EXPECT_EQ((*parts)[2].data, "\r\n\r\n");
}

TEST(MultipartParserTest, IgnoresPreambleAndEpilogue) {
  const std::string body = "This is a preamble.\r\n--boundar\r\n-- boundary\r\n" + field_part("a", "1") +
                           "--boundary--  trailing\r\n--boundary\r\nnot a part\r\n";
  const auto parts = parse_in_chunks(body, 1);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, "1");
}

TEST(MultipartParserTest, AcceptsABodyThatStartsWithCrlfBeforeTheFirstDelimiter) {
  const auto parts = parse("\r\n" + field_part("a", "1") + kClose);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
}

TEST(MultipartParserTest, AcceptsABodyWithNoParts) {
  const auto parts = parse(kClose);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_TRUE(parts->empty());
}

TEST(MultipartParserTest, FinishFailsWithoutTheClosingDelimiter) {
  for (const std::string& body : {field_part("a", "1"), field_part("a", "1") + "--boundary-",
                                  field_part("a", "1") + "--boundary\r\nContent-Disp", "no delimiter at all"s,
                                  ""s}) {
    const auto parts = parse(body);
    ASSERT_FALSE(parts.ok()) << body;
    EXPECT_EQ(parts.error().kind, Error::Kind::bad_input);
    EXPECT_EQ(parts.error().message, "The multipart body ended before its closing boundary");
  }
}

TEST(MultipartParserTest, StaysFailedWithTheSameError) {
  MultipartParser parser{std::string(kBoundary), {}};
  const Status first = parser.feed("--boundary\r\nX-No-Colon\r\n\r\n");
  ASSERT_FALSE(first.ok());
  for (const Status& later : {parser.feed(field_part("a", "1")), parser.feed(kClose), parser.finish()}) {
    ASSERT_FALSE(later.ok());
    EXPECT_EQ(later.error().kind, first.error().kind);
    EXPECT_EQ(later.error().message, first.error().message);
  }
}

TEST(MultipartParserTest, RejectsTextAfterADelimiterThatIsNeitherCloseNorLineBreak) {
  for (const std::string& body : {"--boundaryX\r\n"s, "--boundary -\r\n"s, "--boundary\rX"s,
                                  field_part("a", "1") + "--boundary-x"}) {
    const auto parts = parse(body + kClose);
    ASSERT_FALSE(parts.ok()) << body;
    EXPECT_EQ(parts.error().kind, Error::Kind::bad_input);
  }
}

TEST(MultipartParserTest, RejectsAFileOverTheLimitAsItStreams) {
  MultipartLimits limits;
  limits.max_file_bytes = 1000;
  const std::string head = "--boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n";

  const auto at_limit = parse_in_chunks(head + std::string(1000, 'x') + "\r\n" + kClose, 7, limits);
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ((*at_limit)[0].data.size(), 1000u);

  // The error must come while streaming, within a delimiter's length of the
  // limit, rather than after buffering the rest of the body.
  MultipartParser parser{std::string(kBoundary), limits};
  ASSERT_TRUE(parser.feed(head).ok());
  std::size_t fed = 0;
  Status status;
  while (status.ok() && fed < 100000) {
    status = parser.feed(std::string(7, 'x'));
    fed += 7;
  }
  ASSERT_FALSE(status.ok());
  EXPECT_LE(fed, 1000 + 7 + std::string("\r\n--boundary").size());
  EXPECT_EQ(status.error().kind, Error::Kind::too_large);
  EXPECT_EQ(status.error().message, "The uploaded file exceeds the 1000 bytes limit");
}

TEST(MultipartParserTest, RejectsAFieldOverTheFieldLimit) {
  MultipartLimits limits;
  limits.max_field_bytes = 2048;
  EXPECT_TRUE(parse(field_part("lang", std::string(2048, 'a')) + kClose, limits).ok());
  const auto parts = parse_in_chunks(field_part("lang", std::string(2049, 'a')) + kClose, 100, limits);
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.error().kind, Error::Kind::too_large);
  EXPECT_EQ(parts.error().message, "The form field 'lang' exceeds the 2 KiB limit");
}

// Feeds a 100 MiB file in 64 KiB chunks, as the HTTP server does, with data
// full of CRs and dashes so the delimiter search gets no easy skips.
Status feed_big_file(MultipartParser& parser, std::size_t file_bytes) {
  constexpr std::size_t chunk_bytes = 64u << 10;
  std::mt19937 random(42);
  std::string chunk(chunk_bytes, '\0');
  for (char& c : chunk) {
    const auto value = random() % 8;
    c = value == 0 ? '\r' : value == 1 ? '\n' : value == 2 ? '-' : static_cast<char>(random());
  }
  const std::string head =
      "--boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n\r\n";
  if (Status status = parser.feed(head); !status.ok()) return status;
  for (std::size_t sent = 0; sent < file_bytes; sent += chunk_bytes) {
    if (Status status = parser.feed(std::string_view(chunk).substr(0, file_bytes - sent)); !status.ok()) {
      return status;
    }
  }
  if (Status status = parser.feed("\r\n" + kClose); !status.ok()) return status;
  return parser.finish();
}

TEST(MultipartParserTest, StreamsAHundredMebibyteFileInLinearTime) {
  MultipartParser parser{std::string(kBoundary), {}};
  const Status status = feed_big_file(parser, 100u << 20);
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(parser.parts().size(), 1u);
  EXPECT_EQ(parser.parts()[0].data.size(), 100u << 20);
}

TEST(MultipartParserTest, RejectsAFileOneByteOverTheDefaultLimitWithAReadableMessage) {
  MultipartParser parser{std::string(kBoundary), {}};
  const Status status = feed_big_file(parser, (100u << 20) + 1);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, Error::Kind::too_large);
  EXPECT_EQ(status.error().message, "The uploaded file exceeds the 100 MiB limit");
}

TEST(MultipartParserTest, RejectsPartHeadersOverTheLimit) {
  MultipartLimits limits;
  limits.max_part_header_bytes = 100;
  const std::string prefix = "Content-Disposition: form-data; name=\"";
  const std::string at_limit = prefix + std::string(100 - prefix.size() - 1, 'n') + "\"";
  ASSERT_EQ(at_limit.size(), 100u);
  EXPECT_TRUE(parse_in_chunks("--boundary\r\n" + at_limit + "\r\n\r\nv\r\n" + kClose, 1, limits).ok());

  const std::string over = prefix + std::string(100 - prefix.size(), 'n') + "\"";
  const auto parts = parse_in_chunks("--boundary\r\n" + over + "\r\n\r\nv\r\n" + kClose, 1, limits);
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.error().kind, Error::Kind::bad_input);
  EXPECT_EQ(parts.error().message, "The headers of a multipart part exceed the 100 bytes limit");

  // An endless header line fails without waiting for its end.
  MultipartParser parser{std::string(kBoundary), limits};
  ASSERT_TRUE(parser.feed("--boundary\r\n").ok());
  std::size_t fed = 0;
  Status status;
  while (status.ok() && fed < 100000) {
    status = parser.feed("Xxxxxxxxx");
    fed += 9;
  }
  EXPECT_FALSE(status.ok());
  EXPECT_LE(fed, 100u + 4 + 9);
}

TEST(MultipartParserTest, RejectsMorePartsThanTheLimit) {
  MultipartLimits limits;
  limits.max_parts = 2;
  EXPECT_TRUE(parse(field_part("a", "1") + field_part("b", "2") + kClose, limits).ok());
  const auto parts = parse(field_part("a", "1") + field_part("b", "2") + field_part("c", "3") + kClose, limits);
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.error().kind, Error::Kind::bad_input);
  EXPECT_EQ(parts.error().message, "The upload has more than 2 parts");
}

TEST(MultipartParserTest, RejectsPartsThatAreNotNamedFormData) {
  for (const std::string& headers : {"Content-Type: text/plain"s, ""s,
                                     "Content-Disposition: attachment; name=\"a\""s,
                                     "Content-Disposition: form-data; filename=\"a.pdf\""s,
                                     "Content-Disposition: form-data; name=\"unterminated"s,
                                     "Content-Disposition form-data"s}) {
    const auto parts = parse("--boundary\r\n" + headers + "\r\n\r\ndata\r\n" + kClose);
    ASSERT_FALSE(parts.ok()) << headers;
    EXPECT_EQ(parts.error().kind, Error::Kind::bad_input) << headers;
  }
}

// Found by fuzz/multipart.cpp: the second header kept the first one's
// filename but set the size limit of a plain field.
TEST(MultipartParserTest, RejectsAPartWithTwoContentDispositionHeaders) {
  const auto parts = parse(
      "--boundary\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
      "Content-Disposition: form-data; name=\"file\"\r\n\r\n"
      "data\r\n" +
      kClose);
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.error().kind, Error::Kind::bad_input);
  EXPECT_EQ(parts.error().message, "A multipart part has more than one Content-Disposition header");
}

TEST(MultipartParserTest, ParsesHeadersCaseInsensitivelyWithTokensAndEscapes) {
  const auto parts = parse(
      "--boundary\r\n"
      "CONTENT-DISPOSITION:Form-Data;NAME=file ; FileName=\"my \\\"quoted\\\" \\\\ name.pdf\"\r\n"
      "content-type:  application/pdf  \r\n"
      "X-Other: ignored\r\n\r\n"
      "data\r\n" +
      kClose);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "file");
  EXPECT_EQ((*parts)[0].filename, "my \"quoted\" \\ name.pdf");
  EXPECT_EQ((*parts)[0].content_type, "application/pdf");
}

TEST(MultipartParserTest, PrefersAUtf8ExtendedFilename) {
  const auto parts = parse(
      "--boundary\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"na-ve.pdf\"; "
      "filename*=UTF-8''na%C3%AFve%20doc.pdf\r\n\r\nx\r\n" +
      field_part("f", "") + "--boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plain.pdf\"; "
      "filename*=ISO-8859-1''caf%E9.pdf\r\n\r\nx\r\n" + kClose);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].filename, "na\xC3\xAFve doc.pdf");
  EXPECT_EQ((*parts)[2].filename, "plain.pdf");
}

TEST(MultipartParserTest, ParsesACurlStyleBody) {
  // curl -F lang=eng -F file=@document.pdf
  const std::string boundary = "------------------------d74496d66958873e";
  const std::string body =
      "--" + boundary + "\r\n" +
      "Content-Disposition: form-data; name=\"lang\"\r\n\r\n"
      "eng\r\n"
      "--" + boundary + "\r\n" +
      "Content-Disposition: form-data; name=\"file\"; filename=\"document.pdf\"\r\n"
      "Content-Type: application/pdf\r\n\r\n"
      "%PDF-1.4\r\n%\xE2\xE3\xCF\xD3\r\n--------------------------\r\n%%EOF\r\n"
      "--" + boundary + "--\r\n";
  const auto found = multipart_boundary("multipart/form-data; boundary=" + boundary);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(*found, boundary);
  const auto parts = parse_in_chunks(body, 5, {}, *found);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[1].filename, "document.pdf");
  EXPECT_EQ((*parts)[1].data, "%PDF-1.4\r\n%\xE2\xE3\xCF\xD3\r\n--------------------------\r\n%%EOF");
}

TEST(MultipartParserTest, ParsesAPythonRequestsStyleBody) {
  // requests.post(url, files={"file": open("document.pdf", "rb")}, data={"lang": "eng"})
  const std::string boundary = "3f2a1c9be0d84b6e9a7c5d1f0b2e4a68";
  const std::string body =
      "--" + boundary + "\r\n" +
      "Content-Disposition: form-data; name=\"lang\"\r\n\r\n"
      "eng\r\n"
      "--" + boundary + "\r\n" +
      "Content-Disposition: form-data; name=\"file\"; filename=\"document.pdf\"\r\n\r\n"
      "%PDF-1.7\n\x00\x01\r\n"s + "--" + boundary.substr(0, 20) + "\r\n" +
      "--" + boundary + "--\r\n";
  const auto found = multipart_boundary("multipart/form-data; boundary=" + boundary);
  ASSERT_TRUE(found.ok()) << found.error().message;
  const auto parts = parse_in_chunks(body, 64u << 10, {}, *found);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "lang");
  EXPECT_EQ((*parts)[0].content_type, "");
  EXPECT_EQ((*parts)[0].data, "eng");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "document.pdf");
  EXPECT_EQ((*parts)[1].content_type, "");
  EXPECT_EQ((*parts)[1].data, "%PDF-1.7\n"s + "\x00\x01"s + "\r\n--" + boundary.substr(0, 20));
}

TEST(MultipartBoundaryTest, ExtractsQuotedAndUnquotedBoundaries) {
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=abc123"), "abc123");
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(*multipart_boundary("Multipart/Form-Data; BOUNDARY=xyz"), "xyz");
  EXPECT_EQ(*multipart_boundary("  multipart/form-data ;charset=utf-8;  boundary = q ; x=1"), "q");
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'b')),
            std::string(70, 'b'));
}

TEST(MultipartBoundaryTest, RejectsOtherTypesAndBadBoundaries) {
  for (const std::string& bad : {"application/json"s, "multipart/mixed; boundary=x"s, ""s,
                                  "multipart/form-datax; boundary=x"s}) {
    const auto result = multipart_boundary(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error().kind, Error::Kind::bad_input);
    EXPECT_EQ(result.error().message, "Expected a multipart/form-data upload with a 'file' field");
  }
  for (const std::string& bad : {"multipart/form-data"s, "multipart/form-data; charset=utf-8"s,
                                  "multipart/form-data; boundary=\"\""s, "multipart/form-data; boundary="s,
                                  "multipart/form-data; boundary=" + std::string(71, 'b'),
                                  "multipart/form-data; boundary=\"unterminated"s}) {
    const auto result = multipart_boundary(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error().kind, Error::Kind::bad_input) << bad;
  }
}

}  // namespace
}  // namespace visor::api
