#pragma once
// What a `visor submit` run does, read from its command-line values.

#include <filesystem>
#include <string>
#include <vector>

#include "client/api_requests.hpp"
#include "client/job_follower.hpp"
#include "client/output_files.hpp"
#include "util/result.hpp"

namespace visor::client {

// The command line's values as given; an empty string for an option not given.
struct SubmitArguments {
  std::vector<std::string> files;
  std::string server;
  std::string api_key;
  std::string model;
  std::string dpi;
  std::string ocr_mode;
  std::string pages;
  std::vector<std::string> formats;  // each --format value (may be comma-separated)
  std::string output_dir;
  std::string parallel;
};

constexpr int kDefaultParallel = 4;

struct SubmitSettings {
  std::vector<std::string> files;
  Server server;
  JobParameters job;
  std::vector<OutputFormat> formats;
  std::filesystem::path output_dir;  // created when missing
  int parallel = kDefaultParallel;   // files in flight at once
  FollowPolicy follow;               // following each job's stream
  RetryPolicy retry;                 // submits and downloads while the server is unreachable or busy
};

// bad_input, a usage error, naming the first problem: no files, no server,
// a server URL that is not http(s), an unknown model, output format or OCR
// mode, a dpi that is not a whole number from 72 to 600, --parallel not
// from 1 to 64, or two files whose outputs would share names. --pages is
// the server's to judge, against each document's page count.
Result<SubmitSettings> read_submit_settings(const SubmitArguments& arguments);

}  // namespace visor::client
