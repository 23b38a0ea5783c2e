#pragma once
// What a finished job's downloads hold (GET /ocr/download/{job_id}/{format};
// the formats and their names: download_formats.hpp): the Content-Disposition
// and the bodies built from the job's page results. Pure functions, except
// that a searchable PDF is written by the document tool from the page
// texts made here.

#include <string>
#include <string_view>
#include <vector>

#include "api/download_formats.hpp"
#include "api/views.hpp"
#include "jobs/job.hpp"
#include "pdf/searchable_pdf.hpp"

namespace visor::api {

// The Content-Disposition value offering `filename` as an attachment: a
// quoted ASCII fallback (other characters, quotes and controls as '_') and
// the exact name in RFC 5987's filename*=UTF-8''... form.
std::string attachment_disposition(std::string_view filename);

// The body of a text download of a completed job (markdown, plain_text or
// result_json), read from page_objects() of its pages: running margins
// marked, failed pages as page errors.
std::string text_download(DownloadFormat format, const jobs::Job& job, const std::vector<jobs::PageRecord>& pages);

// What a searchable PDF lays over each page: the successful pages that
// were recognised (OCR or a model); a page read from its text layer keeps
// the text it has, and failed pages get none.
std::vector<pdf::PageText> searchable_page_texts(const std::vector<jobs::PageRecord>& pages);

}  // namespace visor::api
