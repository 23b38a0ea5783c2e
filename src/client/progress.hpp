#pragma once
// Where each file of a `visor submit` run stands, and how that is shown: a
// line of a plain log, or a progress row on a terminal. Pure; no I/O.

#include <cstddef>
#include <string>
#include <string_view>

namespace visor::client {

enum class Phase {
  queued,        // waiting for one of the --parallel slots
  uploading,     // POST /ocr/submit under way
  submitted,     // the server took it: `detail` is the job id
  pending,       // the job waits for a worker
  running,       // pages are being processed
  reconnecting,  // the job's stream dropped: `detail` says why
  downloading,   // the job completed; its outputs are being fetched
  done,          // every output written: `detail` lists them
  failed,        // `detail` says why
};

std::string_view phase_name(Phase phase);
bool is_final(Phase phase);

struct FileState {
  std::string name;  // the file as given on the command line
  Phase phase = Phase::queued;
  int pages_done = 0;
  int total_pages = 0;  // 0 until the server said
  std::string detail;

  bool operator==(const FileState&) const = default;
};

// One line of the plain log, without a line break, e.g.
// "scan.pdf: running, 2/5 pages", "scan.pdf: failed: <why>".
std::string log_line(const FileState& state);

// One row for a terminal, at most `width` - 1 characters (a row as wide
// as the terminal would wrap on some), e.g.
// "scan.pdf    [========>           ]   2/5 running".
std::string progress_row(const FileState& state, std::size_t width);

}  // namespace visor::client
