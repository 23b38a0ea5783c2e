// The download formats' names, types and offered file names.

#include <gtest/gtest.h>

#include "api/downloads.hpp"

namespace visor::api {
namespace {

TEST(Downloads, FormatsAreKnownByTheirShortNamesOnly) {
  EXPECT_EQ(parse_download_format("pdf"), DownloadFormat::searchable_pdf);
  EXPECT_EQ(parse_download_format("md"), DownloadFormat::markdown);
  EXPECT_EQ(parse_download_format("txt"), DownloadFormat::plain_text);
  EXPECT_EQ(parse_download_format("json"), DownloadFormat::result_json);
  EXPECT_FALSE(parse_download_format("PDF"));
  EXPECT_FALSE(parse_download_format("docx"));
  EXPECT_EQ(download_content_type(DownloadFormat::markdown), "text/markdown; charset=utf-8");
}

TEST(Downloads, TheFileNameIsTheUploadedStemWithTheFormatsExtension) {
  EXPECT_EQ(download_filename("report.pdf", DownloadFormat::searchable_pdf), "report.ocr.pdf");
  EXPECT_EQ(download_filename("scan.2024.tiff", DownloadFormat::markdown), "scan.2024.md");
  EXPECT_EQ(download_filename("C:\\Users\\me\\notes.png", DownloadFormat::plain_text), "notes.txt");
  EXPECT_EQ(download_filename(".profile", DownloadFormat::result_json), ".profile.json");  // a dot file is all stem
  EXPECT_EQ(download_filename("", DownloadFormat::result_json), "document.json");
}

TEST(Downloads, TheDispositionHasAnAsciiFallbackAndTheExactUtf8Name) {
  EXPECT_EQ(attachment_disposition("a b.md"), "attachment; filename=\"a b.md\"; filename*=UTF-8''a%20b.md");
  EXPECT_EQ(attachment_disposition("Résumé \"final\".pdf"),
            "attachment; filename=\"R__sum__ _final_.pdf\"; "
            "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf");
}

}  // namespace
}  // namespace visor::api
