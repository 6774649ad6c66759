#include "workflows/audit_job.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "matnn/atomic_file.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"

namespace matnn::workflows {
namespace {

constexpr std::array<const char*, 3> subset_names{"train", "validation", "test"};

// Per structure: the subset a split file puts it in (0 train, 1 validation, 2 test, -1 none).
std::vector<int> read_split(const std::string& path, std::size_t n_structures, const std::string& dataset_path) {
  std::ifstream in(path);
  if (!in) fail(MATNN_ERROR_IO, "{}: cannot read the split file", path);
  nlohmann::json lists;
  try {
    lists = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(MATNN_ERROR_FORMAT, "{}: not a JSON split file: {}", path, e.what());
  }
  std::vector<int> subset(n_structures, -1);
  for (int k = 0; k < 3; ++k) {
    const char* key = subset_names[static_cast<std::size_t>(k)];
    if (!lists.is_object() || !lists.contains(key) || !lists[key].is_array())
      fail(MATNN_ERROR_FORMAT, "{}: needs a list \"{}\" of structure indices", path, key);
    for (const auto& v : lists[key]) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
        fail(MATNN_ERROR_FORMAT, "{}: \"{}\" holds {}, not a structure index >= 0", path, key, v.dump());
      const auto i = v.get<std::size_t>();
      if (i >= n_structures)
        fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: \"{}\" lists structure {}, but {} has {} structures (0 to {})", path, key, i,
             dataset_path, n_structures, n_structures - 1);
      if (subset[i] >= 0)
        fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: structure {} is listed twice (in \"{}\" and \"{}\")", path, i,
             subset_names[static_cast<std::size_t>(subset[i])], key);
      subset[i] = k;
    }
  }
  return subset;
}

// A label's value as compared within a duplicate group: energies are extensive, so a supercell
// copy has n times the energy of its cell; per atom, they compare.
double comparable_value(const Record& r, const std::string& label) {
  const double v = r.properties.at(label)[0];
  if (label == "energy" || label == "free_energy") return v / static_cast<double>(r.structure.size());
  return v;
}

void check_options(const AuditOptions& o) {
  data::check_tolerances(o.tolerances);
  if (!(o.target_tolerance >= 0) || !std::isfinite(o.target_tolerance))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "the target tolerance {} must be a finite number >= 0", o.target_tolerance);
  if (!(o.symprec > 0) || !std::isfinite(o.symprec))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "the symmetry tolerance {} Angstrom must be a positive number", o.symprec);
}

}  // namespace

std::size_t AuditReport::structures_in(bool exact_only) const {
  std::size_t n = 0;
  if (exact_only) {
    for (const auto& g : exact_groups) n += g.size();
  } else {
    for (const auto& g : groups) n += g.members.size();
  }
  return n;
}

bool AuditReport::tag_agrees(const std::string& tag) const {
  const auto found = tag_labels.find(tag);
  if (found == tag_labels.end() || found->second.size() != 1) return false;
  const std::string& label = found->second.begin()->first;
  for (const auto& [other, labels] : tag_labels)
    if (other != tag && labels.count(label) > 0) return false;
  return true;
}

AuditReport run_audit(const std::string& dataset_path, const AuditOptions& options) {
  check_options(options);
  const auto start = std::chrono::steady_clock::now();
  const DatasetReader reader(dataset_path);
  AuditReport report;
  report.dataset = dataset_path;
  report.options = options;
  report.n_structures = reader.size();

  // Labels compared within groups: the target, or every label with one value per structure.
  for (const LabelSummary& label : reader.summarize()) {
    if (label.per_atom) continue;
    if (!options.target.empty() && label.name != options.target) continue;
    (label.width == 1 ? report.labels_checked : report.labels_not_checked).push_back(label.name);
  }
  if (!options.target.empty() && report.labels_checked.empty()) {
    if (!report.labels_not_checked.empty())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: the label \"{}\" has several values per structure; --target needs a scalar label",
           dataset_path, options.target);
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: no per-structure label \"{}\" to check (--target)", dataset_path, options.target);
  }
  // Read the split before the (slower) structures, so that a bad split file fails at once.
  if (!options.split_path.empty()) {
    report.subset = read_split(options.split_path, report.n_structures, dataset_path);
    report.has_split = true;
  }

  const std::vector<Record> records = reader.read_all();
  std::vector<data::Fingerprint> prints(records.size());
  report.labels.resize(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Structure& s = records[i].structure;
    if (!s.fully_periodic()) {
      report.not_periodic.push_back(i);
      continue;
    }
    try {
      const data::PrototypeInfo info = data::prototype_info(s, options.symprec);
      prints[i] = data::fingerprint(s);
      report.labels[i] = info.label;
      PrototypeCount& count = report.prototypes[info.label];
      ++count.count;
      count.space_group = info.space_group;
      const auto tag = records[i].tags.find("prototype");
      const std::string tag_value = tag == records[i].tags.end() ? "" : tag->second;
      ++count.tags[tag_value];
      if (!tag_value.empty()) ++report.tag_labels[tag_value][info.label];
    } catch (const Error& e) {
      fail(e.status(), "{}: structure {}: {}", dataset_path, i, e.what());
    }
  }

  report.exact_groups = data::duplicate_groups(prints, data::exact_tolerances);
  std::set<std::vector<std::size_t>> exact(report.exact_groups.begin(), report.exact_groups.end());
  for (auto& members : data::duplicate_groups(prints, options.tolerances)) {
    const bool is_exact = exact.count(members) > 0;
    report.groups.push_back({std::move(members), is_exact});
  }

  for (std::size_t g = 0; g < report.groups.size(); ++g) {
    const std::vector<std::size_t>& members = report.groups[g].members;
    if (report.has_split) {
      Leak leak{g, {}};
      for (std::size_t i : members)
        if (report.subset[i] >= 0) leak.subsets[subset_names[static_cast<std::size_t>(report.subset[i])]].push_back(i);
      if (leak.subsets.size() > 1) report.leaks.push_back(std::move(leak));
    }
    for (const std::string& label : report.labels_checked) {
      LabelConflict conflict{g, label, {}, {}, 0};
      for (std::size_t i : members) {
        if (records[i].properties.count(label) == 0) continue;
        conflict.members.push_back(i);
        conflict.values.push_back(comparable_value(records[i], label));
      }
      if (conflict.values.size() < 2) continue;
      const auto [low, high] = std::minmax_element(conflict.values.begin(), conflict.values.end());
      conflict.spread = *high - *low;
      if (conflict.spread > options.target_tolerance) report.conflicts.push_back(std::move(conflict));
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

nlohmann::json audit_to_json(const AuditReport& r) {
  using nlohmann::json;
  json groups = json::array();
  for (const DuplicateGroup& g : r.groups) {
    json entry = {{"members", g.members}, {"exact", g.exact}};
    if (r.has_split) {
      json subsets = json::array();
      for (std::size_t i : g.members) subsets.push_back(r.subset[i] < 0 ? "" : subset_names[static_cast<std::size_t>(r.subset[i])]);
      entry["subsets"] = subsets;
    }
    groups.push_back(entry);
  }
  json leaks = json::array();
  for (const Leak& l : r.leaks) leaks.push_back({{"group", l.group}, {"members", r.groups[l.group].members}, {"subsets", l.subsets}});
  json conflicts = json::array();
  for (const LabelConflict& c : r.conflicts)
    conflicts.push_back({{"group", c.group}, {"label", c.label}, {"members", c.members}, {"values", c.values}, {"spread", c.spread}});
  json prototypes = json::array();
  for (const auto& [label, p] : r.prototypes)
    prototypes.push_back({{"label", label}, {"count", p.count}, {"space_group", p.space_group}, {"tags", p.tags}});
  json tags = json::array();
  for (const auto& [tag, labels] : r.tag_labels) {
    std::size_t n = 0;
    for (const auto& [label, count] : labels) n += count;
    tags.push_back({{"tag", tag}, {"count", n}, {"labels", labels}, {"agrees", r.tag_agrees(tag)}});
  }
  json labels = json::array();
  for (const auto& l : r.labels) labels.push_back(l ? json(*l) : json(nullptr));
  std::size_t near_groups = 0;
  for (const DuplicateGroup& g : r.groups) near_groups += g.exact ? 0 : 1;
  return {{"dataset", std::filesystem::absolute(r.dataset).string()},
          {"n_structures", r.n_structures},
          {"split", r.has_split ? json(std::filesystem::absolute(r.options.split_path).string()) : json(nullptr)},
          {"options",
           {{"length_tolerance", r.options.tolerances.length},
            {"volume_tolerance", r.options.tolerances.volume},
            {"exact_length_tolerance", data::exact_tolerances.length},
            {"exact_volume_tolerance", data::exact_tolerances.volume},
            {"target", r.options.target},
            {"target_tolerance", r.options.target_tolerance},
            {"symprec", r.options.symprec}}},
          {"summary",
           {{"not_periodic", r.not_periodic.size()},
            {"exact_duplicate_groups", r.exact_groups.size()},
            {"structures_in_exact_groups", r.structures_in(true)},
            {"duplicate_groups", r.groups.size()},
            {"near_duplicate_groups", near_groups},
            {"structures_in_duplicate_groups", r.structures_in(false)},
            {"leaks", r.leaks.size()},
            {"label_conflicts", r.conflicts.size()},
            {"prototype_labels", r.prototypes.size()},
            {"seconds", r.seconds}}},
          {"not_periodic", r.not_periodic},
          {"labels_checked", r.labels_checked},
          {"labels_not_checked", r.labels_not_checked},
          {"exact_duplicate_groups", r.exact_groups},
          {"duplicate_groups", groups},
          {"leaks", leaks},
          {"label_conflicts", conflicts},
          {"prototypes", prototypes},
          {"prototype_tags", tags},
          {"structure_labels", labels}};
}

void write_audit_report(const AuditReport& report, const std::string& path) {
  const std::string text = audit_to_json(report).dump(1) + "\n";
  AtomicFile atomic(path);
  {
    std::ofstream stream(atomic.temp_path());
    stream << text;
    stream.flush();
    if (!stream) fail(MATNN_ERROR_IO, "{}: cannot write the audit report", path);
  }
  atomic.commit();
}

}  // namespace matnn::workflows
