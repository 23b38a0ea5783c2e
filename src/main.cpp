// visor: an OCR job server. main only hands over to the command line.
#include "cli/commands.hpp"

int main(int argc, char** argv) { return visor::cli::run(argc, argv); }
