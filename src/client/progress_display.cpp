#include "client/progress_display.hpp"

#include <map>
#include <mutex>
#include <string>

namespace visor::client {
namespace {

class LogDisplay final : public ProgressDisplay {
 public:
  explicit LogDisplay(std::ostream& out) : out_(out) {}

  void show(std::size_t file, const FileState& state) override {
    const std::lock_guard lock(mutex_);
    auto& shown = last_[file];
    if (shown == state) return;
    shown = state;
    out_ << log_line(state) << '\n' << std::flush;
  }

 private:
  std::mutex mutex_;
  std::ostream& out_;
  std::map<std::size_t, FileState> last_;
};

class TerminalDisplay final : public ProgressDisplay {
 public:
  TerminalDisplay(std::ostream& out, std::size_t width) : out_(out), width_(width) {}

  void show(std::size_t file, const FileState& state) override {
    const std::lock_guard lock(mutex_);
    if (state.phase == Phase::queued) return;
    std::string ended;
    if (is_final(state.phase)) {
      live_.erase(file);
      ended = progress_row(state, width_) + "\n";
    } else {
      auto& shown = live_[file];
      if (shown == state) return;
      shown = state;
    }
    redraw(ended);
  }

 private:
  // Moves up to the first live row drawn before, erases from there down,
  // then writes `ended` (lines that stay) and the live rows anew; the
  // cursor ends at the start of the line below them.
  void redraw(const std::string& ended) {
    std::string out;
    if (rows_drawn_ > 0) out += "\r\x1b[" + std::to_string(rows_drawn_) + "A";
    out += "\x1b[J" + ended;
    for (const auto& [file, state] : live_) out += progress_row(state, width_) + "\n";
    rows_drawn_ = live_.size();
    out_ << out << std::flush;
  }

  std::mutex mutex_;
  std::ostream& out_;
  const std::size_t width_;
  std::map<std::size_t, FileState> live_;  // by input position, so rows keep their order
  std::size_t rows_drawn_ = 0;
};

}  // namespace

std::unique_ptr<ProgressDisplay> make_log_display(std::ostream& out) { return std::make_unique<LogDisplay>(out); }

std::unique_ptr<ProgressDisplay> make_terminal_display(std::ostream& out, std::size_t width) {
  return std::make_unique<TerminalDisplay>(out, width);
}

}  // namespace visor::client
