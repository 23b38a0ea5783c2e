#pragma once
// What a finished job can be downloaded as (GET /ocr/download/{job_id}/{format}):
// the formats, their content types and file names, and the bodies built
// from the job's page results. Pure functions, except that a searchable PDF
// is written by the document tool from the page texts made here.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/views.hpp"
#include "jobs/job.hpp"
#include "pdf/searchable_pdf.hpp"

namespace visor::api {

enum class DownloadFormat {
  searchable_pdf,  // "pdf": the document with its recognised text as an invisible layer
  markdown,        // "md": the whole document as one Markdown file
  plain_text,      // "txt": its text in reading order, pages separated by form feeds
  result_json,     // "json": the result body of GET /ocr/result, as a file
};

// "pdf|md|txt|json", for messages and documentation.
inline constexpr std::string_view kDownloadFormats = "pdf, md, txt, json";

std::optional<DownloadFormat> parse_download_format(std::string_view text);
std::string_view download_content_type(DownloadFormat format);

// The file name offered for a job's download: the uploaded name without
// its extension, then ".ocr.pdf", ".md", ".txt" or ".json" (a searchable
// PDF keeps a name of its own, so that saving it beside its original
// replaces nothing).
std::string download_filename(std::string_view uploaded, DownloadFormat format);

// The Content-Disposition value offering `filename` as an attachment: a
// quoted ASCII fallback (other characters, quotes and controls as '_') and
// the exact name in RFC 5987's filename*=UTF-8''... form.
std::string attachment_disposition(std::string_view filename);

// The body of a text download of a completed job (markdown, plain_text or
// result_json). `results` is results_object() of its pages: running
// margins already marked, failed pages as page errors.
std::string text_download(DownloadFormat format, const jobs::Job& job, const std::vector<jobs::PageRecord>& pages);

// What a searchable PDF lays over each page: the successful pages that
// were recognised (OCR or a model); a page read from its text layer keeps
// the text it has, and failed pages get none.
std::vector<pdf::PageText> searchable_page_texts(const std::vector<jobs::PageRecord>& pages);

}  // namespace visor::api
