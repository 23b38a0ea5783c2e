#pragma once
// What a searchable PDF's invisible text layer holds, page by page
// (Document::searchable_pdf writes it).

#include <string>
#include <vector>

namespace visor::pdf {

// One line of recognised text and the box it spans: pixels of its page as
// the page was read (at the job's DPI for a PDF page, at its own resolution
// for an image page, Document::image_dpi), top-left origin. The text is
// stretched to the box's width, its glyph cells to the box's height.
struct RecognisedLine {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  std::string text;  // UTF-8, one line
};

struct PageText {
  int page_index = 0;
  std::vector<RecognisedLine> lines;
  // Text known without positions (a model that gives none): one line per
  // entry, set down the page from top to bottom inside a margin, so that
  // it can be found and copied though it does not sit on its ink.
  std::vector<std::string> unplaced_lines;
};

}  // namespace visor::pdf
