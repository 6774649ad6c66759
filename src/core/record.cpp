#include "matnn/record.hpp"

#include <array>
#include <cmath>
#include <string_view>

#include "matnn/error.hpp"

namespace matnn {
namespace {

struct ReservedLabel {
  std::string_view name;
  int width;
  bool per_atom;
  const char* unit;
};

// The labels whose meaning, shape and unit matnn fixes (ASE's names and units).
constexpr std::array<ReservedLabel, 7> reserved_labels{{
    {"energy", 1, false, "eV"},
    {"free_energy", 1, false, "eV"},
    {"stress", 6, false, "eV/Angstrom^3"},
    {"forces", 3, true, "eV/Angstrom"},
    {"energies", 1, true, "eV"},
    {"charges", 1, true, "e"},
    {"magmoms", 1, true, "mu_B"},
}};

const ReservedLabel* find_reserved(const std::string& name) noexcept {
  for (const auto& label : reserved_labels) {
    if (label.name == name) return &label;
  }
  return nullptr;
}

}  // namespace

int reserved_label_width(const std::string& name) noexcept {
  const ReservedLabel* label = find_reserved(name);
  return label ? label->width : 0;
}

const char* reserved_label_unit(const std::string& name) noexcept {
  const ReservedLabel* label = find_reserved(name);
  return label ? label->unit : "";
}

bool is_reserved_atom_label(const std::string& name) noexcept {
  const ReservedLabel* label = find_reserved(name);
  return label && label->per_atom;
}

std::optional<double> Record::energy() const {
  const auto it = properties.find("energy");
  if (it == properties.end() || it->second.empty()) return std::nullopt;
  return it->second.front();
}

const AtomValues* Record::forces() const {
  const auto it = atom_properties.find("forces");
  return it == atom_properties.end() ? nullptr : &it->second;
}

const std::vector<double>* Record::stress() const {
  const auto it = properties.find("stress");
  return it == properties.end() ? nullptr : &it->second;
}

void Record::validate() const {
  structure.validate();
  for (const auto& [name, values] : properties) {
    if (values.empty()) fail(MATNN_ERROR_FORMAT, "label \"{}\" has no values", name);
    const ReservedLabel* reserved = find_reserved(name);
    if (reserved && reserved->per_atom) {
      fail(MATNN_ERROR_FORMAT, "label \"{}\" is per-atom but was given per structure", name);
    }
    if (reserved && static_cast<int>(values.size()) != reserved->width) {
      fail(MATNN_ERROR_FORMAT, "label \"{}\" needs {} values, got {}", name, reserved->width, values.size());
    }
    for (double v : values) {
      if (!std::isfinite(v)) fail(MATNN_ERROR_NON_FINITE, "label \"{}\" has a non-finite value", name);
    }
  }
  for (const auto& [name, values] : atom_properties) {
    const ReservedLabel* reserved = find_reserved(name);
    if (reserved && !reserved->per_atom) {
      fail(MATNN_ERROR_FORMAT, "label \"{}\" is per structure but was given per atom", name);
    }
    if (values.rows() != static_cast<Eigen::Index>(structure.size())) {
      fail(MATNN_ERROR_FORMAT, "per-atom label \"{}\" has {} rows for {} atoms", name, values.rows(),
           structure.size());
    }
    if (values.cols() < 1 || (reserved && values.cols() != reserved->width)) {
      fail(MATNN_ERROR_FORMAT, "per-atom label \"{}\" has {} columns, expected {}", name, values.cols(),
           reserved ? reserved->width : 1);
    }
    if (!values.allFinite()) fail(MATNN_ERROR_NON_FINITE, "per-atom label \"{}\" has a non-finite value", name);
  }
  for (const auto& [name, signal] : signals) {
    try {
      signal.validate();
    } catch (const Error& e) {
      fail(e.status(), "signal \"{}\": {}", name, e.what());
    }
  }
}

}  // namespace matnn
