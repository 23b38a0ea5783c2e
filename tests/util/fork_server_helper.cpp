// The fork server the util tests run: each child execs its arguments, so the
// run_bounded tests can run their shell scripts through a fork server too.

#include <unistd.h>

#include <string>
#include <vector>

#include "util/fork_server.hpp"

int main() {
  return visor::util::serve_forks(STDIN_FILENO, [](const std::vector<std::string>& arguments) {
    std::vector<char*> argv;
    for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    return 127;
  });
}
