// matnn plot ARGS...: the pictures of python/matnn/plot.py (parity plots of potentials, parity and
// calibration of property models, learning curves), with the same arguments:
//
//   matnn plot property pred.csv -o p.png   ==   python3 -m matnn.plot property pred.csv -o p.png
//
// The interpreter is $MATNN_PYTHON, else the MATNN_PYTHON this build was configured with
// (/usr/bin/python3 by default: Debian's, with numpy and matplotlib). The package folder put first
// on PYTHONPATH is $MATNN_PYTHONPATH, else the source tree's python/ folder this executable was
// built from; if neither exists, PYTHONPATH is left alone so that a matnn package installed for
// the interpreter is used (CMake does not install python/). `import matnn` loads libmatnn.so:
// unless $MATNN_LIBRARY is set, the library of this build is named there when it exists.
//
// The interpreter replaces this process (execvp, an argument vector, no shell), so its exit status
// is matnn plot's: 0, or 2 for bad usage and unreadable input (python/README.md). An interpreter
// that cannot be started is MATNN_ERROR_UNSUPPORTED (9), as a missing KIM API is for kim-install.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "matnn/error.hpp"

#ifndef MATNN_PLOT_PYTHON
#define MATNN_PLOT_PYTHON "/usr/bin/python3"
#endif
#ifndef MATNN_PLOT_SOURCE_PYTHONPATH
#define MATNN_PLOT_SOURCE_PYTHONPATH ""
#endif
#ifndef MATNN_PLOT_LIBRARY
#define MATNN_PLOT_LIBRARY ""
#endif

namespace matnn::cli {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

bool is_file(const std::string& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_regular_file(path, ec);
}

// The folder holding the matnn package, or "" to leave PYTHONPATH as it is.
std::string package_folder() {
  const std::string chosen = environment("MATNN_PYTHONPATH");
  if (!chosen.empty()) return chosen;  // taken as given: it may be a list of folders
  const std::string source = MATNN_PLOT_SOURCE_PYTHONPATH;
  if (is_file(source + "/matnn/plot.py")) return source;
  return {};
}

[[noreturn]] void run_plot(const std::vector<std::string>& arguments) {
  std::string python = environment("MATNN_PYTHON");
  if (python.empty()) python = MATNN_PLOT_PYTHON;

  const std::string folder = package_folder();
  if (!folder.empty()) {
    const std::string old = environment("PYTHONPATH");
    const std::string path = old.empty() ? folder : folder + ":" + old;
    ::setenv("PYTHONPATH", path.c_str(), 1);
  }
  if (environment("MATNN_LIBRARY").empty() && is_file(MATNN_PLOT_LIBRARY)) {
    ::setenv("MATNN_LIBRARY", MATNN_PLOT_LIBRARY, 1);
  }

  std::vector<std::string> words{python, "-m", "matnn.plot"};
  words.insert(words.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execvp(argv[0], argv.data());
  // Only reached when the interpreter could not be started.
  const int error = errno;
  fail(MATNN_ERROR_UNSUPPORTED,
       "cannot run the Python interpreter \"{}\": {}; matnn plot needs Python 3 with numpy and matplotlib "
       "(Debian: python3-matplotlib), set MATNN_PYTHON to another interpreter",
       python, std::strerror(error));
}

}  // namespace

void add_plot_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "plot", "Draw parity plots, calibration and learning curves (python3 -m matnn.plot: parity, property, curves)");
  // Every argument, options and --help included, belongs to matnn.plot.
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->callback([cmd] { run_plot(cmd->remaining()); });
}

}  // namespace matnn::cli
