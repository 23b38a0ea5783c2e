#pragma once
// dots.ocr's prompt_layout_all_en, byte for byte as its authors wrote it
// (list items indented with four spaces, a final newline): the model was
// trained on this text, and another wording silently degrades its output.

#include <string_view>

namespace visor::ocr::remote {

inline constexpr std::string_view kDotsImagePlaceholder = "<|img|><|imgpad|><|endofimg|>";

inline constexpr std::string_view kDotsLayoutPrompt =
    "Please output the layout information from the PDF image, including each layout element's bbox, its "
    "category, and the corresponding text content within the bbox.\n"
    "\n"
    "1. Bbox format: [x1, y1, x2, y2]\n"
    "\n"
    "2. Layout Categories: The possible categories are ['Caption', 'Footnote', 'Formula', 'List-item', "
    "'Page-footer', 'Page-header', 'Picture', 'Section-header', 'Table', 'Text', 'Title'].\n"
    "\n"
    "3. Text Extraction & Formatting Rules:\n"
    "    - Picture: For the 'Picture' category, the text field should be omitted.\n"
    "    - Formula: Format its text as LaTeX.\n"
    "    - Table: Format its text as HTML.\n"
    "    - All Others (Text, Title, etc.): Format their text as Markdown.\n"
    "\n"
    "4. Constraints:\n"
    "    - The output text must be the original text from the image, with no translation.\n"
    "    - All layout elements must be sorted according to human reading order.\n"
    "\n"
    "5. Final Output: The entire output must be a single JSON object.\n";

}  // namespace visor::ocr::remote
