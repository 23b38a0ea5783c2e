#pragma once
// What the client writes for each finished file: the formats it can ask the
// server for, the names of the files it writes, and writing them so that a
// reader never sees half a file.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "api/download_formats.hpp"
#include "util/result.hpp"

namespace visor::client {

// The server's download formats: "md" is <stem>.md, "txt" <stem>.txt,
// "json" <stem>.json (the result body), "pdf" <stem>.ocr.pdf (so that it
// never replaces a PDF it was made from); names and files as the server
// names them (api/download_formats.hpp).
using OutputFormat = api::DownloadFormat;

// "md", "txt", "json", "pdf": the name in --format and in the download route.
inline std::string_view format_name(OutputFormat format) { return api::download_format_name(format); }

// The formats named by --format values, each a name or a comma-separated
// list of them, in the order first named, without repeats; [markdown] for
// no values. bad_input naming the first unknown name.
Result<std::vector<OutputFormat>> parse_output_formats(const std::vector<std::string>& values);

// The name of `input`'s output in `format`: api::download_filename of its
// file name (its stem, then ".md", ".txt", ".json" or ".ocr.pdf").
std::string output_file_name(const std::filesystem::path& input, OutputFormat format);

// bad_input naming two of `inputs` whose outputs would have the same names
// (same stem, e.g. a/report.pdf and b/report.png), since one would
// overwrite the other's.
Status check_distinct_outputs(const std::vector<std::string>& inputs);

// Writes `bytes` to `path` atomically: into a new file beside it, flushed
// to disk, then renamed over `path`; on failure `path` is left as it was
// and the new file removed. The error (unavailable) names the path and
// the system's reason.
Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace visor::client
