#pragma once
// Builds small, well-formed PDFs for tests: pages of a given size with a
// content stream in which font /F1 is Helvetica and /F2 is Helvetica whose
// encoding names every glyph /gNN (no name a reader can map to Unicode, as
// in a PDF whose fonts lack ToUnicode), and a correct xref table.

#include <cstdio>
#include <string>
#include <vector>

namespace visor::test {

struct TestPage {
  std::string content;  // the page's content stream
  double width = 612;
  double height = 792;
  int rotate = 0;
};

// A number as PDF syntax writes it.
inline std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return std::string(text);
}

// `claimed_count` < 0 writes the real page count into /Count.
inline std::string make_pdf(const std::vector<TestPage>& pages, int claimed_count = -1) {
  std::vector<std::string> objects;
  const std::string unmapped_font = std::to_string(4 + 2 * pages.size()) + " 0 R";
  std::string kids;
  for (std::size_t i = 0; i < pages.size(); ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  const int count = claimed_count < 0 ? static_cast<int>(pages.size()) : claimed_count;
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(count) + " >>");
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const TestPage& p = pages[i];
    objects.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + number(p.width) + " " + number(p.height) +
                      "] /Rotate " + std::to_string(p.rotate) + " /Resources << /Font << /F1 3 0 R /F2 " +
                      unmapped_font + " >> >> /Contents " +
                      std::to_string(5 + 2 * i) + " 0 R >>");
    objects.push_back("<< /Length " + std::to_string(p.content.size()) + " >>\nstream\n" + p.content + "\nendstream");
  }
  std::string glyph_names;
  for (int code = 32; code < 127; ++code) glyph_names += " /g" + std::to_string(code);
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
                    "/Differences [32" + glyph_names + "] >> >>");
  std::string pdf = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t offset : offsets) {
    char entry[21];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

// One line of 72-point Helvetica text near the top left of the page.
inline std::string text_page(const std::string& text) { return "BT /F1 72 Tf 72 600 Td (" + text + ") Tj ET"; }

// One line of `font` text at `size` points with its baseline at (x, y) in PDF
// points (origin bottom left), in text render mode `render_mode` (0 fill, 3
// invisible). `text` must not contain parentheses or backslashes.
inline std::string text_line(const std::string& text, double x, double y, double size = 12,
                             const std::string& font = "F1", int render_mode = 0) {
  return "BT " + std::to_string(render_mode) + " Tr /" + font + " " + number(size) + " Tf " + number(x) + " " +
         number(y) + " Td (" + text + ") Tj ET\n";
}

// A 4x4 grey checkerboard image stretched over the rectangle at (x, y),
// `width` x `height` PDF points: a raster image, as a scan draws its page.
inline std::string image_at(double x, double y, double width, double height) {
  return "q " + number(width) + " 0 0 " + number(height) + " " + number(x) + " " + number(y) +
         " cm BI /W 4 /H 4 /CS /G /BPC 8 /F /AHx ID 00ff00ffff00ff0000ff00ffff00ff00> EI Q\n";
}

}  // namespace visor::test
