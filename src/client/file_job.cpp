#include "client/file_job.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "client/job_follower.hpp"
#include "client/retries.hpp"
#include "util/fd.hpp"
#include "util/time.hpp"
#include "util/ulid.hpp"

namespace visor::client {
namespace {

Error unreadable(const std::string& path) {
  return Error::not_found("Cannot read " + path + ": " + std::strerror(errno));
}

Result<std::string> read_whole_file(const std::string& path) {
  const util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.open()) return unreadable(path);
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got == 0) return bytes;
    if (got > 0) {
      bytes.append(buffer, static_cast<std::size_t>(got));
    } else if (errno != EINTR) {
      return unreadable(path);
    }
  }
}

// The stages of one file, each moving `state_` on and showing it.
class FileJob {
 public:
  FileJob(const Transport& transport, const SubmitSettings& settings, const std::string& input,
          const std::function<void(const FileState&)>& show)
      : transport_(transport), settings_(settings), show_(show) {
    report_.input = input;
    state_.name = input;
  }

  FileReport run() {
    auto job = submit();
    if (!job) return failed(job.error().message);
    state_.total_pages = job->total_pages;
    move_to(Phase::submitted, job->job_id);
    if (auto followed = follow(job->job_id); !followed) {
      const std::string_view verb = followed.error().kind == Error::Kind::conflict ? " failed: " : ": ";
      return failed("job " + job->job_id + std::string(verb) + followed.error().message);
    }
    state_.pages_done = state_.total_pages;
    move_to(Phase::downloading);
    for (const OutputFormat format : settings_.formats) {
      if (auto written = download(job->job_id, format); !written) return failed(written.error().message);
    }
    std::string list;
    for (const auto& path : report_.written) list += (list.empty() ? "wrote " : ", ") + path.string();
    move_to(Phase::done, list);
    return std::move(report_);
  }

 private:
  Result<SubmittedJob> submit() {
    move_to(Phase::uploading);
    auto bytes = read_whole_file(report_.input);
    if (!bytes) return bytes.take_error();
    // Retries of this submit (a dropped connection, a busy server) give
    // back the job the first try created, never a second one.
    const std::string idempotency_key = "visor-submit-" + util::make_ulid(util::now_ms());
    const std::string filename = std::filesystem::path(report_.input).filename().string();
    const auto request = submit_request(settings_.server, settings_.job, filename, std::move(*bytes), idempotency_key);
    auto reply = perform_with_retries(transport_, request, settings_.retry);
    if (!reply) return reply.take_error();
    if (reply->status != 200) return Error::bad_input("the server refused it: " + refusal_message(*reply));
    return read_submitted_job(*reply);
  }

  Status follow(const std::string& job_id) {
    FollowCallbacks callbacks;
    callbacks.on_progress = [this](const JobProgress& progress) {
      state_.pages_done = progress.pages_done;
      state_.total_pages = progress.total_pages;
      move_to(progress.status == "pending" ? Phase::pending : Phase::running);
    };
    callbacks.on_reconnect = [this](const std::string& why) { move_to(Phase::reconnecting, why); };
    return follow_job(transport_, settings_.server, job_id, settings_.follow, callbacks);
  }

  Status download(const std::string& job_id, OutputFormat format) {
    // 202: a node of a fleet that has not seen the job complete yet.
    const auto still_busy = [](long status) { return status == 202 || is_temporary_refusal(status); };
    auto reply = perform_with_retries(transport_, download_request(settings_.server, job_id, format),
                                      settings_.retry, still_busy);
    const std::string what = "cannot download its " + std::string(format_name(format)) + " output: ";
    if (!reply) return Error::unavailable(what + reply.error().message);
    if (reply->status != 200) return Error::unavailable(what + refusal_message(*reply));
    const auto path = settings_.output_dir / output_file_name(report_.input, format);
    if (auto written = write_file_atomically(path, reply->body); !written) return written;
    report_.written.push_back(path);
    return {};
  }

  FileReport failed(const std::string& why) {
    report_.error = why;
    move_to(Phase::failed, why);
    return std::move(report_);
  }

  void move_to(Phase phase, std::string detail = {}) {
    state_.phase = phase;
    state_.detail = std::move(detail);
    show_(state_);
  }

  const Transport& transport_;
  const SubmitSettings& settings_;
  const std::function<void(const FileState&)>& show_;
  FileState state_;
  FileReport report_;
};

}  // namespace

FileReport run_file_job(const Transport& transport, const SubmitSettings& settings, const std::string& input,
                        const std::function<void(const FileState&)>& show) {
  return FileJob(transport, settings, input, show).run();
}

}  // namespace visor::client
