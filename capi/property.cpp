// Property-model predictions through the C interface: compositions given as a fraction table
// (an FEM code's material points) or as the atoms of structures.
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "internal.hpp"
#include "property_internal.hpp"
#include "matnn/elements.hpp"
#include "models/composition_model.hpp"

namespace {

using matnn::Composition;
using matnn::fail;
using matnn::capi::check_outputs;
using matnn::capi::copy_out;
using matnn::capi::guarded;
using matnn::capi::options_for;
using matnn::capi::require_property;
using matnn::capi::require;
using matnn::capi::require_model;
using matnn::models::CompositionModel;
using matnn::models::PropertyModel;
using matnn::models::TaskKind;

void check_atomic_number(int z, const char* where, std::size_t index) {
  if (!matnn::is_known_atomic_number(z)) {
    fail(MATNN_ERROR_UNKNOWN_ELEMENT, "{}[{}] = {} is not an atomic number (1..{})", where, index, z,
         matnn::max_atomic_number);
  }
}

// A model that reads only the composition, or MATNN_ERROR_UNSUPPORTED naming what it needs.
const CompositionModel& require_composition_model(const PropertyModel& model) {
  const auto* composition = dynamic_cast<const CompositionModel*>(&model);
  if (composition == nullptr) {
    fail(MATNN_ERROR_UNSUPPORTED, "a {} model needs atomic positions and the cell, not only the composition", model.kind());
  }
  return *composition;
}

void predict(const matnn_model& m, const std::vector<Composition>& compositions, int mc_samples, double* values,
             double* sigmas, int* ood, double* probabilities) {
  const CompositionModel& model = require_composition_model(*m.property);
  const matnn::models::PropertyPrediction p = model.predict_compositions(compositions, options_for(mc_samples));
  copy_out(p, static_cast<Eigen::Index>(compositions.size()), values, sigmas, ood, probabilities);
}

// The structures of a batch (atoms, positions, cells, pbc), checked, in Angstrom.
std::vector<matnn::Structure> host_structures(const matnn_model& m, int n_structures, const int* natoms,
                                              const int* atomic_numbers, const double* positions, const double* cells,
                                              const int* pbc) {
  require(natoms, "natoms");
  require(atomic_numbers, "atomic_numbers");
  require(positions, "positions");
  if (n_structures <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "n_structures must be > 0, got {}", n_structures);
  const double length = matnn::capi::unit_factors(m.units).length;
  std::vector<matnn::Structure> out;
  out.reserve(static_cast<std::size_t>(n_structures));
  std::size_t first = 0;
  for (std::size_t s = 0; s < static_cast<std::size_t>(n_structures); ++s) {
    if (natoms[s] <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "natoms[{}] must be > 0, got {}", s, natoms[s]);
    const auto n = static_cast<std::size_t>(natoms[s]);
    for (std::size_t k = 0; k < n; ++k) check_atomic_number(atomic_numbers[first + k], "atomic_numbers", first + k);
    const int* flags = pbc != nullptr ? pbc + 3 * s : nullptr;
    const bool periodic = flags != nullptr && (flags[0] != 0 || flags[1] != 0 || flags[2] != 0);
    if (periodic && cells == nullptr)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "structure {}: pbc has a periodic axis but cells is NULL", s);
    matnn::capi::check_finite(positions + 3 * first, 3 * n, "positions");
    const double* cell = cells != nullptr ? cells + 9 * s : nullptr;
    if (cell != nullptr) matnn::capi::check_finite(cell, 9, "cells");
    out.push_back(matnn::capi::make_structure(n, atomic_numbers + first, positions + 3 * first, cell, flags, length));
    try {
      out.back().validate();
    } catch (const matnn::Error& e) {
      fail(e.status(), "structure {}: {}", s, e.what());
    }
    first += n;
  }
  return out;
}

void predict_atoms(const matnn_model& m, int n_structures, const int* natoms, const int* atomic_numbers,
                   const double* positions, const double* cells, const int* pbc,
                   const matnn::models::PredictOptions& options, double* values, double* sigmas, int* ood,
                   double* probabilities) {
  const PropertyModel& property = require_property(m);
  check_outputs(property, options.mc_samples, values, probabilities);
  const std::vector<matnn::Structure> structures =
      host_structures(m, n_structures, natoms, atomic_numbers, positions, cells, pbc);
  const matnn::models::PropertyPrediction p = property.predict(structures, options);
  copy_out(p, static_cast<Eigen::Index>(structures.size()), values, sigmas, ood, probabilities);
}

}  // namespace

namespace matnn::capi {

const PropertyModel& require_property(const matnn_model& model) {
  if (model.kind != MATNN_MODEL_PROPERTY) {
    fail(MATNN_ERROR_MODEL, "the model is a potential, not a property model (wrong kind for this call)");
  }
  return *model.property;
}

void check_outputs(const PropertyModel& model, int mc_samples, const double* values, const double* probabilities) {
  require(values, "values");
  if (mc_samples < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "mc_samples must be >= 0, got {}", mc_samples);
  if (probabilities != nullptr && model.target().task != TaskKind::classification) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "probabilities must be NULL for a regression model");
  }
  if (mc_samples > 0 && !model.supports_mc_dropout()) {
    fail(MATNN_ERROR_UNSUPPORTED, "mc_samples = {} needs a model trained with dropout > 0", mc_samples);
  }
}

void copy_out(const matnn::models::PropertyPrediction& p, Eigen::Index n, double* values, double* sigmas, int* ood,
              double* probabilities) {
  for (Eigen::Index i = 0; i < n; ++i) {
    values[i] = p.value[i];
    if (sigmas) sigmas[i] = p.sigma[i];
    if (ood) ood[i] = p.ood[static_cast<std::size_t>(i)] ? 1 : 0;
    if (probabilities) {
      const Eigen::Index c = p.probabilities.cols();
      for (Eigen::Index k = 0; k < c; ++k) probabilities[i * c + k] = p.probabilities(i, k);
    }
  }
}

matnn::models::PredictOptions options_for(int mc_samples, bool embeddings, std::uint64_t seed) {
  matnn::models::PredictOptions options;
  options.mc_samples = mc_samples;
  options.embeddings = embeddings;
  options.seed = seed;
  return options;
}

}  // namespace matnn::capi

extern "C" {

MATNN_API matnn_status matnn_property_name(const matnn_model* model, const char** name) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(name, "name");
    *name = require_property(m).target().name.c_str();
  });
}

MATNN_API matnn_status matnn_property_unit(const matnn_model* model, const char** unit) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(unit, "unit");
    *unit = require_property(m).target().unit.c_str();
  });
}

MATNN_API matnn_status matnn_property_task(const matnn_model* model, matnn_task* task) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(task, "task");
    *task = require_property(m).target().task == TaskKind::classification ? MATNN_TASK_CLASSIFICATION
                                                                          : MATNN_TASK_REGRESSION;
  });
}

MATNN_API matnn_status matnn_property_num_classes(const matnn_model* model, int* n_classes) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(n_classes, "n_classes");
    const auto& t = require_property(m).target();
    *n_classes = t.task == TaskKind::classification ? t.n_classes : 0;
  });
}

MATNN_API matnn_status matnn_property_predict_compositions(const matnn_model* model, int n, int n_elements,
                                                           const int* atomic_numbers, const double* fractions,
                                                           int mc_samples, double* values, double* sigmas, int* ood,
                                                           double* probabilities) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(atomic_numbers, "atomic_numbers");
    require(fractions, "fractions");
    if (n <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "n must be > 0, got {}", n);
    if (n_elements <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "n_elements must be > 0, got {}", n_elements);
    check_outputs(require_property(m), mc_samples, values, probabilities);
    const auto columns = static_cast<std::size_t>(n_elements);
    std::set<int> seen;
    for (std::size_t j = 0; j < columns; ++j) {
      check_atomic_number(atomic_numbers[j], "atomic_numbers", j);
      if (!seen.insert(atomic_numbers[j]).second) {
        fail(MATNN_ERROR_INVALID_ARGUMENT, "atomic_numbers[{}] = {} repeats an earlier column", j, atomic_numbers[j]);
      }
    }
    std::vector<Composition> compositions;
    compositions.reserve(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      std::map<int, double> amounts;
      double total = 0.0;
      for (std::size_t j = 0; j < columns; ++j) {
        const double f = fractions[i * columns + j];
        if (!std::isfinite(f)) fail(MATNN_ERROR_NON_FINITE, "fractions[{}][{}] is {}", i, j, f);
        if (f < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "fractions[{}][{}] = {} is negative", i, j, f);
        if (f > 0) amounts[atomic_numbers[j]] = f;
        total += f;
      }
      if (!(total > 0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "row {} of fractions sums to 0", i);
      compositions.emplace_back(std::move(amounts));
    }
    predict(m, compositions, mc_samples, values, sigmas, ood, probabilities);
  });
}

MATNN_API matnn_status matnn_property_predict_structures(const matnn_model* model, int n_structures,
                                                         const int* natoms, const int* atomic_numbers, int mc_samples,
                                                         double* values, double* sigmas, int* ood,
                                                         double* probabilities) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(natoms, "natoms");
    require(atomic_numbers, "atomic_numbers");
    if (n_structures <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "n_structures must be > 0, got {}", n_structures);
    check_outputs(require_property(m), mc_samples, values, probabilities);
    std::vector<Composition> compositions;
    compositions.reserve(static_cast<std::size_t>(n_structures));
    std::size_t atom = 0;
    for (std::size_t s = 0; s < static_cast<std::size_t>(n_structures); ++s) {
      if (natoms[s] <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "natoms[{}] must be > 0, got {}", s, natoms[s]);
      std::map<int, double> amounts;
      for (int k = 0; k < natoms[s]; ++k, ++atom) {
        check_atomic_number(atomic_numbers[atom], "atomic_numbers", atom);
        amounts[atomic_numbers[atom]] += 1.0;
      }
      compositions.emplace_back(std::move(amounts));
    }
    predict(m, compositions, mc_samples, values, sigmas, ood, probabilities);
  });
}

MATNN_API matnn_status matnn_property_predict_atoms(const matnn_model* model, int n_structures, const int* natoms,
                                                   const int* atomic_numbers, const double* positions,
                                                   const double* cells, const int* pbc, int mc_samples, double* values,
                                                   double* sigmas, int* ood, double* probabilities) {
  return guarded(__func__, model, [&] {
    predict_atoms(require_model(model), n_structures, natoms, atomic_numbers, positions, cells, pbc,
                  options_for(mc_samples), values, sigmas, ood, probabilities);
  });
}

MATNN_API matnn_status matnn_property_predict_atoms_mc(const matnn_model* model, int n_structures, const int* natoms,
                                                      const int* atomic_numbers, const double* positions,
                                                      const double* cells, const int* pbc, int mc_samples,
                                                      uint64_t seed, double* values, double* sigmas, int* ood,
                                                      double* probabilities) {
  return guarded(__func__, model, [&] {
    if (mc_samples <= 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "mc_samples must be > 0, got {}", mc_samples);
    predict_atoms(require_model(model), n_structures, natoms, atomic_numbers, positions, cells, pbc,
                  options_for(mc_samples, false, seed), values, sigmas, ood, probabilities);
  });
}

MATNN_API matnn_status matnn_property_embedding_width(const matnn_model* model, int* width) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(width, "width");
    *width = static_cast<int>(require_property(m).embedding_width());
  });
}

MATNN_API matnn_status matnn_property_embed_atoms(const matnn_model* model, int n_structures, const int* natoms,
                                                  const int* atomic_numbers, const double* positions,
                                                  const double* cells, const int* pbc, double* embeddings) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    const PropertyModel& property = require_property(m);
    require(embeddings, "embeddings");
    const std::vector<matnn::Structure> structures =
        host_structures(m, n_structures, natoms, atomic_numbers, positions, cells, pbc);
    const matnn::models::PropertyPrediction p = property.predict(structures, options_for(0, true));
    const Eigen::Index width = p.embedding.cols();
    for (Eigen::Index i = 0; i < p.embedding.rows(); ++i)
      for (Eigen::Index k = 0; k < width; ++k) embeddings[i * width + k] = p.embedding(i, k);
  });
}

}  // extern "C"
