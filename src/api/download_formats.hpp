#pragma once
// The formats of GET /ocr/download/{job_id}/{format} and the names their
// files take: one table for the server (content types, Content-Disposition)
// and for `visor submit` (the route it asks, the files it writes), so the
// two never name a download differently. No dependencies: the client links
// it without the server.

#include <optional>
#include <string>
#include <string_view>

namespace visor::api {

enum class DownloadFormat {
  searchable_pdf,  // "pdf": the document with its recognised text as an invisible layer
  markdown,        // "md": the whole document as one Markdown file
  plain_text,      // "txt": its text in reading order, pages separated by form feeds
  result_json,     // "json": the result body of GET /ocr/result, as a file
};

// "pdf, md, txt, json", for messages and documentation.
inline constexpr std::string_view kDownloadFormats = "pdf, md, txt, json";

std::optional<DownloadFormat> parse_download_format(std::string_view name);
// The name in the route: "pdf", "md", "txt", "json".
std::string_view download_format_name(DownloadFormat format);
std::string_view download_content_type(DownloadFormat format);

// The stem of an uploaded file's name: without any folder and without its
// last extension ("scan.2024.tiff" is "scan.2024"; a dot file is all stem);
// "document" when nothing is left.
std::string download_stem(std::string_view uploaded);

// The file name of a download: the stem, then ".ocr.pdf", ".md", ".txt" or
// ".json" (a searchable PDF keeps a name of its own, so that saving it
// beside its original replaces nothing).
std::string download_filename(std::string_view uploaded, DownloadFormat format);

}  // namespace visor::api
