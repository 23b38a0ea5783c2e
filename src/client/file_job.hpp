#pragma once
// One input file of `visor submit`, from upload to written outputs.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "client/api_requests.hpp"
#include "client/progress.hpp"
#include "client/submit_settings.hpp"

namespace visor::client {

struct FileReport {
  std::string input;
  std::string error;  // why the file failed; empty when every output was written
  std::vector<std::filesystem::path> written;

  bool ok() const { return error.empty(); }
};

// Reads `input`, submits it, follows its job and, once it completed, writes
// each of settings.formats into settings.output_dir (REQUIRES: it exists).
// Every change of the file's state goes to `show` on the calling thread,
// ending with a done or failed state. Blocks until then; never throws
// for what happens to the file.
FileReport run_file_job(const Transport& transport, const SubmitSettings& settings, const std::string& input,
                        const std::function<void(const FileState&)>& show);

}  // namespace visor::client
