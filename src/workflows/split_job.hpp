// `matnn split`: a train/validation/test split of a dataset written as a file that `matnn
// train` takes (split: {file: ...}) and any other code can read, so that models of several
// kinds, or matnn and a reference code, are compared on exactly the same structures.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "data/splits.hpp"

namespace matnn::workflows {

struct SplitFileSummary {
  data::Split split;        ///< dataset indices
  std::size_t eligible = 0; ///< structures split (those with the target, when one is given)
  /// Per group (reduced formula or prototype; "" for random and time splits): structures in
  /// train, validation and test.
  std::map<std::string, std::array<std::size_t, 3>> groups;
};

/// Splits the structures of `dataset_path` (only those labelled `target`, when it is not empty)
/// and writes `output_path` atomically: JSON {"train": [...], "validation": [...], "test": [...]}
/// of 0-based dataset indices, with the options and the dataset recorded beside them.
SplitFileSummary write_split_file(const std::string& dataset_path, const data::SplitOptions& options,
                                  const std::string& target, const std::string& output_path);

/// Cross-validation folds instead of one split (data::make_folds): JSON {"folds": [[...], ...]}
/// of dataset indices, with the options and the dataset beside them. Returns the folds.
std::vector<std::vector<std::size_t>> write_fold_file(const std::string& dataset_path, const data::SplitOptions& options,
                                                      std::size_t folds, const std::string& target,
                                                      const std::string& output_path);

}  // namespace matnn::workflows
