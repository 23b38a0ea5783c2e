#include "api/downloads.hpp"

#include <array>
#include <cctype>
#include <utility>

#include "jobs/page_result.hpp"
#include "ocr/document_text.hpp"
#include "ocr/model.hpp"
#include "ocr/text_placement.hpp"

namespace visor::api {
namespace {

struct FormatFacts {
  DownloadFormat format;
  std::string_view name;
  std::string_view content_type;
  std::string_view extension;
};

constexpr std::array<FormatFacts, 4> kFormats{{
    {DownloadFormat::searchable_pdf, "pdf", "application/pdf", ".ocr.pdf"},
    {DownloadFormat::markdown, "md", "text/markdown; charset=utf-8", ".md"},
    {DownloadFormat::plain_text, "txt", "text/plain; charset=utf-8", ".txt"},
    {DownloadFormat::result_json, "json", "application/json", ".json"},
}};

const FormatFacts& facts_of(DownloadFormat format) {
  for (const auto& facts : kFormats) {
    if (facts.format == format) return facts;
  }
  return kFormats.front();
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

// The source a page result names ("text-layer", "ocr"); empty for pages
// stored before results named one.
std::string page_source(const Json& page) {
  const auto source = page.find("source");
  return source != page.end() && source->is_string() ? source->get<std::string>() : std::string();
}

// results_object() as the document pass reads it, with each page's index.
std::vector<ocr::DocumentPage> document_pages(const std::vector<jobs::PageRecord>& pages, const Json& results,
                                              std::vector<nlohmann::json>& storage) {
  storage.clear();
  storage.reserve(pages.size());
  std::vector<ocr::DocumentPage> out;
  for (const auto& record : pages) {
    const Json& page = results.at("page_" + std::to_string(record.page_index));
    ocr::DocumentPage document_page;
    document_page.page_index = record.page_index;
    if (jobs::is_page_success(page)) {
      storage.emplace_back(page.at("data"));
      document_page.data = &storage.back();
    } else {
      document_page.error = page.value("error", std::string("The page was not processed"));
    }
    out.push_back(std::move(document_page));
  }
  return out;
}

}  // namespace

std::optional<DownloadFormat> parse_download_format(std::string_view text) {
  for (const auto& facts : kFormats) {
    if (facts.name == text) return facts.format;
  }
  return std::nullopt;
}

std::string_view download_content_type(DownloadFormat format) { return facts_of(format).content_type; }

std::string download_filename(std::string_view uploaded, DownloadFormat format) {
  std::string_view stem = uploaded.substr(uploaded.find_last_of("/\\") == std::string_view::npos
                                              ? 0
                                              : uploaded.find_last_of("/\\") + 1);
  if (const auto dot = stem.rfind('.'); dot != std::string_view::npos && dot > 0) stem = stem.substr(0, dot);
  if (stem.empty()) stem = "document";
  return std::string(stem) + std::string(facts_of(format).extension);
}

std::string attachment_disposition(std::string_view filename) {
  std::string fallback;
  std::string encoded;
  for (const char ch : filename) {
    const auto c = static_cast<unsigned char>(ch);
    fallback += (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '_' : ch;
    if (is_unreserved(c)) {
      encoded += ch;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0xF];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

std::string text_download(DownloadFormat format, const jobs::Job& job, const std::vector<jobs::PageRecord>& pages) {
  if (format == DownloadFormat::result_json) return result_body(job, pages, Json::array()).dump(2) + "\n";
  const Json results = results_object(pages);
  std::vector<nlohmann::json> storage;
  const std::vector<ocr::DocumentPage> document = document_pages(pages, results, storage);
  return format == DownloadFormat::markdown ? ocr::document_markdown(document) : ocr::document_plain_text(document);
}

std::vector<pdf::PageText> searchable_page_texts(const std::vector<jobs::PageRecord>& pages) {
  const Json results = results_object(pages);
  std::vector<pdf::PageText> out;
  for (const auto& record : pages) {
    const Json& page = results.at("page_" + std::to_string(record.page_index));
    if (!jobs::is_page_success(page) || page_source(page) == ocr::kSourceTextLayer) continue;
    out.push_back(ocr::page_text_layer(record.page_index, nlohmann::json(page.at("data"))));
  }
  return out;
}

}  // namespace visor::api
