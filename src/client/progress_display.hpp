#pragma once
// Shows how the files of a `visor submit` run progress, on a terminal or
// in a log.

#include <cstddef>
#include <memory>
#include <ostream>

#include "client/progress.hpp"

namespace visor::client {

class ProgressDisplay {
 public:
  virtual ~ProgressDisplay() = default;

  // The latest state of input `file` (its position among the inputs).
  // Thread-safe; each file's states must arrive in the order they happen.
  // A state equal to the last one shown for the file shows nothing.
  virtual void show(std::size_t file, const FileState& state) = 0;
};

// For logs and pipes: one log_line() per change of a file's state.
// REQUIRES: `out` outlives the display.
std::unique_ptr<ProgressDisplay> make_log_display(std::ostream& out);

// For a terminal `width` columns wide: a progress_row() per file in
// progress, redrawn in place with ANSI cursor movements at each change; a
// file that is done or failed leaves its last row above them, which the
// terminal then scrolls like any other line. Queued files are not shown.
// REQUIRES: `out` outlives the display, and nothing else writes to the
// terminal while files are in progress.
std::unique_ptr<ProgressDisplay> make_terminal_display(std::ostream& out, std::size_t width);

}  // namespace visor::client
