#include "client/progress.hpp"

#include <algorithm>

namespace visor::client {
namespace {

constexpr std::size_t kBarWidth = 20;
constexpr std::size_t kPagesWidth = 9;  // "9999/9999"
constexpr std::string_view kCut = "...";

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Characters (code points) of UTF-8 text.
std::size_t columns_of(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_utf8_continuation(c); }));
}

// `text` cut to `columns` characters, ending in "..." when cut; never
// inside a UTF-8 sequence.
std::string fitted(std::string_view text, std::size_t columns) {
  if (columns_of(text) <= columns) return std::string(text);
  if (columns <= kCut.size()) return std::string(kCut.substr(0, columns));
  std::size_t keep = 0;
  for (std::size_t seen = 0; keep < text.size(); ++keep) {
    if (!is_utf8_continuation(text[keep]) && seen++ == columns - kCut.size()) break;
  }
  return std::string(text.substr(0, keep)) + std::string(kCut);
}

std::string padded(std::string text, std::size_t columns) {
  const std::size_t have = columns_of(text);
  if (have < columns) text.append(columns - have, ' ');
  return text;
}

std::string page_count(const FileState& state) {
  return std::to_string(state.pages_done) + "/" + std::to_string(state.total_pages);
}

// "[=======>            ]": the share of pages done; full once the job completed.
std::string bar(const FileState& state) {
  std::size_t filled = 0;
  if (state.phase == Phase::done || state.phase == Phase::downloading) {
    filled = kBarWidth;
  } else if (state.total_pages > 0) {
    filled = kBarWidth * static_cast<std::size_t>(std::clamp(state.pages_done, 0, state.total_pages)) /
             static_cast<std::size_t>(state.total_pages);
  }
  std::string inside(kBarWidth, ' ');
  std::fill_n(inside.begin(), filled, '=');
  if (filled > 0 && filled < kBarWidth) inside[filled - 1] = '>';
  return "[" + inside + "]";
}

}  // namespace

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::queued: return "queued";
    case Phase::uploading: return "uploading";
    case Phase::submitted: return "submitted";
    case Phase::pending: return "pending";
    case Phase::running: return "running";
    case Phase::reconnecting: return "reconnecting";
    case Phase::downloading: return "downloading";
    case Phase::done: return "done";
    case Phase::failed: return "failed";
  }
  return "unknown";
}

bool is_final(Phase phase) { return phase == Phase::done || phase == Phase::failed; }

std::string log_line(const FileState& state) {
  std::string line = state.name + ": " + std::string(phase_name(state.phase));
  if (state.phase == Phase::submitted) {
    line += " as job " + state.detail;
    if (state.total_pages > 0) {
      line += ", " + std::to_string(state.total_pages) + (state.total_pages == 1 ? " page" : " pages");
    }
    return line;
  }
  if (state.total_pages > 0 && !is_final(state.phase)) line += ", " + page_count(state) + " pages";
  if (!state.detail.empty()) line += ": " + state.detail;
  return line;
}

std::string progress_row(const FileState& state, std::size_t width) {
  const std::size_t usable = width > 1 ? width - 1 : 0;
  // The name takes a third of the row, within reason; the rest is the
  // bar, the page count and what is happening.
  const std::size_t name_columns = std::clamp<std::size_t>(usable / 3, 12, 40);
  std::string row = padded(fitted(state.name, name_columns), name_columns) + " " + bar(state) + " ";
  const std::string pages = state.total_pages > 0 && state.phase != Phase::failed ? page_count(state) : "";
  row += std::string(kPagesWidth - std::min(kPagesWidth, pages.size()), ' ') + pages + " ";
  row += phase_name(state.phase);
  if (!state.detail.empty()) row += ": " + state.detail;
  return fitted(row, usable);
}

}  // namespace visor::client
