#pragma once
// Which pages of a document to process, as people write it: 1-based page
// numbers and ranges separated by commas, "1-3,7,10-" ("10-" runs to the
// last page), the form Azure Document Intelligence and docling accept.
// Pure; no I/O.

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace visor::util {

class PageSelection {
 public:
  // Every page of a document of `page_count` pages.
  static PageSelection all(int page_count);

  // Resolves `text` against a document of `page_count` pages. Spaces around
  // numbers are allowed; pages named twice count once. invalid_request,
  // naming the page count, for malformed text, page 0, a range whose end
  // precedes its start and pages past the last one.
  static Result<PageSelection> parse(std::string_view text, int page_count);

  // A `pages` parameter as the API and visor ocr take it: empty (not sent)
  // selects every page, anything else is parse()d.
  static Result<PageSelection> from_parameter(std::string_view text, int page_count);

  // The selected pages as 0-based indexes, ascending, without repeats.
  const std::vector<int>& indexes() const { return indexes_; }
  int count() const { return static_cast<int>(indexes_.size()); }
  int page_count() const { return page_count_; }
  bool selects_all() const { return count() == page_count_; }

  // The canonical 1-based form, e.g. "2-3,7": consecutive pages joined in
  // ranges, so equal selections print equally.
  std::string text() const;

 private:
  PageSelection(std::vector<int> indexes, int page_count) : indexes_(std::move(indexes)), page_count_(page_count) {}
  std::vector<int> indexes_;
  int page_count_ = 0;
};

// The canonical text of 0-based `indexes` (ascending, unique) as 1-based
// ranges; "" for none.
std::string format_page_ranges(const std::vector<int>& indexes);

}  // namespace visor::util
