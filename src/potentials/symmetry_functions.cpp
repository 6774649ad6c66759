#include "potentials/symmetry_functions.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::potentials {
namespace {

std::string key_path(const train::ConfigSection& section, const std::string& key) {
  return section.path().empty() ? key : section.path() + "." + key;
}

// A constant (1, n) row in `dtype`.
ad::Tensor constant_row(const std::vector<double>& values, ad::DType dtype) {
  return ad::to(ad::from_vector(values, {1, static_cast<std::int64_t>(values.size())}), dtype);
}

std::vector<double> read_numbers(const train::ConfigSection& section, const nlohmann::json& raw, const std::string& key) {
  const nlohmann::json& v = raw.at(key);
  const bool ok = v.is_array() && std::all_of(v.begin(), v.end(), [](const nlohmann::json& x) {
                    return x.is_number() && std::isfinite(x.get<double>()) && x.get<double>() >= 0.0;
                  });
  if (!ok) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be a list of non-negative numbers, got {}", key_path(section, key), v.dump());
  return v.get<std::vector<double>>();
}

}  // namespace

const char* cutoff_function_name(CutoffFunction f) noexcept {
  return f == CutoffFunction::cosine ? "cosine" : "polynomial";
}

const char* angular_kind_name(AngularKind k) noexcept { return k == AngularKind::narrow ? "narrow" : "wide"; }

SymmetryFunctionConfig SymmetryFunctionConfig::read(const train::ConfigSection& root, const nlohmann::json& raw) {
  SymmetryFunctionConfig c;
  c.cutoff = root.positive("cutoff", c.cutoff);
  const std::string fc = root.string("cutoff_function", cutoff_function_name(c.cutoff_function));
  if (fc == "cosine") {
    c.cutoff_function = CutoffFunction::cosine;
  } else if (fc == "polynomial") {
    c.cutoff_function = CutoffFunction::polynomial;
  } else {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be \"cosine\" or \"polynomial\", got \"{}\"",
         key_path(root, "cutoff_function"), fc);
  }

  const train::ConfigSection radial = root.section("radial");
  c.radial_count = radial.integer("count", c.radial_count, 1);
  c.radial_r_min = radial.positive("r_min", c.radial_r_min, true);
  if (c.radial_r_min >= c.cutoff)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be below the cutoff {}, got {}", key_path(radial, "r_min"), c.cutoff,
         c.radial_r_min);
  radial.finish();

  const train::ConfigSection angular = root.section("angular");
  const std::string type = angular.string("type", angular_kind_name(c.angular));
  if (type == "narrow" || type == "G4" || type == "g4") {
    c.angular = AngularKind::narrow;
  } else if (type == "wide" || type == "G5" || type == "g5") {
    c.angular = AngularKind::wide;
  } else {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be \"narrow\" (G4) or \"wide\" (G5), got \"{}\"",
         key_path(angular, "type"), type);
  }
  c.zeta = angular.integers("zeta", c.zeta);
  for (std::int64_t z : c.zeta)
    if (z < 1 || z > 64)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must hold integers in [1, 64], got {}", key_path(angular, "zeta"), z);
  c.lambda = angular.integers("lambda", c.lambda);
  for (std::int64_t l : c.lambda)
    if (l != 1 && l != -1) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must hold 1 or -1, got {}", key_path(angular, "lambda"), l);
  if (c.lambda.size() == 2 && c.lambda[0] == c.lambda[1])
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} lists {} twice", key_path(angular, "lambda"), c.lambda[0]);
  if (c.lambda.size() > 2) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} may hold at most 1 and -1", key_path(angular, "lambda"));
  if (angular.has("eta")) {
    c.angular_eta = read_numbers(angular, raw.at("angular"), "eta");
  } else {
    const double inv = 1.0 / (c.cutoff * c.cutoff);
    c.angular_eta = {0.0, inv, 4.0 * inv};
  }
  angular.finish();
  return c;
}

void SymmetryFunctionConfig::write(nlohmann::json& out) const {
  out["cutoff"] = cutoff;
  out["cutoff_function"] = cutoff_function_name(cutoff_function);
  out["radial"] = {{"count", radial_count}, {"r_min", radial_r_min}};
  out["angular"] = {{"type", angular_kind_name(angular)}, {"eta", angular_eta}, {"zeta", zeta}, {"lambda", lambda}};
}

SymmetryFunctions::SymmetryFunctions(SymmetryFunctionConfig config, std::int64_t n_species)
    : config_(std::move(config)), n_species_(n_species) {
  if (n_species_ < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "symmetry functions need at least one species");
  if (!(config_.cutoff > 0.0) || config_.radial_count < 1 || !(config_.radial_r_min < config_.cutoff))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "symmetry functions: invalid cutoff {} / radial count {} / r_min {}",
         config_.cutoff, config_.radial_count, config_.radial_r_min);
  n_angular_ = static_cast<std::int64_t>(config_.lambda.size() * config_.zeta.size() * config_.angular_eta.size());
  // The "shifted" grid: centres evenly spread over [r_min, rc], Gaussians as wide as the spacing.
  const std::int64_t n = config_.radial_count;
  const double span = config_.cutoff - config_.radial_r_min;
  const double dr = n > 1 ? span / static_cast<double>(n - 1) : span;
  for (std::int64_t m = 0; m < n; ++m) {
    radial_rs_.push_back(config_.radial_r_min + static_cast<double>(m) * (n > 1 ? dr : 0.0));
    radial_eta_.push_back(1.0 / (2.0 * dr * dr));
  }
}

std::int64_t SymmetryFunctions::pair_channel(std::int64_t a, std::int64_t b) const noexcept {
  if (a > b) std::swap(a, b);
  return a * n_species_ - a * (a - 1) / 2 + (b - a);
}

double SymmetryFunctions::cutoff_value(double r) const noexcept {
  const double x = r / config_.cutoff;
  if (x >= 1.0) return 0.0;
  if (config_.cutoff_function == CutoffFunction::cosine) return 0.5 * (std::cos(std::numbers::pi * x) + 1.0);
  return 1.0 + x * x * x * (-10.0 + x * (15.0 - 6.0 * x));
}

ad::Tensor SymmetryFunctions::cutoff_function(const ad::Tensor& r) const {
  if (config_.cutoff_function == CutoffFunction::cosine)
    return ad::cos(r * (std::numbers::pi / config_.cutoff)) * 0.5 + 0.5;
  return ad::polynomial(r * (1.0 / config_.cutoff), {1.0, 0.0, 0.0, -10.0, 15.0, -6.0});
}

ad::Tensor SymmetryFunctions::compute(const AtomGraph& graph) const {
  const double rc = config_.cutoff;
  if (graph.cutoff < rc * (1.0 - 1e-12))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "symmetry functions with cutoff {} need a graph built with at least that cutoff, got {}",
         rc, graph.cutoff);
  const std::int64_t n_atoms = graph.n_atoms;
  const ad::DType dtype = graph.dtype;
  const std::int64_t S = n_species_;
  const std::int64_t R = n_radial();
  const std::int64_t P = n_pairs();
  const std::vector<std::int32_t>& species = graph.species;
  const std::vector<std::int32_t>& centers = *graph.edge_center;
  const std::vector<std::int32_t>& neighbors = *graph.edge_neighbor;
  for (std::int32_t s : species)
    if (s < 0 || s >= S)
      fail(MATNN_ERROR_INVALID_ARGUMENT, "graph species index {} is out of range for {} species", s, S);

  // Edges shorter than rc (all of them when the graph was built with this cutoff), on the host.
  const std::vector<double> ev = graph.edge_vectors.to_vector();
  const auto n_edges = static_cast<std::int64_t>(centers.size());
  std::vector<std::int32_t> keep;
  keep.reserve(static_cast<std::size_t>(n_edges));
  for (std::int64_t e = 0; e < n_edges; ++e) {
    const double* v = &ev[static_cast<std::size_t>(3 * e)];
    if (v[0] * v[0] + v[1] * v[1] + v[2] * v[2] < rc * rc) keep.push_back(static_cast<std::int32_t>(e));
  }
  const auto m = static_cast<std::int64_t>(keep.size());
  ad::Tensor vectors = m == n_edges ? graph.edge_vectors : ad::gather_rows(graph.edge_vectors, ad::make_index(keep));

  // Radial functions: one row per edge, scattered to (center, neighbour species).
  std::vector<std::int32_t> radial_target(static_cast<std::size_t>(m));
  for (std::int64_t q = 0; q < m; ++q) {
    const std::int32_t e = keep[static_cast<std::size_t>(q)];
    radial_target[static_cast<std::size_t>(q)] = static_cast<std::int32_t>(centers[e] * S + species[neighbors[e]]);
  }
  const ad::Tensor r = ad::norm(vectors, -1, true);  // (m, 1)
  const ad::Tensor fc = cutoff_function(r);           // (m, 1)
  std::vector<double> neg_eta(radial_eta_.size());
  std::transform(radial_eta_.begin(), radial_eta_.end(), neg_eta.begin(), [](double x) { return -x; });
  const ad::Tensor g2 = ad::exp(ad::square(r - constant_row(radial_rs_, dtype)) * constant_row(neg_eta, dtype)) * fc;
  const ad::Tensor radial =
      ad::reshape(ad::scatter_add_rows(g2, ad::make_index(std::move(radial_target)), n_atoms * S), {n_atoms, S * R});
  if (n_angular_ == 0) return radial;

  // Triplets: unordered pairs of kept edges of one center (for G4 also r_jk < rc).
  const bool narrow = config_.angular == AngularKind::narrow;
  std::vector<std::int32_t> e1, e2, target;
  std::int64_t begin = 0;
  while (begin < m) {
    const std::int32_t center = centers[keep[static_cast<std::size_t>(begin)]];
    std::int64_t end = begin + 1;
    while (end < m && centers[keep[static_cast<std::size_t>(end)]] == center) ++end;
    for (std::int64_t a = begin; a < end; ++a) {
      const std::int32_t ea = keep[static_cast<std::size_t>(a)];
      const double* va = &ev[static_cast<std::size_t>(3 * ea)];
      const std::int64_t sa = species[neighbors[ea]];
      for (std::int64_t b = a + 1; b < end; ++b) {
        const std::int32_t eb = keep[static_cast<std::size_t>(b)];
        if (narrow) {
          const double* vb = &ev[static_cast<std::size_t>(3 * eb)];
          const double dx = vb[0] - va[0], dy = vb[1] - va[1], dz = vb[2] - va[2];
          if (dx * dx + dy * dy + dz * dz >= rc * rc) continue;
        }
        e1.push_back(static_cast<std::int32_t>(a));
        e2.push_back(static_cast<std::int32_t>(b));
        target.push_back(static_cast<std::int32_t>(center * P + pair_channel(sa, species[neighbors[eb]])));
      }
    }
    begin = end;
  }
  Triplets triplets;
  triplets.count = static_cast<std::int64_t>(e1.size());
  triplets.edge1 = ad::make_index(std::move(e1));
  triplets.edge2 = ad::make_index(std::move(e2));
  triplets.target = ad::make_index(std::move(target));
  const ad::Tensor angular = triplets.count == 0 ? ad::zeros({n_atoms, P * n_angular_}, dtype)
                                                 : angular_terms(vectors, r, fc, triplets, n_atoms);
  return ad::concat({radial, ad::reshape(angular, {n_atoms, P * n_angular_})}, 1);
}

// All angular functions of all triplets in one set of ops: a (t, E) block of
// 2 exp(-eta sum r^2) prod fc times a (t, L*Z) block of ((1 + lambda cos) / 2)^zeta, joined by
// one broadcast product into (t, E*L*Z) and scattered to (center, species pair) rows.
ad::Tensor SymmetryFunctions::angular_terms(const ad::Tensor& vectors, const ad::Tensor& r, const ad::Tensor& fc,
                                            const Triplets& triplets, std::int64_t n_atoms) const {
  const ad::DType dtype = vectors.dtype();
  const std::int64_t t = triplets.count;
  const ad::Tensor v1 = ad::gather_rows(vectors, triplets.edge1);
  const ad::Tensor v2 = ad::gather_rows(vectors, triplets.edge2);
  const ad::Tensor r1 = ad::gather_rows(r, triplets.edge1);
  const ad::Tensor r2 = ad::gather_rows(r, triplets.edge2);
  const ad::Tensor cos_t = ad::sum(v1 * v2, -1, true) / (r1 * r2);  // (t, 1)
  ad::Tensor fc_prod = ad::gather_rows(fc, triplets.edge1) * ad::gather_rows(fc, triplets.edge2);
  ad::Tensor r_sq = ad::square(r1) + ad::square(r2);
  if (config_.angular == AngularKind::narrow) {
    const ad::Tensor r3 = ad::norm(v2 - v1, -1, true);
    fc_prod = fc_prod * cutoff_function(r3);
    r_sq = r_sq + ad::square(r3);
  }
  std::vector<double> neg_eta(config_.angular_eta.size());
  std::transform(config_.angular_eta.begin(), config_.angular_eta.end(), neg_eta.begin(), [](double x) { return -x; });
  const ad::Tensor radial_part = ad::exp(r_sq * constant_row(neg_eta, dtype)) * (fc_prod * 2.0);  // (t, E)

  // 2^(1-zeta) (1 + lambda cos)^zeta = 2 ((1 + lambda cos) / 2)^zeta; the 2 goes to fc_prod.
  const ad::Tensor half_cos = cos_t * 0.5;
  std::vector<ad::Tensor> powers;
  for (std::int64_t lambda : config_.lambda) {
    const ad::Tensor base = lambda > 0 ? half_cos + 0.5 : 0.5 - half_cos;
    for (std::int64_t zeta : config_.zeta) powers.push_back(zeta == 1 ? base : ad::pow(base, static_cast<int>(zeta)));
  }
  const auto A = static_cast<std::int64_t>(powers.size());
  const auto E = static_cast<std::int64_t>(neg_eta.size());
  const ad::Tensor angular_part = ad::concat(powers, 1);  // (t, A)
  // Broadcast with the longer axis (A) innermost: layout (eta, lambda, zeta).
  const ad::Tensor terms =
      ad::reshape(ad::reshape(radial_part, {t, E, 1}) * ad::reshape(angular_part, {t, 1, A}), {t, E * A});
  return ad::scatter_add_rows(terms, triplets.target, n_atoms * n_pairs());
}

}  // namespace matnn::potentials
