// The Behler-Parrinello descriptors of a job's rows (symmetry functions and their derivatives,
// potentials/descriptor_cache.hpp), computed once per row and kept: those of the rows given up
// front (the training and validation rows this rank holds), and of rows that a data-parallel
// step deals to this rank from elsewhere, computed when first asked for, up to kKeptShare times
// the atoms of the rows given up front. Beyond that, a row's descriptors are computed each time
// they are asked for, so a rank keeps little more than twice its share (dataset_rows.hpp keeps
// the records the same way).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "potentials/descriptor_cache.hpp"
#include "workflows/dataset_rows.hpp"
#include "workflows/kept_rows.hpp"

namespace matnn::workflows {

class DescribedRows {
 public:
  /// `model` (any ensemble member: the members share their symmetry functions) must outlive
  /// this object. `upfront`: rows described now, from their `records`.
  DescribedRows(const potentials::BehlerParrinello& model, ad::DType dtype, const potentials::CoreRepulsion& core,
                const std::vector<std::size_t>& upfront, const std::vector<const Record*>& records);

  /// The descriptors of `rows`, in order, computed from `records` (the rows' records) where
  /// they are not kept; valid until the next call.
  std::vector<const potentials::DescribedStructure*> get(std::span<const std::size_t> rows,
                                                         const std::vector<const Record*>& records);
  /// Bytes of the kept descriptors.
  std::size_t bytes() const;

 private:
  const potentials::BehlerParrinello& model_;
  ad::DType dtype_;
  potentials::CoreRepulsion core_;
  KeptRows<potentials::DescribedStructure> described_;
};

}  // namespace matnn::workflows
