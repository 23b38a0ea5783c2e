#pragma once
// Tables without rules in a text layer: rows whose cells stand apart by wide
// gaps and line up in columns down the page, as financial statements and
// data tables set them. OCR'd pages get these from Tesseract's table
// finder; a text layer says nothing of tables, so they are found here, on
// the same source-independent line model. Pure; no MuPDF.

#include <vector>

#include "ocr/layout_rules.hpp"

namespace visor::ocr {

// The regions of the borderless tables among `lines` (a page's text lines,
// in any order), in pixels. A table is at least three rows, each of at least
// two cells (runs of words apart by more than 1.5 body heights) of which all
// but one are narrow (under 30 % of the text's width, which tells a table
// from two columns of body text), stacked at most a body height apart, with
// a column edge (left or right, within half a body height) that most rows'
// later cells share; a few lines just above it within its width (column
// headings) join it.
std::vector<Box> find_aligned_tables(const std::vector<rules::Line>& lines, float body_height);

// The regions of tables drawn with horizontal rules only, as LaTeX's
// booktabs sets them (a rule above, one under the headings, one below):
// three or more rules of one width (within a body height at each end)
// stacked over at least two rows of text, or two such rules over at least
// three, where most lines between the outer rules are rows of cells (as
// above, narrowness taken against the rules' width). Each region runs from
// the first rule to the last.
std::vector<Box> find_rule_bounded_tables(const std::vector<rules::Line>& lines, std::vector<Box> horizontal_rules,
                                          float body_height);

}  // namespace visor::ocr
