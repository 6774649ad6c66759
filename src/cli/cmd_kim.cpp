// matnn kim-install / kim-remove: a trained potential as a KIM portable model, so that LAMMPS
// (`kim init NAME metal` ... `kim interactions Cu`) and every other KIM simulator run it.
//
// A portable model is a matnn model file plus the name of the driver that reads it (matnn_driver,
// kim/matnn_kim_driver.cpp, which `cmake --install` puts in the system KIM collection or which
// KIM_API_MODEL_DRIVERS_DIR=build/kim/model-drivers points to). kim-install writes the item's
// CMake project (the KIM API's own item macros embed the model file) into a temporary folder and
// has kim-api-collections-management build and install it into the chosen collection.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/error.hpp"
#include "matnn/input_file.hpp"
#include "models/state_file.hpp"
#include "potentials/potential.hpp"

extern char** environ;

namespace matnn::cli {
namespace {

constexpr const char* kim_tool = "kim-api-collections-management";
constexpr const char* driver_name = "matnn_driver";

// Runs a program with arguments (no shell); returns its exit status, or -1 if it could not start.
int run(const std::vector<std::string>& arguments, const std::string& output_file = {}) {
  std::vector<char*> argv;
  for (const std::string& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!output_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A scratch folder removed on every way out.
class ScratchFolder {
 public:
  ScratchFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "matnn-kim-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      fail(MATNN_ERROR_IO, "cannot create a temporary folder: {}", std::strerror(errno));
    }
    path_ = pattern;
  }
  ~ScratchFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void check_name(const std::string& name) {
  // KIM item names are C identifiers (the KIM API's CMake macros refuse anything else).
  static const std::regex identifier("[A-Za-z_][A-Za-z0-9_]*");
  if (!std::regex_match(name, identifier) || name.size() > 200) {
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "\"{}\" is not a valid KIM model name: use letters, digits and underscores, not starting with a digit "
         "(for example matnn_Cu_BP)",
         name);
  }
}

// The KIM collections as kim-api-collections-management lists them (UNSUPPORTED without it).
std::string collections_listing(const ScratchFolder& scratch) {
  const std::string listing = (scratch.path() / "list.txt").string();
  const int rc = run({kim_tool, "list"}, listing);
  if (rc == -1) {
    fail(MATNN_ERROR_UNSUPPORTED, "{} was not found: install the KIM API (Debian: libkim-api-dev)", kim_tool);
  }
  if (rc != 0) fail(MATNN_ERROR_IO, "{} list failed (exit {}): {}", kim_tool, rc, read_text(listing));
  return read_text(listing);
}

// What goes into the driver's settings file (kim/driver_settings.hpp).
struct DriverOptions {
  std::string precision = "float32";
  std::string deviation_file;
  int deviation_every = 1;
};

void run_kim_install(const std::string& model, const std::string& name, const std::string& collection,
                     const DriverOptions& options) {
  check_name(name);
  if (options.precision != "float32" && options.precision != "float64") {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "--precision must be float32 or float64, got \"{}\"", options.precision);
  }
  if (options.deviation_every < 1) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "--deviation-every must be >= 1, got {}", options.deviation_every);
  }
  if (options.deviation_file.find_first_of(" \t\n#") != std::string::npos) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "--deviation-file \"{}\": the settings file cannot hold spaces or #",
         options.deviation_file);
  }
  if (collection != "user" && collection != "environment" && collection != "system" && collection != "CWD") {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "--collection must be user, environment, system or CWD, got \"{}\"", collection);
  }
  check_input_file(model, "a matnn model file");
  const std::string kind = models::read_model_kind(model);
  if (kind != potentials::Potential::file_kind) {
    fail(MATNN_ERROR_MODEL, "{}: is a \"{}\" model; only potentials can drive a KIM simulator", model, kind);
  }
  // A corrupt or inconsistent file fails here, not in LAMMPS.
  const potentials::Potential potential = potentials::Potential::load(model);
  if (!options.deviation_file.empty() && potential.ensemble_size() < 2) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: --deviation-file needs an ensemble, and this model has one member", model);
  }

  const ScratchFolder scratch;
  if (collections_listing(scratch).find(driver_name) == std::string::npos) {
    fail(MATNN_ERROR_UNSUPPORTED,
         "the KIM model driver {} is in no KIM collection: install matnn (`cmake --install`), or point "
         "KIM_API_MODEL_DRIVERS_DIR at the build's kim/model-drivers folder",
         driver_name);
  }
  const std::filesystem::path item = scratch.path() / name;
  std::filesystem::create_directories(item);
  std::error_code ec;
  std::filesystem::copy_file(model, item / "model.h5", ec);
  if (ec) fail(MATNN_ERROR_IO, "{}: cannot copy the model: {}", model, ec.message());
  // The driver's second parameter file (kim/README.md): its settings, `key value` per line.
  {
    std::ofstream settings(item / "settings.txt");
    settings << "# matnn KIM driver settings, written by matnn kim-install\n"
             << fmt::format("precision {}\n", options.precision);
    if (!options.deviation_file.empty()) {
      settings << fmt::format("deviation_file {}\ndeviation_every {}\n", options.deviation_file, options.deviation_every);
    }
  }
  std::ofstream(item / "CMakeLists.txt")
      << "# A matnn potential as a KIM portable model (written by matnn kim-install).\n"
         "cmake_minimum_required(VERSION 3.10)\n"
         "list(APPEND CMAKE_PREFIX_PATH $ENV{KIM_API_CMAKE_PREFIX_DIR})\n"
         "find_package(KIM-API-ITEMS 2.2 REQUIRED CONFIG)\n"
         "kim_api_items_setup_before_project(ITEM_TYPE \"portableModel\")\n"
      << fmt::format("project({})\n", name)
      << "kim_api_items_setup_after_project(ITEM_TYPE \"portableModel\")\n"
      << fmt::format("add_kim_api_model_library(NAME \"{}\" DRIVER_NAME \"{}\" PARAMETER_FILES \"model.h5\" \"settings.txt\")\n", name,
                     driver_name);
  const std::string log = (scratch.path() / "install.log").string();
  const int rc = run({kim_tool, "install", "--force", collection, item.string()}, log);
  if (rc != 0) fail(MATNN_ERROR_IO, "{} install failed (exit {}):\n{}", kim_tool, rc, read_text(log));
  fmt::print("installed KIM portable model {} ({} collection, {}) from {}\n", name, collection, options.precision, model);
  if (!options.deviation_file.empty()) {
    fmt::print("model deviation every {} compute call(s) to {} (relative to the simulator's folder)\n",
               options.deviation_every, options.deviation_file);
  }
  fmt::print("LAMMPS: kim init {} metal ... kim interactions <elements>\n", name);
}

void run_kim_remove(const std::string& name) {
  check_name(name);
  const ScratchFolder scratch;
  if (collections_listing(scratch).find(name) == std::string::npos) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "no KIM item named {} is installed", name);
  }
  const std::string log = (scratch.path() / "remove.log").string();
  const int rc = run({kim_tool, "remove", "--force", name}, log);
  if (rc != 0) fail(MATNN_ERROR_IO, "{} remove failed (exit {}):\n{}", kim_tool, rc, read_text(log));
  fmt::print("removed KIM item {}\n", name);
}

}  // namespace

void add_kim_commands(CLI::App& app) {
  auto* install = app.add_subcommand("kim-install", "Install a trained potential as a KIM portable model (LAMMPS pair_style kim)");
  auto model = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto collection = std::make_shared<std::string>("user");
  install->add_option("model", *model, "potential model file (.h5)")->required();
  install->add_option("name", *name, "KIM model name, a C identifier (e.g. matnn_Cu_BP)")->required();
  auto options = std::make_shared<DriverOptions>();
  install->add_option("--collection", *collection, "KIM collection: user (default), environment, system or CWD");
  install->add_option("--precision", options->precision,
                      "network arithmetic in the simulator: float32 (default, as matnn's C ABI) or float64");
  install->add_option("--deviation-file", options->deviation_file,
                      "an ensemble's model deviation is written there during the simulation (kim/README.md)");
  install->add_option("--deviation-every", options->deviation_every, "write it every N compute calls (default 1)");
  install->callback([install, model, name, collection, options] {
    if (install->count("--deviation-every") > 0 && options->deviation_file.empty()) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "--deviation-every needs --deviation-file (there is no deviation to write)");
    }
    run_kim_install(*model, *name, *collection, *options);
  });

  auto* remove = app.add_subcommand("kim-remove", "Remove a KIM portable model installed by kim-install");
  auto remove_name = std::make_shared<std::string>();
  remove->add_option("name", *remove_name, "KIM model name")->required();
  remove->callback([remove_name] { run_kim_remove(*remove_name); });
}

}  // namespace matnn::cli
