// matnn audit DATASET [--split FILE] [-o REPORT.json]: duplicates, near duplicates, duplicates
// that straddle a split, label conflicts among duplicates and prototype labels (docs/audit.md).
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.hpp"
#include "matnn/output_paths.hpp"
#include "workflows/audit_job.hpp"

namespace matnn::cli {
namespace {

/// `--strict` and a leak or a label conflict: the audit ran, but its findings fail the check.
/// Not a matnn_status (those are errors); documented in docs/audit.md.
constexpr int audit_findings_exit = 20;

struct AuditCommandOptions {
  std::string dataset, split, output, target;
  double tolerance = data::MatchTolerances{}.length;
  double volume_tolerance = data::MatchTolerances{}.volume;
  double target_tolerance = workflows::AuditOptions{}.target_tolerance;
  double symprec = data::default_symprec;
  std::size_t show = 10;
  bool strict = false;
};

std::string indices(const std::vector<std::size_t>& members) {
  return fmt::format("{}", fmt::join(members, " "));
}

void print_report(const workflows::AuditReport& r, std::size_t show) {
  const auto& o = r.options;
  fmt::print("audited {}: {} structures in {:.1f} s\n", r.dataset, r.n_structures, r.seconds);
  if (!r.not_periodic.empty())
    fmt::print("  not audited (not periodic along all three axes): {} structures: {}\n", r.not_periodic.size(),
               indices(r.not_periodic));
  fmt::print("  exact duplicates: {} groups, {} structures (same crystal up to round-off)\n", r.exact_groups.size(),
             r.structures_in(true));
  std::size_t near = 0, near_structures = 0;
  for (const auto& g : r.groups)
    if (!g.exact) ++near, near_structures += g.members.size();
  fmt::print("  near duplicates: {} more groups, {} structures (distances within {} A, volume per atom within {} %)\n",
             near, near_structures, o.tolerances.length, 100 * o.tolerances.volume);
  for (std::size_t g = 0; g < r.groups.size() && g < show; ++g)
    fmt::print("    group {:<4} {:<5} {}\n", g, r.groups[g].exact ? "exact" : "near", indices(r.groups[g].members));
  if (r.groups.size() > show) fmt::print("    ... {} more groups in the JSON report (-o)\n", r.groups.size() - show);
  if (r.has_split) {
    std::size_t leaked = 0;
    for (const auto& l : r.leaks) leaked += r.groups[l.group].members.size();
    fmt::print("  split {}: {} duplicate groups straddle train/validation/test ({} structures)\n", o.split_path,
               r.leaks.size(), leaked);
    for (std::size_t k = 0; k < r.leaks.size() && k < show; ++k) {
      std::string where;
      for (const auto& [subset, members] : r.leaks[k].subsets) where += fmt::format(" {}: {};", subset, indices(members));
      fmt::print("    group {:<4}{}\n", r.leaks[k].group, where);
    }
  } else {
    fmt::print("  no split file given (--split): leaks not checked\n");
  }
  fmt::print("  label conflicts: {} (values within a duplicate group further apart than {}; labels checked: {})\n",
             r.conflicts.size(), o.target_tolerance, r.labels_checked.empty() ? "none" : fmt::format("{}", fmt::join(r.labels_checked, ", ")));
  for (std::size_t k = 0; k < r.conflicts.size() && k < show; ++k) {
    const auto& c = r.conflicts[k];
    fmt::print("    group {:<4} {}: {:.6g} differ by {:.6g} (structures {})\n", c.group, c.label,
               fmt::join(c.values, " "), c.spread, indices(c.members));
  }
  fmt::print("  prototype labels: {} distinct (spglib, symprec {} A)\n", r.prototypes.size(), o.symprec);
  fmt::print("    {:<36} {:>6}  {}\n", "label", "count", "prototype tags");
  std::vector<std::pair<std::string, workflows::PrototypeCount>> sorted(r.prototypes.begin(), r.prototypes.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  for (std::size_t k = 0; k < sorted.size() && k < 3 * show; ++k) {
    std::string tags;
    for (const auto& [tag, n] : sorted[k].second.tags) tags += fmt::format(" {}:{}", tag.empty() ? "(none)" : tag, n);
    fmt::print("    {:<36} {:>6} {}\n", sorted[k].first, sorted[k].second.count, tags);
  }
  if (sorted.size() > 3 * show) fmt::print("    ... {} more labels in the JSON report (-o)\n", sorted.size() - 3 * show);
  if (!r.tag_labels.empty()) {
    fmt::print("  prototype tags against computed labels (agrees: one label, found under no other tag):\n");
    for (const auto& [tag, labels] : r.tag_labels) {
      std::size_t n = 0;
      const auto* most = &*labels.begin();
      for (const auto& entry : labels) {
        n += entry.second;
        if (entry.second > most->second) most = &entry;
      }
      fmt::print("    {:<16} {:>6} structures, {:>3} labels, {}; most: {} ({})\n", tag, n, labels.size(),
                 r.tag_agrees(tag) ? "agrees" : "differs", most->first, most->second);
    }
  }
}

void run_audit_command(const AuditCommandOptions& o) {
  check_output_paths({{"dataset", o.dataset}, {"--split", o.split}}, {{"-o", o.output}});
  workflows::AuditOptions options;
  options.split_path = o.split;
  options.target = o.target;
  options.tolerances = {o.tolerance, o.volume_tolerance};
  options.target_tolerance = o.target_tolerance;
  options.symprec = o.symprec;
  const workflows::AuditReport report = workflows::run_audit(o.dataset, options);
  print_report(report, o.show);
  if (!o.output.empty()) {
    workflows::write_audit_report(report, o.output);
    fmt::print("wrote {}\n", o.output);
  }
  if (o.strict && (!report.leaks.empty() || !report.conflicts.empty())) {
    fmt::print(stderr, "matnn audit --strict: {} leaks, {} label conflicts\n", report.leaks.size(), report.conflicts.size());
    std::fflush(stdout);
    throw CommandExit{audit_findings_exit};
  }
}

}  // namespace

void add_audit_command(CLI::App& app) {
  auto options = std::make_shared<AuditCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "audit", "Find duplicate and near-duplicate structures, split leaks and label conflicts; count prototype labels");
  cmd->add_option("dataset", options->dataset, "matnn HDF5 dataset")->required();
  cmd->add_option("--split", options->split, "Split file (JSON lists train, validation, test, as matnn split writes)");
  cmd->add_option("--target", options->target, "Label checked for conflicts (default: every scalar label)");
  cmd->add_option("--tolerance", options->tolerance, "Near duplicates: largest difference of a neighbour distance (Angstrom)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--volume-tolerance", options->volume_tolerance, "Near duplicates: largest relative difference of the volume per atom")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--target-tolerance", options->target_tolerance,
                  "Largest difference of a label within a duplicate group (label unit; energies per atom)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--symprec", options->symprec, "spglib's distance tolerance for prototype labels (Angstrom)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--show", options->show, "Groups, leaks and conflicts listed on stdout")->capture_default_str();
  cmd->add_option("-o,--output", options->output, "JSON report to write (atomically)");
  cmd->add_flag("--strict", options->strict, "Exit with status 20 when a duplicate group straddles the split or labels conflict");
  cmd->callback([options] { run_audit_command(*options); });
}

}  // namespace matnn::cli
