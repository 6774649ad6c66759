// The `matnn` command line. Exit codes are the matnn_status numbers of include/matnn/status.h
// (0 success, 1 bad arguments, 2 I/O, 3 malformed input, ...), so scripts can tell failures apart.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <new>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/error.hpp"
#include "matnn/version.hpp"
#include "parallel/communicator.hpp"

namespace {

int report(int status) {
  // One failed rank ends the job: the others would wait for it in their next collective.
  matnn::parallel::MpiSession::abort_job(status);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // Only `matnn train`, `eval` and `predict` divide their work over MPI ranks, so only they start
  // MPI: every other command is a serial program (under mpirun each process runs all of it), and
  // stays one when a rank of an MPI job runs it as a subprocess, which Open MPI does not let
  // initialise MPI again.
  const std::string command = argc > 1 ? argv[1] : "";
  std::unique_ptr<matnn::parallel::MpiSession> mpi;
  if (command == "train" || command == "eval" || command == "predict") {
    try {
      mpi = std::make_unique<matnn::parallel::MpiSession>(argc, argv);
    } catch (const matnn::Error& e) {
      fmt::print(stderr, "matnn: error: {}\n", e.what());
      return e.status();
    }
  }
  if (const int processes = matnn::parallel::launched_processes();
      processes > 1 && matnn::parallel::Communicator::world().size() == 1) {
    fmt::print(stderr, "matnn: warning: `matnn {}` runs on one rank here ({}): each of the {} processes runs all of it\n",
               command,
               !mpi                                   ? "only train, eval and predict divide their work"
               : !matnn::parallel::built_with_mpi() ? "this matnn was built without MPI"
                                                      : "MATNN_MPI is off",
               processes);
  }
  CLI::App app{"matnn: neural-network surrogates for materials science"};
  app.set_version_flag("--version", std::string("matnn ") + MATNN_VERSION_STRING);
  app.require_subcommand(1);
  matnn::cli::add_convert_command(app);
  matnn::cli::add_info_command(app);
  matnn::cli::add_train_command(app);
  matnn::cli::add_predict_command(app);
  matnn::cli::add_eval_command(app);
  matnn::cli::add_seal_command(app);
  matnn::cli::add_split_command(app);
  matnn::cli::add_embed_command(app);
  matnn::cli::add_similar_command(app);
  matnn::cli::add_kim_commands(app);
  matnn::cli::add_audit_command(app);
  matnn::cli::add_plot_command(app);
  matnn::cli::add_import_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, with exit code 0.
    const int rc = app.exit(e);
    return report(rc == 0 ? MATNN_SUCCESS : MATNN_ERROR_INVALID_ARGUMENT);
  } catch (const matnn::cli::CommandExit& e) {
    return report(e.status);
  } catch (const matnn::Error& e) {
    fmt::print(stderr, "matnn: error: {}\n", e.what());
    return report(e.status());
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "matnn: error: out of memory\n");
    return report(MATNN_ERROR_OUT_OF_MEMORY);
  } catch (const std::exception& e) {
    fmt::print(stderr, "matnn: internal error: {}\n", e.what());
    return report(MATNN_ERROR_INTERNAL);
  }
  return MATNN_SUCCESS;
}
