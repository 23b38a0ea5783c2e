#pragma once
// A finished job's pages as one document: Markdown, and plain text in
// reading order, as the download routes give them. Reads each page's
// result data as the API reports it, running headers and footers already
// marked (running_margins.hpp): a dotsocr element array or a lightonocr
// Markdown string. Pure: no I/O.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace visor::ocr {

struct DocumentPage {
  int page_index = 0;                    // 0-based, in the uploaded document
  const nlohmann::json* data = nullptr;  // the page's data; nullptr when the page failed
  std::string error;                     // why it failed, when it did
};

// The pages joined by a blank line, in order. A dotsocr page is converted
// element by element (element_markdown in layout.hpp: page headers,
// footers and pictures left out, tables kept as HTML); a lightonocr page is
// its Markdown as it is. A failed page leaves an HTML comment naming it and
// its error, which renders as nothing but tells a reader what is missing.
std::string document_markdown(const std::vector<DocumentPage>& pages);

// The text of every page in reading order, without markup: one paragraph
// per element or Markdown block, separated by a blank line; table rows on
// lines of their own with cells separated by a tab. Pages are separated by
// a form feed, as pdftotext separates them; a failed page is an empty page.
std::string document_plain_text(const std::vector<DocumentPage>& pages);

// The plain text of one dotsocr element ({"category", "text"}); empty for
// the categories the body leaves out (page headers, footers, pictures).
std::string element_plain_text(const nlohmann::json& element);

// Markdown as plain text: heading marks, emphasis, images, formula fences
// and pipe-table rules removed; table rows (pipe or HTML) as tab-separated
// cells on their own lines. Blocks stay separated by one blank line.
std::string markdown_plain_text(std::string_view markdown);

// An HTML table's text: one line per <tr>, cells separated by a tab, tags
// removed and character references (&amp; &lt; &#39; ...) decoded.
std::string html_table_plain_text(std::string_view html);

}  // namespace visor::ocr
