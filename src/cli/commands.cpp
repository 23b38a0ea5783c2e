#include "cli/commands.hpp"

#include <iostream>
#include <string_view>

#include "cli/command_list.hpp"
#include "pdf/document_tool.hpp"

namespace visor::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: visor <command> [options]\n"
    "\n"
    "Commands:\n"
    "  serve           Run the OCR job server (HTTP API, worker processes, job store)\n"
    "  worker          Run one worker process against a job store (serve starts these)\n"
    "  migrate         Create or upgrade the job store's schema (serve and worker also do on start)\n"
    "  ocr FILE        OCR one document locally and print the result\n"
    "  submit FILE...  Submit documents to a running server, follow their jobs, write their outputs\n"
    "\n"
    "Run 'visor <command> --help' for the options of a command.\n";

}  // namespace

int run(int argc, char** argv) {
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "serve") return serve_command(argc, argv);
  if (command == "ocr") return ocr_command(argc, argv);
  if (command == "worker") return worker_command(argc, argv);
  if (command == "migrate") return migrate_command(argc, argv);
  if (command == "submit") return submit_command(argc, argv);
  // Hidden: the child process the API runs to read an upload
  // (pdf/document_tool.hpp); not for people.
  if (command == "document") return pdf::document_tool_main(argc, argv);
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << kUsage;
  return 2;
}

}  // namespace visor::cli
