// Loading a model file and the queries on a handle.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "internal.hpp"
#include "models/state_file.hpp"

namespace {

using matnn::fail;
using matnn::capi::guarded;
using matnn::capi::require;
using matnn::capi::require_model;

// The options as ABI 1 defines them; a host compiled against a later header passes a larger
// struct_size, of which we read only this prefix.
constexpr std::size_t abi1_options_size = offsetof(matnn_load_options, precision) + sizeof(matnn_precision);

matnn_load_options read_options(const matnn_load_options* options) {
  matnn_load_options o{};
  matnn_load_options_init(&o);
  if (options == nullptr) return o;
  if (options->struct_size < abi1_options_size) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "options->struct_size = {} is smaller than ABI 1's {} (call matnn_load_options_init)",
         options->struct_size, abi1_options_size);
  }
  const int units = matnn::capi::enum_value(options->units);
  const int precision = matnn::capi::enum_value(options->precision);
  if (units < MATNN_UNITS_METAL || units > MATNN_UNITS_REAL) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "options->units = {} is not a matnn_units value (0 metal, 1 atomic, 2 real)",
         units);
  }
  if (precision != MATNN_PRECISION_FLOAT32 && precision != MATNN_PRECISION_FLOAT64) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "options->precision = {} is not a matnn_precision value (0 float32, 1 float64)",
         precision);
  }
  o.units = static_cast<matnn_units>(units);
  o.precision = static_cast<matnn_precision>(precision);
  return o;
}

const matnn::potentials::Potential& require_potential(const matnn_model& model, const char* what) {
  if (model.kind != MATNN_MODEL_POTENTIAL) fail(MATNN_ERROR_MODEL, "a property model has no {} (not a potential)", what);
  return *model.potential;
}

}  // namespace

extern "C" {

MATNN_API matnn_status matnn_load_options_init(matnn_load_options* options) {
  return guarded(__func__, nullptr, [&] {
    require(options, "options");
    *options = matnn_load_options{};
    options->struct_size = sizeof(matnn_load_options);
    options->units = MATNN_UNITS_METAL;
    options->precision = MATNN_PRECISION_FLOAT32;
  });
}

MATNN_API matnn_status matnn_model_load(const char* path, const matnn_load_options* options, matnn_model** model) {
  return guarded(__func__, nullptr, [&] {
    require(model, "model");
    *model = nullptr;
    require(path, "path");
    const matnn_load_options o = read_options(options);
    auto handle = std::make_unique<matnn_model>();
    handle->units = o.units;
    handle->precision = o.precision;
    const std::string kind = matnn::models::read_model_kind(path);
    if (kind == matnn::potentials::Potential::file_kind) {
      handle->kind = MATNN_MODEL_POTENTIAL;
      handle->potential = std::make_unique<matnn::potentials::Potential>(matnn::potentials::Potential::load(path));
      handle->potential->to(o.precision == MATNN_PRECISION_FLOAT64 ? matnn::ad::DType::f64 : matnn::ad::DType::f32);
      handle->interaction_range = handle->potential->interaction_range();
    } else if (matnn::models::is_property_model_kind(kind)) {
      if (o.precision == MATNN_PRECISION_FLOAT64) {
        fail(MATNN_ERROR_UNSUPPORTED, "{}: property models evaluate in float32 only; load with MATNN_PRECISION_FLOAT32",
             path);
      }
      handle->kind = MATNN_MODEL_PROPERTY;
      handle->property = matnn::models::load_property_model(path);
    } else {
      fail(MATNN_ERROR_MODEL, "{}: model kind \"{}\" is not served by the C interface", path, kind);
    }
    *model = handle.release();
  });
}

MATNN_API void matnn_model_destroy(matnn_model* model) { delete model; }

MATNN_API matnn_status matnn_model_kind_of(const matnn_model* model, matnn_model_kind* kind) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(kind, "kind");
    *kind = m.kind;
  });
}

MATNN_API matnn_status matnn_model_units(const matnn_model* model, matnn_units* units) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(units, "units");
    *units = m.units;
  });
}

MATNN_API matnn_status matnn_model_precision(const matnn_model* model, matnn_precision* precision) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(precision, "precision");
    *precision = m.precision;
  });
}

MATNN_API matnn_status matnn_model_num_species(const matnn_model* model, int* n) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(n, "n");
    *n = static_cast<int>(m.potential ? m.potential->species().size() : m.property->elements().size());
  });
}

MATNN_API matnn_status matnn_model_species(const matnn_model* model, int* atomic_numbers) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(atomic_numbers, "atomic_numbers");
    const std::vector<int>& z = m.potential ? m.potential->species() : m.property->elements();
    std::copy(z.begin(), z.end(), atomic_numbers);
  });
}

MATNN_API matnn_status matnn_model_cutoff(const matnn_model* model, double* cutoff) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(cutoff, "cutoff");
    *cutoff = require_potential(m, "cutoff").cutoff() / matnn::capi::unit_factors(m.units).length;
  });
}

MATNN_API matnn_status matnn_model_interaction_range(const matnn_model* model, double* range) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(range, "range");
    require_potential(m, "interaction range");
    *range = m.interaction_range / matnn::capi::unit_factors(m.units).length;
  });
}

MATNN_API matnn_status matnn_model_ensemble_size(const matnn_model* model, int* n) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(n, "n");
    *n = static_cast<int>(m.potential ? m.potential->ensemble_size() : m.property->ensemble_size());
  });
}

MATNN_API matnn_status matnn_model_outputs(const matnn_model* model, unsigned int* flags) {
  return guarded(__func__, model, [&] {
    const matnn_model& m = require_model(model);
    require(flags, "flags");
    if (m.kind == MATNN_MODEL_POTENTIAL) {
      *flags = MATNN_OUTPUT_ENERGY | MATNN_OUTPUT_ENERGIES | MATNN_OUTPUT_FORCES | MATNN_OUTPUT_STRESS |
               MATNN_OUTPUT_ENERGY_SIGMA | MATNN_OUTPUT_FORCE_DEVIATION;
    } else {
      *flags = MATNN_OUTPUT_PROPERTY_VALUE | MATNN_OUTPUT_PROPERTY_SIGMA | MATNN_OUTPUT_PROPERTY_OOD;
      if (m.property->target().task == matnn::models::TaskKind::classification) {
        *flags |= MATNN_OUTPUT_PROPERTY_PROBABILITIES;
      }
    }
  });
}

}  // extern "C"
