#include "api/download_formats.hpp"

#include <array>

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

}  // namespace

std::optional<DownloadFormat> parse_download_format(std::string_view name) {
  for (const auto& facts : kFormats) {
    if (facts.name == name) return facts.format;
  }
  return std::nullopt;
}

std::string_view download_format_name(DownloadFormat format) { return facts_of(format).name; }

std::string_view download_content_type(DownloadFormat format) { return facts_of(format).content_type; }

std::string download_stem(std::string_view uploaded) {
  if (const auto slash = uploaded.find_last_of("/\\"); slash != std::string_view::npos) {
    uploaded.remove_prefix(slash + 1);
  }
  if (const auto dot = uploaded.rfind('.'); dot != std::string_view::npos && dot > 0) {
    uploaded = uploaded.substr(0, dot);
  }
  return uploaded.empty() ? std::string("document") : std::string(uploaded);
}

std::string download_filename(std::string_view uploaded, DownloadFormat format) {
  return download_stem(uploaded) + std::string(facts_of(format).extension);
}

}  // namespace visor::api
