// matnn split DATASET -o SPLIT.json [--kind ...]: a train/validation/test split as a file that
// `matnn train` takes (split: {file: SPLIT.json}) and other codes can read.
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/output_paths.hpp"
#include "workflows/split_job.hpp"

namespace matnn::cli {
namespace {

struct SplitCommandOptions {
  std::string dataset, output, kind = "random", target;
  double validation = 0.1, test = 0.1;
  std::uint64_t seed = 0;
  bool random_validation = false;
};

void run_split(const SplitCommandOptions& o) {
  check_output_paths({{"dataset", o.dataset}}, {{"-o", o.output}});
  data::SplitOptions options;
  options.kind = data::split_kind_from_name(o.kind);
  options.validation_fraction = o.validation;
  options.test_fraction = o.test;
  options.seed = o.seed;
  options.validation_grouped = !o.random_validation;
  const workflows::SplitFileSummary s = workflows::write_split_file(o.dataset, options, o.target, o.output);
  fmt::print("wrote {}: {} train, {} validation, {} test of {} structures ({} split)\n", o.output, s.split.train.size(),
             s.split.validation.size(), s.split.test.size(), s.eligible, o.kind);
  if (options.kind == data::SplitKind::composition || options.kind == data::SplitKind::prototype) {
    fmt::print("  {:<24} {:>7} {:>10} {:>6}\n", options.kind == data::SplitKind::prototype ? "prototype" : "formula",
               "train", "validation", "test");
    for (const auto& [group, n] : s.groups) {
      if (options.kind == data::SplitKind::composition && s.groups.size() > 40) break;  // formulas: too many to list
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
  cmd->add_option("--kind", options->kind, "random, composition (by reduced formula), prototype (by tag) or time")
      ->check(CLI::IsMember({"random", "composition", "prototype", "time"}))
      ->capture_default_str();
  cmd->add_option("--validation", options->validation, "Fraction of the structures for validation")->capture_default_str();
  cmd->add_option("--test", options->test, "Fraction of the structures for testing")->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of the shuffle")->capture_default_str();
  cmd->add_option("--target", options->target, "Split only the structures that carry this label");
  cmd->add_flag("--random-validation", options->random_validation,
                "Grouped splits: hold whole groups out for test only, draw validation at random from the rest");
  cmd->callback([options] { run_split(*options); });
}

}  // namespace matnn::cli
