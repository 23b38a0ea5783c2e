#pragma once
// Where a page's recognised text goes in a searchable PDF's invisible text
// layer. Results keep each element's box, not its lines, so the lines are
// estimated: an element's text is broken into as many lines as its box
// likely holds, each spanning the box's width and an equal share of its
// height. Pure: no I/O.

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "pdf/searchable_pdf.hpp"

namespace visor::ocr {

// The lines of a page's data as the API reports it (document_text.hpp):
// for dotsocr elements, lines inside each element's box (running headers
// and footers included, as they are printed; pictures carry no text); for a
// lightonocr page, its plain text as unplaced lines.
pdf::PageText page_text_layer(int page_index, const nlohmann::json& data);

// How many lines a box of `width` × `height` pixels holding `characters`
// characters most likely has, for type set at about half an em per
// character and 1.2 em per line; at least 1, at most `words`.
int estimated_line_count(int width, int height, std::size_t characters, std::size_t words);

// `words` broken into `lines` lines of about equal length, in order;
// fewer when there are fewer words.
std::vector<std::string> balanced_lines(const std::vector<std::string>& words, int lines);

}  // namespace visor::ocr
