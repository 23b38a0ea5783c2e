#include "client/output_files.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>

#include <fcntl.h>
#include <unistd.h>

#include "util/fd.hpp"

namespace visor::client {
namespace {

Error write_error(const std::filesystem::path& path, const std::string& reason) {
  return Error::unavailable("Cannot write " + path.string() + ": " + reason);
}

Status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return Error::unavailable(std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return {};
}

// A name no other writer in this or another process picks at the same time.
std::filesystem::path temporary_beside(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  return path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                               std::to_string(counter++));
}

}  // namespace

Result<std::vector<OutputFormat>> parse_output_formats(const std::vector<std::string>& values) {
  std::vector<OutputFormat> formats;
  for (const std::string& value : values) {
    std::string_view rest = value;
    while (true) {
      const auto comma = rest.find(',');
      const std::string_view name = rest.substr(0, comma);
      const auto known = api::parse_download_format(name);
      if (!known) {
        return Error::bad_input("Unknown output format '" + std::string(name) + "'; formats are md, txt, json, pdf");
      }
      if (std::find(formats.begin(), formats.end(), *known) == formats.end()) formats.push_back(*known);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (formats.empty()) formats.push_back(OutputFormat::markdown);
  return formats;
}

std::string output_file_name(const std::filesystem::path& input, OutputFormat format) {
  return api::download_filename(input.filename().string(), format);
}

Status check_distinct_outputs(const std::vector<std::string>& inputs) {
  std::map<std::string, const std::string*> first_with_stem;
  for (const std::string& input : inputs) {
    const auto [it, added] = first_with_stem.emplace(api::download_stem(input), &input);
    if (!added) {
      return Error::bad_input(*it->second + " and " + input + " would both be written as " + it->first +
                              ".*; submit them in separate runs or to separate -o directories");
    }
  }
  return {};
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const std::filesystem::path temporary = temporary_beside(path);
  util::Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!fd.open()) return write_error(path, std::strerror(errno));
  auto written = write_all(fd.get(), bytes);
  if (written && ::fsync(fd.get()) != 0) written = Error::unavailable(std::strerror(errno));
  if (written && ::close(fd.release()) != 0) written = Error::unavailable(std::strerror(errno));
  if (written && ::rename(temporary.c_str(), path.c_str()) != 0) written = Error::unavailable(std::strerror(errno));
  if (!written) {
    ::unlink(temporary.c_str());
    return write_error(path, written.error().message);
  }
  return {};
}

}  // namespace visor::client
