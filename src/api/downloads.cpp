#include "api/downloads.hpp"

#include <utility>

#include "jobs/page_result.hpp"
#include "ocr/document_text.hpp"
#include "ocr/model.hpp"
#include "ocr/text_placement.hpp"
#include "util/percent_encoding.hpp"

namespace visor::api {
namespace {

// The source a page result names ("text-layer", "ocr"); empty for pages
// stored before results named one.
std::string page_source(const Json& page) {
  const auto source = page.find("source");
  return source != page.end() && source->is_string() ? source->get<std::string>() : std::string();
}

// The pages as the document pass reads them: `objects` is page_objects()
// of `pages`; `storage` keeps the data the result points into.
std::vector<ocr::DocumentPage> document_pages(const std::vector<jobs::PageRecord>& pages,
                                              const std::vector<Json>& objects,
                                              std::vector<nlohmann::json>& storage) {
  storage.clear();
  storage.reserve(pages.size());
  std::vector<ocr::DocumentPage> out;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    ocr::DocumentPage document_page;
    document_page.page_index = pages[i].page_index;
    if (jobs::is_page_success(objects[i])) {
      storage.emplace_back(objects[i].at("data"));
      document_page.data = &storage.back();
    } else {
      document_page.error = objects[i].value("error", std::string("The page was not processed"));
    }
    out.push_back(std::move(document_page));
  }
  return out;
}

}  // namespace

std::string attachment_disposition(std::string_view filename) {
  std::string fallback;
  for (const char ch : filename) {
    const auto c = static_cast<unsigned char>(ch);
    fallback += (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '_' : ch;
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + util::percent_encode(filename);
}

std::string text_download(DownloadFormat format, const jobs::Job& job, const std::vector<jobs::PageRecord>& pages) {
  if (format == DownloadFormat::result_json) return result_body(job, pages, Json::array()).dump(2) + "\n";
  std::vector<nlohmann::json> storage;
  const std::vector<ocr::DocumentPage> document = document_pages(pages, page_objects(pages), storage);
  return format == DownloadFormat::markdown ? ocr::document_markdown(document) : ocr::document_plain_text(document);
}

std::vector<pdf::PageText> searchable_page_texts(const std::vector<jobs::PageRecord>& pages) {
  const std::vector<Json> objects = page_objects(pages);
  std::vector<pdf::PageText> out;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const Json& page = objects[i];
    if (!jobs::is_page_success(page) || page_source(page) == ocr::kSourceTextLayer) continue;
    out.push_back(ocr::page_text_layer(pages[i].page_index, nlohmann::json(page.at("data"))));
  }
  return out;
}

}  // namespace visor::api
