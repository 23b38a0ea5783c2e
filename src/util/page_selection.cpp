#include "util/page_selection.hpp"

#include <algorithm>
#include <numeric>

#include "util/integer.hpp"

namespace visor::util {
namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::string pages_of(int page_count) {
  return "the document has " + std::to_string(page_count) + (page_count == 1 ? " page" : " pages");
}

Error malformed(std::string_view text, int page_count, std::string_view why) {
  return Error::invalid_request("pages '" + std::string(text) + "' is not a page selection (" + std::string(why) +
                                "); write 1-based pages and ranges such as 1-3,7,10-; " + pages_of(page_count));
}

struct Range {
  int first = 0;  // 1-based, inclusive
  int last = 0;
};

// One comma-separated item, "7", "1-3" or "10-".
Result<Range> parse_item(std::string_view item, std::string_view text, int page_count) {
  const auto dash = item.find('-');
  const std::string_view first_text = trimmed(item.substr(0, dash));
  const std::string_view last_text =
      dash == std::string_view::npos ? first_text : trimmed(item.substr(dash + 1));
  auto first = parse_integer(first_text);
  if (!first) return malformed(text, page_count, "'" + std::string(trimmed(item)) + "' is no page or range");
  std::int64_t last = page_count;
  if (!last_text.empty()) {
    auto parsed = parse_integer(last_text);
    if (!parsed) return malformed(text, page_count, "'" + std::string(trimmed(item)) + "' is no page or range");
    last = *parsed;
  }
  if (*first < 1) return malformed(text, page_count, "pages are numbered from 1");
  if (last < *first) return malformed(text, page_count, "'" + std::string(trimmed(item)) + "' ends before it starts");
  if (*first > page_count || last > page_count) {
    return Error::invalid_request("pages '" + std::string(text) + "' names page " +
                                  std::to_string(std::max<std::int64_t>(*first, last)) + ", but " +
                                  pages_of(page_count));
  }
  return Range{static_cast<int>(*first), static_cast<int>(last)};
}

}  // namespace

PageSelection PageSelection::all(int page_count) {
  std::vector<int> indexes(static_cast<std::size_t>(std::max(0, page_count)));
  std::iota(indexes.begin(), indexes.end(), 0);
  return PageSelection(std::move(indexes), page_count);
}

Result<PageSelection> PageSelection::parse(std::string_view text, int page_count) {
  if (trimmed(text).empty()) return malformed(text, page_count, "it is empty");
  std::vector<int> indexes;
  std::string_view rest = text;
  while (true) {
    const auto comma = rest.find(',');
    auto range = parse_item(rest.substr(0, comma), text, page_count);
    if (!range) return range.take_error();
    for (int page = range->first; page <= range->last; ++page) indexes.push_back(page - 1);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::sort(indexes.begin(), indexes.end());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
  return PageSelection(std::move(indexes), page_count);
}

Result<PageSelection> PageSelection::from_parameter(std::string_view text, int page_count) {
  if (text.empty()) return all(page_count);
  return parse(text, page_count);
}

std::string PageSelection::text() const { return format_page_ranges(indexes_); }

std::string format_page_ranges(const std::vector<int>& indexes) {
  std::string out;
  for (std::size_t i = 0; i < indexes.size();) {
    std::size_t end = i;
    while (end + 1 < indexes.size() && indexes[end + 1] == indexes[end] + 1) ++end;
    if (!out.empty()) out += ',';
    out += std::to_string(indexes[i] + 1);
    if (end > i) out += '-' + std::to_string(indexes[end] + 1);
    i = end + 1;
  }
  return out;
}

}  // namespace visor::util
