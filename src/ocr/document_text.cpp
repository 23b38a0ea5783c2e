#include "ocr/document_text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <nlohmann/json.hpp>

#include "ocr/layout.hpp"
#include "util/text.hpp"
#include "util/utf8.hpp"

namespace visor::ocr {
namespace {

using json = nlohmann::json;

void append_block(std::string& out, std::string_view block) {
  block = util::trim_space(block);
  if (block.empty()) return;
  if (!out.empty()) out += "\n\n";
  out += block;
}

Element element_of(const json& object) {
  Element element;
  element.category = object.value("category", "");
  const json text = object.value("text", json());
  if (text.is_string()) element.text = text.get<std::string>();
  return element;
}

std::string page_markdown(const json& data) {
  if (data.is_string()) return data.get<std::string>();
  std::string markdown;
  if (!data.is_array()) return markdown;
  for (const json& object : data) {
    if (object.is_object()) append_block(markdown, element_markdown(element_of(object)));
  }
  return markdown;
}

std::string page_plain_text(const json& data) {
  if (data.is_string()) return markdown_plain_text(data.get<std::string>());
  std::string text;
  if (!data.is_array()) return text;
  for (const json& object : data) {
    if (object.is_object()) append_block(text, element_plain_text(object));
  }
  return text;
}

// --- HTML ---------------------------------------------------------------

// The character `reference` ("amp", "#39", "#x41") names; nullopt when it names none known.
std::optional<char32_t> character_reference(std::string_view reference) {
  static constexpr std::pair<std::string_view, char32_t> kNamed[] = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0}};
  for (const auto& [name, c] : kNamed) {
    if (reference == name) return c;
  }
  if (reference.size() < 2 || reference.front() != '#') return std::nullopt;
  const bool hex = reference[1] == 'x' || reference[1] == 'X';
  const std::string_view digits = reference.substr(hex ? 2 : 1);
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 10);
  if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 0x10FFFF) {
    return std::nullopt;
  }
  return static_cast<char32_t>(value);
}

// Text between tags, references decoded, runs of whitespace one space.
class HtmlText {
 public:
  void add(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '&') {
        const std::size_t semicolon = text.find(';', i);
        if (semicolon != std::string_view::npos && semicolon - i <= 10) {
          if (auto c = character_reference(text.substr(i + 1, semicolon - i - 1))) {
            util::append_utf8(cell_, *c);
            i = semicolon;
            continue;
          }
        }
      }
      cell_ += std::isspace(static_cast<unsigned char>(text[i])) ? ' ' : text[i];
    }
  }
  void end_cell() {
    row_.emplace_back(collapsed(cell_));
    cell_.clear();
  }
  void end_row() {
    if (!util::trim_space(cell_).empty()) end_cell();
    if (!row_.empty()) rows_.push_back(std::move(row_));
    row_.clear();
    cell_.clear();
  }
  std::string text() {
    end_row();
    std::string out;
    for (const auto& row : rows_) {
      if (!out.empty()) out += '\n';
      for (std::size_t i = 0; i < row.size(); ++i) out += (i == 0 ? "" : "\t") + row[i];
    }
    return out;
  }

 private:
  static std::string collapsed(std::string_view text) {
    std::string out;
    for (char c : util::trim_space(text)) {
      if (c == ' ' && !out.empty() && out.back() == ' ') continue;
      out += c;
    }
    return out;
  }

  std::string cell_;
  std::vector<std::string> row_;
  std::vector<std::vector<std::string>> rows_;
};

// The tag's lower-cased name with a leading '/' for a closing tag: "tr", "/td".
std::string tag_name(std::string_view tag) {
  std::string name;
  for (char c : tag) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '>' || (c == '/' && !name.empty())) break;
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

// --- Markdown -----------------------------------------------------------

bool is_pipe_rule(std::string_view line) {
  return line.find('-') != std::string_view::npos &&
         std::all_of(line.begin(), line.end(), [](char c) { return c == '|' || c == '-' || c == ':' || c == ' '; });
}

std::string pipe_row_text(std::string_view line) {
  line = util::trim_space(line);
  if (line.starts_with('|')) line.remove_prefix(1);
  if (line.ends_with('|') && !line.ends_with("\\|")) line.remove_suffix(1);
  std::vector<std::string> cells(1);
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cells.back() += line[++i];
    } else if (line[i] == '|') {
      cells.emplace_back();
    } else {
      cells.back() += line[i];
    }
  }
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) out += (i == 0 ? "" : "\t") + std::string(util::trim_space(cells[i]));
  return out;
}

// Inline Markdown removed: images, strong/emphasis marks, escapes.
std::string inline_plain_text(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 2) == "![") {
      const std::size_t close = text.find("](", i);
      const std::size_t end = close == std::string_view::npos ? close : text.find(')', close);
      if (end != std::string_view::npos) {
        i = end;
        continue;
      }
    }
    if (text.substr(i, 2) == "**" || text.substr(i, 2) == "__") {
      ++i;
      continue;
    }
    if (text[i] == '\\' && i + 1 < text.size() && std::ispunct(static_cast<unsigned char>(text[i + 1]))) {
      out += text[++i];
      continue;
    }
    out += text[i];
  }
  return out;
}

std::string_view without_heading_marks(std::string_view line) {
  std::size_t hashes = 0;
  while (hashes < line.size() && hashes < 6 && line[hashes] == '#') ++hashes;
  if (hashes > 0 && hashes < line.size() && line[hashes] == ' ') return line.substr(hashes + 1);
  return line;
}

}  // namespace

std::string html_table_plain_text(std::string_view html) {
  HtmlText text;
  std::size_t i = 0;
  while (i < html.size()) {
    const std::size_t open = html.find('<', i);
    text.add(html.substr(i, open == std::string_view::npos ? std::string_view::npos : open - i));
    if (open == std::string_view::npos) break;
    const std::size_t close = html.find('>', open);
    if (close == std::string_view::npos) break;
    const std::string name = tag_name(html.substr(open + 1, close - open - 1));
    if (name == "/td" || name == "/th") text.end_cell();
    if (name == "tr" || name == "/tr") text.end_row();
    if (name == "br") text.add(" ");
    i = close + 1;
  }
  return text.text();
}

std::string markdown_plain_text(std::string_view markdown) {
  std::string out;
  std::string block;
  std::string table;  // an HTML table being collected, up to its </table>
  const auto end_block = [&] {
    append_block(out, block);
    block.clear();
  };
  std::size_t start = 0;
  while (start <= markdown.size()) {
    std::size_t end = markdown.find('\n', start);
    if (end == std::string_view::npos) end = markdown.size();
    const std::string_view line = util::trim_space(markdown.substr(start, end - start));
    start = end + 1;
    if (!table.empty() || line.starts_with("<table")) {
      table.append(line).append("\n");
      if (line.find("</table>") == std::string_view::npos) continue;
      end_block();
      append_block(out, html_table_plain_text(table));
      table.clear();
    } else if (line.empty()) {
      end_block();
    } else if (line == "$$" || is_pipe_rule(line)) {
      continue;
    } else if (line.starts_with('|')) {
      block += (block.empty() ? "" : "\n") + inline_plain_text(pipe_row_text(line));
    } else {
      block += (block.empty() ? "" : "\n") + inline_plain_text(without_heading_marks(line));
    }
  }
  if (!table.empty()) append_block(out, html_table_plain_text(table));
  end_block();
  return out;
}

std::string element_plain_text(const json& element) {
  const Element e = element_of(element);
  if (e.category == category::page_header || e.category == category::page_footer || e.category == category::picture) {
    return {};
  }
  if (e.category == category::table && e.text.find('<') != std::string::npos) return html_table_plain_text(e.text);
  if (e.category == category::formula) return e.text;
  return inline_plain_text(e.text);
}

std::string document_markdown(const std::vector<DocumentPage>& pages) {
  std::string markdown;
  for (const DocumentPage& page : pages) {
    if (page.data == nullptr) {
      std::string error = page.error;
      std::replace(error.begin(), error.end(), '\n', ' ');
      for (std::size_t at = error.find("--"); at != std::string::npos; at = error.find("--", at)) error.replace(at, 2, "- ");
      append_block(markdown, "<!-- Page " + std::to_string(page.page_index + 1) + " could not be read: " + error +
                                 " -->");
      continue;
    }
    append_block(markdown, page_markdown(*page.data));
  }
  return markdown.empty() ? markdown : markdown + "\n";
}

std::string document_plain_text(const std::vector<DocumentPage>& pages) {
  std::string text;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    if (i > 0) text += '\f';
    if (pages[i].data == nullptr) continue;
    const std::string page = page_plain_text(*pages[i].data);
    if (!page.empty()) text += page + "\n";
  }
  return text;
}

}  // namespace visor::ocr
