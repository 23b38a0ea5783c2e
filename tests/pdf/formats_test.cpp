#include "pdf/formats.hpp"

#include <gtest/gtest.h>

#include <string>

namespace visor::pdf {
namespace {

using namespace std::string_literals;

std::optional<Format> sniffed(const std::string& bytes) {
  const auto info = sniff_format(bytes);
  return info ? std::optional<Format>(info->format) : std::nullopt;
}

TEST(SniffFormat, ImagesAreKnownByTheirSignatures) {
  EXPECT_EQ(sniffed("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"s), Format::png);
  EXPECT_EQ(sniffed("\xff\xd8\xff\xe0\0\x10JFIF"s), Format::jpeg);
  EXPECT_EQ(sniffed("II*\0\x08\0\0\0"s), Format::tiff);
  EXPECT_EQ(sniffed("MM\0*\0\0\0\x08"s), Format::tiff);
  EXPECT_EQ(sniffed("GIF89a\x01\0"s), Format::gif);
  EXPECT_EQ(sniffed("GIF87a\x01\0"s), Format::gif);
  EXPECT_EQ(sniffed("BM\x36\x04\0\0\0\0\0\0\x36\x04\0\0\x28\0\0\0"s), Format::bmp);
  EXPECT_EQ(sniffed("\0\0\0\x0cjP  \r\n\x87\n"s), Format::jpeg2000);
  EXPECT_EQ(sniffed("\xff\x4f\xff\x51\0\x2f"s), Format::jpeg2000);
  EXPECT_EQ(sniffed("P5\n1275 1650\n255\n"s), Format::pnm);
  EXPECT_EQ(sniffed("P1 2 2\n0 1 1 0\n"s), Format::pnm);
}

TEST(SniffFormat, APdfHeaderMayFollowJunkWithinItsFirstKilobyte) {
  EXPECT_EQ(sniffed("%PDF-1.7\n"), Format::pdf);
  EXPECT_EQ(sniffed(std::string(1000, ' ') + "%PDF-1.4"), Format::pdf);
  EXPECT_EQ(sniffed(std::string(1100, ' ') + "%PDF-1.4"), std::nullopt);
}

TEST(SniffFormat, AnImageSignatureWinsOverAPdfHeaderInsideItsData) {
  EXPECT_EQ(sniffed("\x89PNG\r\n\x1a\n%PDF-1.4"s), Format::png);
}

TEST(SniffFormat, LookAlikesAreNothing) {
  EXPECT_EQ(sniffed(""), std::nullopt);
  EXPECT_EQ(sniffed("BM not a bitmap, just words"), std::nullopt);  // no bitmap header size after "BM"
  EXPECT_EQ(sniffed("P7 is not a portable anymap"), std::nullopt);
  EXPECT_EQ(sniffed("Plain text"), std::nullopt);
  EXPECT_EQ(sniffed("PK\x03\x04 zip"s), std::nullopt);
  EXPECT_EQ(sniffed("\x89PN"), std::nullopt);
  EXPECT_EQ(sniffed("GIF88a"), std::nullopt);
}

TEST(SniffFormat, ImagesAreMarkedAsImagesAndNamed) {
  const auto png = sniff_format("\x89PNG\r\n\x1a\n"s);
  ASSERT_TRUE(png);
  EXPECT_TRUE(png->image);
  EXPECT_EQ(png->name, "PNG");
  const auto pdf = sniff_format("%PDF-1.7");
  ASSERT_TRUE(pdf);
  EXPECT_FALSE(pdf->image);
  EXPECT_EQ(pdf->mime, "application/pdf");
}

}  // namespace
}  // namespace visor::pdf
