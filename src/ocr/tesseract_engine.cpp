// The embedded engine: Tesseract 5 finds blocks, paragraphs, lines and words;
// layout_rules.cpp decides the categories. Tesseract types stay in this file.

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <leptonica/allheaders.h>
#include <omp.h>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/publictypes.h>
#include <tesseract/resultiterator.h>

#include "ocr/engine.hpp"
#include "ocr/layout.hpp"
#include "ocr/layout_rules.hpp"

namespace visor::ocr {
namespace {

using tesseract::PageIteratorLevel;

struct api_deleter {
  void operator()(tesseract::TessBaseAPI* api) const {
    api->End();
    delete api;
  }
};
using api_ptr = std::unique_ptr<tesseract::TessBaseAPI, api_deleter>;

// Text that Tesseract allocated with new[]; the caller owns it.
using tess_text = std::unique_ptr<char[]>;

std::string trimmed(const char* text) {
  std::string_view view = text ? text : "";
  while (!view.empty() && std::isspace(static_cast<unsigned char>(view.front()))) view.remove_prefix(1);
  while (!view.empty() && std::isspace(static_cast<unsigned char>(view.back()))) view.remove_suffix(1);
  return std::string(view);
}

// --- Reading Tesseract's result into a PageScan ---------------------------

Box bounding_box(const tesseract::ResultIterator& it, PageIteratorLevel level) {
  Box box;
  if (!it.BoundingBox(level, &box.x1, &box.y1, &box.x2, &box.y2)) return {};
  return box;
}

rules::BlockKind block_kind(tesseract::PolyBlockType type) {
  if (PTIsImageType(type)) return rules::BlockKind::picture;
  if (PTIsLineType(type)) return rules::BlockKind::rule;
  if (type == tesseract::PT_NOISE) return rules::BlockKind::ignored;
  if (type == tesseract::PT_TABLE) return rules::BlockKind::table;
  if (type == tesseract::PT_EQUATION) return rules::BlockKind::formula;
  return rules::BlockKind::text;
}

rules::Block read_block(const tesseract::ResultIterator& it) {
  rules::Block block;
  block.kind = block_kind(it.BlockType());
  block.box = bounding_box(it, tesseract::RIL_BLOCK);
  return block;
}

rules::Paragraph read_paragraph(const tesseract::ResultIterator& it) {
  rules::Paragraph paragraph;
  paragraph.box = bounding_box(it, tesseract::RIL_PARA);
  tesseract::ParagraphJustification justification{};
  bool is_crown = false;
  int first_line_indent = 0;
  it.ParagraphInfo(&justification, &paragraph.is_list_item, &is_crown, &first_line_indent);
  return paragraph;
}

// The line's box spans its type height (see rules::type_box). Tesseract's
// row attributes: row_height = x-height + ascenders - descenders, with
// descenders negative; the baseline is taken at the line's middle.
rules::Line read_line(const tesseract::ResultIterator& it) {
  rules::Line line;
  line.box = bounding_box(it, tesseract::RIL_TEXTLINE);
  float descenders = 0;
  float ascenders = 0;
  it.RowAttributes(&line.row_height, &descenders, &ascenders);
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  if (it.Baseline(tesseract::RIL_TEXTLINE, &x1, &y1, &x2, &y2)) {
    line.box = rules::type_box(line.box, (y1 + y2) / 2, line.row_height + descenders, -descenders);
  }
  return line;
}

rules::Word read_word(const tesseract::ResultIterator& it) {
  const tess_text text(it.GetUTF8Text(tesseract::RIL_WORD));
  return {bounding_box(it, tesseract::RIL_WORD), trimmed(text.get())};
}

// The boxes of the first two glyphs of the word at `it` (see rules::Word).
void read_first_glyphs(const tesseract::ResultIterator& it, rules::Word& word) {
  if (it.IsAtFinalElement(tesseract::RIL_WORD, tesseract::RIL_SYMBOL)) return;
  tesseract::ResultIterator glyph(it);
  const Box first = bounding_box(glyph, tesseract::RIL_SYMBOL);
  if (!glyph.Next(tesseract::RIL_SYMBOL)) return;
  word.first_glyph = first;
  word.second_glyph = bounding_box(glyph, tesseract::RIL_SYMBOL);
}

// Appends the word at `it` to the scan, opening the block, paragraph and line
// it begins. Pictures and rules carry no words and are skipped whole.
// Returns whether the iterator moved on to another element.
bool read_step(tesseract::ResultIterator& it, rules::PageScan& scan) {
  if (it.IsAtBeginningOf(tesseract::RIL_BLOCK) || scan.blocks.empty()) scan.blocks.push_back(read_block(it));
  rules::Block& block = scan.blocks.back();
  if (block.kind == rules::BlockKind::picture || block.kind == rules::BlockKind::rule ||
      block.kind == rules::BlockKind::ignored || it.Empty(tesseract::RIL_WORD)) {
    return it.Next(tesseract::RIL_BLOCK);
  }
  if (it.IsAtBeginningOf(tesseract::RIL_PARA) || block.paragraphs.empty()) {
    block.paragraphs.push_back(read_paragraph(it));
  }
  rules::Paragraph& paragraph = block.paragraphs.back();
  const bool starts_line = it.IsAtBeginningOf(tesseract::RIL_TEXTLINE) || paragraph.lines.empty();
  if (starts_line) paragraph.lines.push_back(read_line(it));
  rules::Word word = read_word(it);
  if (starts_line) read_first_glyphs(it, word);
  if (!word.text.empty()) paragraph.lines.back().words.push_back(std::move(word));
  return it.Next(tesseract::RIL_WORD);
}

// Lines without words (Tesseract reads some noise as empty lines) and the
// paragraphs they leave empty carry nothing for the rules; pictures and
// rules carry no text at all. A paragraph's box grows to hold its lines'
// type boxes.
void drop_empty(rules::PageScan& scan) {
  for (rules::Block& block : scan.blocks) {
    for (rules::Paragraph& paragraph : block.paragraphs) {
      std::erase_if(paragraph.lines, [](const rules::Line& line) { return line.words.empty(); });
      for (const rules::Line& line : paragraph.lines) paragraph.box = rules::unite(paragraph.box, line.box);
    }
    std::erase_if(block.paragraphs, [](const rules::Paragraph& p) { return p.lines.empty(); });
  }
  std::erase_if(scan.blocks, [](const rules::Block& block) {
    return block.paragraphs.empty() && block.kind != rules::BlockKind::picture &&
           block.kind != rules::BlockKind::rule;
  });
}

rules::PageScan read_page(tesseract::TessBaseAPI& api, int width, int height) {
  rules::PageScan scan;
  scan.width = width;
  scan.height = height;
  const std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
  if (!it || it->Empty(tesseract::RIL_BLOCK)) return scan;
  while (read_step(*it, scan)) {
  }
  drop_empty(scan);
  return scan;
}

// Words below this confidence (0-100) from the margin pass are
// noise read as text: scanner specks, stray marks.
constexpr float kMinMarginWordConfidence = 60;

// The lines of the current recognition, each with its confident words.
std::vector<rules::Line> read_lines(tesseract::TessBaseAPI& api) {
  std::vector<rules::Line> lines;
  const std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
  if (!it || it->Empty(tesseract::RIL_WORD)) return lines;
  do {
    if (it->IsAtBeginningOf(tesseract::RIL_TEXTLINE) || lines.empty()) lines.push_back(read_line(*it));
    if (it->Confidence(tesseract::RIL_WORD) < kMinMarginWordConfidence) continue;
    if (rules::Word word = read_word(*it); !word.text.empty()) lines.back().words.push_back(std::move(word));
  } while (it->Next(tesseract::RIL_WORD));
  return lines;
}

// Stops recognition at a deadline: Tesseract asks its monitor's cancel
// function between words. Page layout analysis asks nothing, so a huge
// page may run past the deadline (the worker pool's watchdog then ends it).
class DeadlineMonitor {
 public:
  using Clock = std::chrono::steady_clock;
  DeadlineMonitor(Clock::time_point deadline, std::stop_token abandon)
      : deadline_(deadline), abandon_(std::move(abandon)) {
    monitor_.cancel = &DeadlineMonitor::passed;
    monitor_.cancel_this = this;
  }
  DeadlineMonitor(const DeadlineMonitor&) = delete;
  DeadlineMonitor& operator=(const DeadlineMonitor&) = delete;

  tesseract::ETEXT_DESC* get() { return &monitor_; }
  bool expired() const { return Clock::now() >= deadline_; }
  bool abandoned() const { return abandon_.stop_requested(); }
  // Why recognition stopped early, if it did.
  Status stopped() const {
    if (abandoned()) return Error::conflict("tesseract: the page was abandoned");
    if (expired()) return Error::timeout("tesseract: stopped at the page's deadline");
    return {};
  }

 private:
  static bool passed(void* self, int /*words*/) {
    const auto* monitor = static_cast<DeadlineMonitor*>(self);
    return monitor->expired() || monitor->abandoned();
  }

  Clock::time_point deadline_;
  std::stop_token abandon_;
  tesseract::ETEXT_DESC monitor_;
};

// The header and footer zones (rules::kMarginZone of the page height each).
std::vector<Box> margin_zones(int width, int height) {
  const int zone = static_cast<int>(rules::kMarginZone * height);
  return {{0, 0, width, zone}, {0, height - zone, width, height}};
}

// Reads each margin zone again as one block of text, which finds the
// isolated short text (a lone page number) that the page layout pass drops
// as noise (sparse-text mode drops it too). The zones are read on the
// binary image of the page pass: thresholded on its own, a zone of grainy
// scan background holding one page number gets a threshold inside the
// grain, which then reads as lines of noise that hide the number.
// REQUIRES: the page was recognised. Leaves the engine on that binary image,
// in automatic page segmentation.
std::vector<rules::Line> read_margin_lines(tesseract::TessBaseAPI& api, int width, int height, int dpi,
                                          DeadlineMonitor& monitor) {
  std::vector<rules::Line> lines;
  if (Pix* binary = api.GetThresholdedImage(); binary != nullptr) {
    api.SetImage(binary);  // copies the image
    pixDestroy(&binary);
    api.SetSourceResolution(dpi);
  }
  api.SetPageSegMode(tesseract::PSM_SINGLE_BLOCK);
  for (const Box& zone : margin_zones(width, height)) {
    // A page under 15 px high has empty zones; Tesseract crashes on those.
    if (zone.width() <= 0 || zone.height() <= 0) continue;
    api.SetRectangle(zone.x1, zone.y1, zone.width(), zone.height());
    if (api.Recognize(monitor.get()) != 0) continue;
    std::vector<rules::Line> found = read_lines(api);
    lines.insert(lines.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  }
  api.SetPageSegMode(tesseract::PSM_AUTO);
  return lines;
}

// --- The engine -----------------------------------------------------------

Status check_page(const PageInput& page) {
  const util::Image& image = page.image;
  if (image.channels != 1) return Error::bad_input("tesseract engine needs a grayscale page image");
  if (image.width <= 0 || image.height <= 0) return Error::bad_input("page image is empty");
  if (image.pixels.size() != static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height)) {
    return Error::bad_input("page image size does not match its pixel buffer");
  }
  if (page.dpi <= 0) return Error::bad_input("page resolution must be positive");
  return {};
}

class TesseractEngine final : public Engine {
 public:
  // Throws std::runtime_error when the English language data cannot be loaded.
  TesseractEngine() : api_(new tesseract::TessBaseAPI) {
    if (api_->Init(nullptr, "eng", tesseract::OEM_LSTM_ONLY) != 0) {
      throw std::runtime_error("tesseract: cannot load the English language data (eng.traineddata)");
    }
    api_->SetPageSegMode(tesseract::PSM_AUTO);
    api_->SetVariable("debug_file", "/dev/null");
  }

  std::string name() const override { return tesseract_engine_name(); }

  Result<nlohmann::json> recognize(const PageInput& page, Model model) override {
    if (Status valid = check_page(page); !valid) return valid.take_error();
    try {
      Result<PageLayout> layout = analyse(page);
      api_->Clear();
      if (!layout) return layout.take_error();
      if (model == Model::dotsocr) return to_dotsocr_json(*layout);
      return nlohmann::json(to_markdown(*layout));
    } catch (const std::bad_alloc&) {
      api_->Clear();
      return Error::too_large("tesseract: out of memory");
    } catch (const std::exception& e) {
      api_->Clear();
      return Error::internal(std::string("tesseract: ") + e.what());
    }
  }

 private:
  Result<PageLayout> analyse(const PageInput& page) {
    const util::Image& image = page.image;
    api_->SetImage(image.pixels.data(), image.width, image.height, 1, image.width);
    api_->SetSourceResolution(page.dpi);
    DeadlineMonitor monitor(page.deadline, page.abandon);
    const int failed = api_->Recognize(monitor.get());
    if (Status early = monitor.stopped(); !early) return early.take_error();
    if (failed != 0) return Error::internal("tesseract: recognition failed");
    rules::PageScan scan = read_page(*api_, image.width, image.height);
    scan = rules::add_margin_lines(std::move(scan),
                                   read_margin_lines(*api_, image.width, image.height, page.dpi, monitor));
    if (Status early = monitor.stopped(); !early) return early.take_error();
    return rules::build_layout(scan);
  }

  api_ptr api_;
};

// Tesseract's LSTM asks OpenMP for up to 10 threads per page; the server
// already runs one engine per worker thread, so those threads only
// oversubscribe the cores (measured: 7x slower on 2 cores). libgomp reads
// OMP_THREAD_LIMIT once, when it is loaded at program start, so setting the
// variable here reaches only child processes; limiting active parallel levels
// to 0 is the runtime switch that makes every parallel region run on the
// calling thread. An OMP_THREAD_LIMIT set by the operator is left alone.
void limit_openmp_to_calling_thread() {
  if (std::getenv("OMP_THREAD_LIMIT") != nullptr) return;
  setenv("OMP_THREAD_LIMIT", "1", 0);
  omp_set_max_active_levels(0);
}

}  // namespace

std::unique_ptr<Engine> make_tesseract_engine() {
  // Workers create their engines concurrently; the environment is not
  // thread-safe to write.
  static std::once_flag openmp_limited;
  std::call_once(openmp_limited, limit_openmp_to_calling_thread);
  return std::make_unique<TesseractEngine>();
}

std::string tesseract_engine_name() {
  return std::string("tesseract ") + tesseract::TessBaseAPI::Version();
}

}  // namespace visor::ocr
