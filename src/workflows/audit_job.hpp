// `matnn audit`: what a dataset holds twice, and what that does to a split and to the labels.
//
//   - exact duplicates: the same crystal up to round-off, however it is rotated, translated,
//     numbered or repeated (data::exact_tolerances);
//   - near duplicates: the same crystal within the given tolerances (data::MatchTolerances);
//   - leaks: duplicate groups whose members fall in more than one of train, validation and
//     test of a split file (what `matnn split` writes), so that the test set is partly memorised;
//   - label conflicts ("target definition drift"): a duplicate group whose members carry values
//     of one label further apart than a tolerance (the same crystal labelled two ways);
//   - prototype labels (data::prototype_label) per structure, counted, and set against the
//     dataset's `prototype` tag where it has one.
// Every group is a list of dataset indices (0-based, as split files use them).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/prototype_label.hpp"
#include "data/structure_match.hpp"

namespace matnn::workflows {

struct AuditOptions {
  std::string split_path;  ///< a split file (JSON lists "train", "validation", "test"); "" for none
  std::string target;      ///< the label checked for conflicts; "" for every scalar label
  data::MatchTolerances tolerances;
  /// Largest difference of a label within a duplicate group that is not a conflict, in the
  /// label's unit ("energy" and "free_energy", being extensive, are compared per atom: eV/atom).
  double target_tolerance = 0.01;
  double symprec = data::default_symprec;  ///< spglib's tolerance for prototype labels, Angstrom
};

struct DuplicateGroup {
  std::vector<std::size_t> members;  ///< dataset indices, ascending
  bool exact = false;                ///< all members are exact duplicates of each other
};

/// A duplicate group whose members are in more than one subset of the split.
struct Leak {
  std::size_t group = 0;  ///< index into AuditReport::groups
  std::map<std::string, std::vector<std::size_t>> subsets;  ///< "train"/"validation"/"test" -> members there
};

struct LabelConflict {
  std::size_t group = 0;  ///< index into AuditReport::groups
  std::string label;
  std::vector<std::size_t> members;  ///< the members that carry the label
  std::vector<double> values;        ///< their values (per atom for energy, free_energy)
  double spread = 0;                 ///< max - min
};

struct PrototypeCount {
  std::size_t count = 0;
  int space_group = 0;
  std::map<std::string, std::size_t> tags;  ///< the dataset's `prototype` tags of these structures ("" none)
};

struct AuditReport {
  std::string dataset;
  std::size_t n_structures = 0;
  AuditOptions options;
  std::vector<std::size_t> not_periodic;        ///< not audited: no label, no fingerprint
  std::vector<std::optional<std::string>> labels;  ///< prototype label per structure
  std::vector<std::vector<std::size_t>> exact_groups;
  std::vector<DuplicateGroup> groups;            ///< duplicates within the tolerances (exact ones too)
  std::vector<std::string> labels_checked;       ///< labels compared within groups
  std::vector<std::string> labels_not_checked;   ///< vector labels (stress, ...): not comparable this way
  bool has_split = false;
  std::vector<int> subset;                       ///< per structure: 0 train, 1 validation, 2 test, -1 none
  std::vector<Leak> leaks;
  std::vector<LabelConflict> conflicts;
  std::map<std::string, PrototypeCount> prototypes;  ///< computed label -> count
  /// `prototype` tag -> computed label -> count; a tag agrees when all its structures share one
  /// label that no other tag has.
  std::map<std::string, std::map<std::string, std::size_t>> tag_labels;
  double seconds = 0;

  std::size_t structures_in(bool exact_only) const;
  bool tag_agrees(const std::string& tag) const;
};

/// Audits `dataset_path`. Throws matnn::Error naming the file (and the structure index, or the
/// split file and its entry): MATNN_ERROR_IO for a file that cannot be read,
/// MATNN_ERROR_FORMAT for a split file that is not {"train": [...], "validation": [...],
/// "test": [...]} of indices >= 0, MATNN_ERROR_INVALID_ARGUMENT for an index beyond the dataset,
/// an index listed twice, a target the dataset does not have, or negative tolerances.
AuditReport run_audit(const std::string& dataset_path, const AuditOptions& options);

/// The whole report as JSON (see docs/audit.md).
nlohmann::json audit_to_json(const AuditReport& report);

/// Writes audit_to_json(report) to `path` atomically (a temporary file renamed over it).
void write_audit_report(const AuditReport& report, const std::string& path);

}  // namespace matnn::workflows
