#pragma once
// The visor command line: `visor serve` and `visor ocr`.

namespace visor::cli {

// Dispatches on argv[1]; returns the process exit code.
int run(int argc, char** argv);

}  // namespace visor::cli
