#pragma once
// Entry points of the subcommands; each parses its own options from argv[2..].

namespace visor::cli {

int serve_command(int argc, char** argv);
int ocr_command(int argc, char** argv);
int worker_command(int argc, char** argv);
int migrate_command(int argc, char** argv);
int submit_command(int argc, char** argv);

}  // namespace visor::cli
