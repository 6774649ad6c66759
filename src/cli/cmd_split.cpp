// matnn split DATASET -o SPLIT.json [--kind ...] [--folds K]: a train/validation/test split (or
// K cross-validation folds) as a file that `matnn train` takes (split: {file: SPLIT.json}) and
// other codes can read.
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/error.hpp"
#include "matnn/output_paths.hpp"
#include "workflows/split_job.hpp"

namespace matnn::cli {
namespace {

struct SplitCommandOptions {
  std::string dataset, output, kind = "random", target;
  double validation = 0.1, test = 0.1;
  std::uint64_t seed = 0;
  bool random_validation = false;
  int clusters = 10;
  std::size_t folds = 0;
};

void run_split(const SplitCommandOptions& o) {
  check_output_paths({{"dataset", o.dataset}}, {{"-o", o.output}});
  data::SplitOptions options;
  options.kind = data::split_kind_from_name(o.kind);
  options.validation_fraction = o.validation;
  options.test_fraction = o.test;
  options.seed = o.seed;
  options.validation_grouped = !o.random_validation;
  options.clusters = o.clusters;
  if (o.folds > 0) {
    const auto folds = workflows::write_fold_file(o.dataset, options, o.folds, o.target, o.output);
    fmt::print("wrote {}: {} folds ({} split) of", o.output, folds.size(), o.kind);
    for (const auto& fold : folds) fmt::print(" {}", fold.size());
    fmt::print(" structures\n");
    return;
  }
  const workflows::SplitFileSummary s = workflows::write_split_file(o.dataset, options, o.target, o.output);
  fmt::print("wrote {}: {} train, {} validation, {} test of {} structures ({} split)\n", o.output, s.split.train.size(),
             s.split.validation.size(), s.split.test.size(), s.eligible, o.kind);
  if (options.kind != data::SplitKind::random && options.kind != data::SplitKind::time) {
    fmt::print("  {:<24} {:>7} {:>10} {:>6}\n", data::split_kind_name(options.kind), "train", "validation", "test");
    for (const auto& [group, n] : s.groups) {
      if (s.groups.size() > 40) {  // formulas and chemical systems: too many to list
        fmt::print("  ({} groups)\n", s.groups.size());
        break;
      }
      fmt::print("  {:<24} {:>7} {:>10} {:>6}\n", group.empty() ? "(none)" : group, n[0], n[1], n[2]);
    }
  }
}

}  // namespace

void add_split_command(CLI::App& app) {
  auto options = std::make_shared<SplitCommandOptions>();
  CLI::App* cmd = app.add_subcommand("split", "Write a train/validation/test split of a dataset (JSON of structure indices)");
  cmd->add_option("dataset", options->dataset, "matnn HDF5 dataset")->required();
  cmd->add_option("-o,--output", options->output, "JSON file to write (atomically)")->required();
  cmd->add_option("--kind", options->kind,
                  "random, formula (by reduced formula; composition is its older name), chemical-system, prototype "
                  "(by tag), cluster (k-means of composition features) or time")
      ->check(CLI::IsMember({"random", "formula", "composition", "chemical-system", "prototype", "cluster", "time"}))
      ->capture_default_str();
  cmd->add_option("--clusters", options->clusters, "Number of k-means clusters (--kind cluster)")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  cmd->add_option("--folds", options->folds, "Write K cross-validation folds of the kind's groups instead of one split")
      ->check(CLI::Range(std::size_t{2}, std::size_t{1000}));
  cmd->add_option("--validation", options->validation, "Fraction of the structures for validation")->capture_default_str();
  cmd->add_option("--test", options->test, "Fraction of the structures for testing")->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of the shuffle")->capture_default_str();
  cmd->add_option("--target", options->target, "Split only the structures that carry this label");
  cmd->add_flag("--random-validation", options->random_validation,
                "Grouped splits: hold whole groups out for test only, draw validation at random from the rest");
  cmd->callback([options, cmd] {
    if (cmd->count("--clusters") > 0 && options->kind != "cluster")
      fail(MATNN_ERROR_INVALID_ARGUMENT, "--clusters is for --kind cluster, not {}", options->kind);
    if (options->folds > 0 && (cmd->count("--validation") > 0 || cmd->count("--test") > 0 || options->random_validation))
      fail(MATNN_ERROR_INVALID_ARGUMENT, "--folds writes folds, not a train/validation/test split: drop --validation, --test and --random-validation");
    run_split(*options);
  });
}

}  // namespace matnn::cli
