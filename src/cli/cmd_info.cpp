// matnn info: what a dataset holds — counts, elements, periodicity, label coverage and ranges,
// and the spectra and images beside the atoms.
#include <algorithm>
#include <ctime>
#include <limits>
#include <map>
#include <string>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "matnn/dataset.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn::cli {
namespace {

// Structures read per block: bounded memory whatever the file size.
constexpr std::size_t block_size = 4096;

/// One signal over the dataset: its shared description and the rows that have it.
struct SignalTally {
  Signal description;  ///< the first row's, without its values
  std::size_t present = 0;
  double min_pixel = std::numeric_limits<double>::max(), max_pixel = 0;
};

struct StructureTally {
  std::map<std::string, SignalTally> signals;
  std::map<int, std::size_t> atoms_per_element;
  std::map<int, std::size_t> structures_per_element;
  std::map<std::string, std::size_t> by_periodicity;
  std::map<std::string, std::size_t> tag_present;
  std::size_t min_atoms = std::numeric_limits<std::size_t>::max(), max_atoms = 0, timestamps = 0;
  std::int64_t first_time = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_time = std::numeric_limits<std::int64_t>::min();

  void add(const Record& r) {
    const Structure& s = r.structure;
    min_atoms = std::min(min_atoms, s.size());
    max_atoms = std::max(max_atoms, s.size());
    const Composition composition = s.composition();  // named: a temporary would die before the loop
    for (const auto& [z, count] : composition.amounts()) {
      atoms_per_element[z] += static_cast<std::size_t>(count);
      structures_per_element[z] += 1;
    }
    const int periodic = s.pbc[0] + s.pbc[1] + s.pbc[2];
    static const char* names[] = {"molecule (no pbc)", "wire (1 periodic axis)", "slab (2 periodic axes)", "bulk (3 periodic axes)"};
    by_periodicity[names[periodic]] += 1;
    for (const auto& [name, value] : r.tags) {
      if (!value.empty()) tag_present[name] += 1;
    }
    for (const auto& [name, signal] : r.signals) {
      SignalTally& t = signals[name];
      if (t.present++ == 0) {
        t.description = signal;
        t.description.values.clear();
      }
      t.min_pixel = std::min(t.min_pixel, signal.pixel_size);
      t.max_pixel = std::max(t.max_pixel, signal.pixel_size);
    }
    if (r.timestamp) {
      ++timestamps;
      first_time = std::min(first_time, *r.timestamp);
      last_time = std::max(last_time, *r.timestamp);
    }
  }
};

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text;
  for (std::int64_t extent : shape) text += (text.empty() ? "" : "x") + std::to_string(extent);
  return text;
}

std::string utc_date(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

void run_info(const std::string& path) {
  const DatasetReader reader(path);
  StructureTally tally;
  for (std::size_t begin = 0; begin < reader.size(); begin += block_size) {
    for (const Record& r : reader.read(begin, std::min(reader.size(), begin + block_size))) tally.add(r);
  }

  const std::size_t n = reader.size();
  fmt::print("dataset      {}\n", path);
  fmt::print("structures   {}\n", n);
  if (n == 0) return;
  fmt::print("atoms        {} (per structure: min {}, mean {:.1f}, max {})\n", reader.total_atoms(), tally.min_atoms,
             static_cast<double>(reader.total_atoms()) / static_cast<double>(n), tally.max_atoms);
  std::string periodicity;
  for (const auto& [kind, count] : tally.by_periodicity) {
    periodicity += fmt::format("{}{} {}", periodicity.empty() ? "" : ", ", count, kind);
  }
  fmt::print("periodicity  {}\n", periodicity);

  fmt::print("elements     {}\n", tally.atoms_per_element.size());
  for (const auto& [z, atoms] : tally.atoms_per_element) {
    fmt::print("  {:<3} {:>10} atoms in {:>8} structures\n", element(z).symbol, atoms, tally.structures_per_element[z]);
  }

  fmt::print("labels\n");
  fmt::print("  {:<20} {:>8} {:>6} {:>16} {:>8} {:>13} {:>13} {:>13}\n", "name", "kind", "width", "unit", "coverage",
             "min", "mean", "max");
  for (const LabelSummary& label : reader.summarize()) {
    const double coverage = 100.0 * static_cast<double>(label.present) / static_cast<double>(n);
    fmt::print("  {:<20} {:>8} {:>6} {:>16} {:>7.1f}% {:>13.6g} {:>13.6g} {:>13.6g}\n", label.name,
               label.per_atom ? "per-atom" : "per-str", label.width, label.unit.empty() ? "-" : label.unit, coverage,
               label.min, label.mean, label.max);
  }
  if (!tally.tag_present.empty()) {
    fmt::print("tags\n");
    for (const auto& [name, count] : tally.tag_present) {
      fmt::print("  {:<20} {:>7.1f}%\n", name, 100.0 * static_cast<double>(count) / static_cast<double>(n));
    }
  }
  if (!tally.signals.empty()) {
    fmt::print("signals\n");
    for (const auto& [name, t] : tally.signals) {
      const Signal& d = t.description;
      const std::string where =
          d.kind == SignalKind::spectrum
              ? fmt::format("{} {:g} to {:g} {}", d.axis_name, d.axis->front(), d.axis->back(), d.axis_unit)
              : fmt::format("pixel {:g} to {:g} {}", t.min_pixel, t.max_pixel, d.axis_unit);
      fmt::print("  {:<20} {:>8} {:>16} {:>7.1f}%  {}\n", name, signal_kind_name(d.kind),
                 shape_text(d.shape),
                 100.0 * static_cast<double>(t.present) / static_cast<double>(n), where);
    }
  }
  if (tally.timestamps > 0) {
    fmt::print("timestamps   {} structures, {} to {}\n", tally.timestamps, utc_date(tally.first_time),
               utc_date(tally.last_time));
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("info", "Summarise an HDF5 dataset: counts, elements, label coverage and ranges");
  cmd->add_option("dataset", *path, "matnn HDF5 dataset (.h5)")->required();
  cmd->callback([path] { run_info(*path); });
}

}  // namespace matnn::cli
