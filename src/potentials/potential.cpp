#include "potentials/potential.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "autodiff/ops.hpp"
#include "potentials/atom_blocks.hpp"
#include "matnn/error.hpp"
#include "models/state_file.hpp"

namespace matnn::potentials {
namespace {

ad::Tensor constant_vector(const std::vector<double>& values, ad::DType dtype) {
  const ad::Shape shape{static_cast<std::int64_t>(values.size())};
  if (dtype == ad::DType::f64) return ad::from_vector(values, shape);
  return ad::from_vector(std::vector<float>(values.begin(), values.end()), shape);
}

}  // namespace

std::string stress_unavailable_reason(const Structure& s) {
  static constexpr const char* axis = "xyz";
  static constexpr const char* vector = "abc";
  const int n_periodic = static_cast<int>(s.pbc[0]) + static_cast<int>(s.pbc[1]) + static_cast<int>(s.pbc[2]);
  if (n_periodic == 3) return {};
  if (n_periodic < 2) {
    return fmt::format("stress needs a fully periodic cell or a slab (two periodic directions); this structure has {} "
                       "periodic direction{}", n_periodic, n_periodic == 1 ? "" : "s");
  }
  int k = 0;  // the non-periodic lattice vector, paired with Cartesian axis k
  while (s.pbc[static_cast<std::size_t>(k)]) ++k;
  const double lengths = s.cell.row(0).norm() * s.cell.row(1).norm() * s.cell.row(2).norm();
  if (!(s.volume() > 1e-10 * lengths) || lengths == 0.0) {
    return fmt::format("stress of a slab needs a nonzero non-periodic cell vector {} (the stress is divided by the "
                       "volume of the whole cell, vacuum included)", vector[k]);
  }
  for (int j = 0; j < 3; ++j) {
    if (j == k) continue;
    const double length = s.cell.row(j).norm();
    if (std::abs(s.cell(j, k)) > 1e-8 * length) {
      return fmt::format("stress of a slab needs its periodic cell vectors perpendicular to the Cartesian axis {} of its "
                         "non-periodic vector {}, but vector {} has {} component {:.6g} (rotate the slab so that its "
                         "periodic plane is the plane of the other two axes)", axis[k], vector[k], vector[j], axis[k],
                         s.cell(j, k));
    }
  }
  return {};
}

Potential::Potential(std::string architecture, const nlohmann::json& model_config, std::vector<int> species,
                     int ensemble, std::uint64_t seed)
    : architecture_(std::move(architecture)), species_(std::move(species)), seed_(seed) {
  if (ensemble < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "ensemble size must be >= 1, got {}", ensemble);
  if (species_.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "a potential needs at least one species");
  for (int k = 0; k < ensemble; ++k) {
    members_.push_back(make_potential_model(architecture_, model_config, species_, seed + static_cast<std::uint64_t>(k)));
  }
  model_config_ = members_.front()->config();  // with every default filled in
  shift_.assign(species_.size(), 0.0);
}

double Potential::cutoff() const { return members_.front()->cutoff(); }

double Potential::interaction_range() const { return members_.front()->interaction_range(); }

int Potential::layers() const { return std::max(1, static_cast<int>(std::lround(interaction_range() / cutoff()))); }

void Potential::to(ad::DType dtype) {
  for (auto& m : members_) m->to(dtype);
  dtype_ = dtype;
}

void Potential::set_energy_scaling(std::vector<double> shift, double scale) {
  if (shift.size() != species_.size()) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} reference energies for {} species", shift.size(), species_.size());
  }
  if (!(scale > 0) || !std::isfinite(scale)) fail(MATNN_ERROR_INVALID_ARGUMENT, "energy scale must be positive, got {}", scale);
  shift_ = std::move(shift);
  scale_ = scale;
}

ad::Tensor Potential::atomic_energies(std::size_t k, const AtomGraph& graph) {
  const ad::Tensor outputs = members_.at(k)->atomic_outputs(graph);
  const ad::Tensor shift = ad::gather_rows(constant_vector(shift_, graph.dtype), graph.species_index);
  return ad::add(ad::mul(outputs, scale_), shift);
}

ad::Tensor Potential::structure_energies(std::size_t k, const AtomGraph& graph) {
  return ad::scatter_add_rows(atomic_energies(k, graph), graph.atom_structure, graph.n_structures);
}

std::vector<Potential::MemberResult> Potential::evaluate_members(const Structure& structure,
                                                                 std::span<const double> weights,
                                                                 const Needs& needs) const {
  const AtomGraph graph = build_graph(structure, species_, cutoff(), dtype_,
                                      {.neighbors = needs.neighbors,
                                       .energy_weights = weights,
                                       .layers = layers(),
                                       .inference = true});
  const bool gradient = needs.gradient || needs.atom_virials;
  const auto n = static_cast<Eigen::Index>(structure.size());
  // The models see outputs; E_i = scale * output_i + shift, so the outputs' weights carry the scale.
  std::vector<double> output_weights(weights.begin(), weights.end());
  for (double& w : output_weights) w *= scale_;
  const PairContribution core = core_repulsion_.evaluate(graph, species_, weights, gradient);
  std::vector<MemberResult> members;
  for (const auto& model : members_) {
    // compute() is logically const: members are only read. The engine's forward is non-const
    // because modules hand out parameter handles; nothing is written.
    AtomicEvaluation evaluation = const_cast<PotentialModel&>(*model).evaluate(graph, output_weights, gradient);
    MemberResult r;
    r.energies.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      r.energies[i] = scale_ * evaluation.outputs[static_cast<std::size_t>(i)] +
                      shift_[static_cast<std::size_t>(graph.species[static_cast<std::size_t>(i)])] +
                      core.atom_energies[static_cast<std::size_t>(i)];
      r.energy += weights[static_cast<std::size_t>(i)] * r.energies[i];
    }
    if (gradient) {
      for (std::size_t k = 0; k < core.edge_gradient.size(); ++k) evaluation.edge_gradient[k] += core.edge_gradient[k];
      EdgeGradientResult derivatives = forces_from_edge_gradient(graph, evaluation.edge_gradient, needs.atom_virials);
      r.forces = std::move(derivatives.forces);
      r.virial = derivatives.virials.front();
      r.atom_virials = std::move(derivatives.atom_virials);
    }
    members.push_back(std::move(r));
  }
  return members;
}

std::vector<Potential::MemberResult> Potential::evaluate_in_blocks(const Structure& structure,
                                                                   std::span<const double> weights, const Needs& needs,
                                                                   std::size_t block_atoms) const {
  // A host's own neighbour list comes with explicit ghosts: there is no periodic cell to cut.
  if (!needs.neighbors.empty()) return evaluate_members(structure, weights, needs);
  const BlockPlan plan(structure, interaction_range(), block_atoms);
  if (plan.size() == 1) return evaluate_members(structure, weights, needs);
  const bool gradient = needs.gradient || needs.atom_virials;
  // What build_graph would refuse, checked on the whole structure so that messages name its atoms.
  structure.validate();
  check_elements(structure, species_);
  const auto n = static_cast<Eigen::Index>(structure.size());
  std::vector<MemberResult> total(members_.size());
  for (MemberResult& m : total) {
    m.energies = Eigen::VectorXd::Zero(n);
    if (gradient) m.forces = Positions::Zero(n, 3);
    if (needs.atom_virials) m.atom_virials = AtomVirials::Zero(n, 6);
  }
  std::vector<double> block_weights;
  for (std::size_t b = 0; b < plan.size(); ++b) {
    const AtomBlock block = plan.block(b);
    const std::size_t size = block.original.size();
    block_weights.assign(size, 0.0);  // ghosts: their environments are cut off
    for (std::size_t j = 0; j < block.owned; ++j) block_weights[j] = weights[block.original[j]];
    std::vector<MemberResult> part;
    try {
      part = evaluate_members(block.cluster, block_weights, needs);
    } catch (const Error& e) {
      fail(e.status(), "block {} of {} (atoms numbered within the block, owned ones first): {}", b + 1, plan.size(),
           e.what());
    }
    for (std::size_t k = 0; k < total.size(); ++k) {
      total[k].energy += part[k].energy;
      for (std::size_t j = 0; j < block.owned; ++j) {
        total[k].energies[static_cast<Eigen::Index>(block.original[j])] = part[k].energies[static_cast<Eigen::Index>(j)];
      }
      if (!gradient) continue;
      for (std::size_t j = 0; j < size; ++j) {
        const auto to = static_cast<Eigen::Index>(block.original[j]);
        total[k].forces.row(to) += part[k].forces.row(static_cast<Eigen::Index>(j));
        if (needs.atom_virials) total[k].atom_virials.row(to) += part[k].atom_virials.row(static_cast<Eigen::Index>(j));
      }
      total[k].virial += part[k].virial;
    }
  }
  return total;
}

PotentialResult Potential::compute(const Structure& structure, const ComputeRequest& request) const {
  const auto n = static_cast<Eigen::Index>(structure.size());
  const bool want_stress = request.stress && stress_unavailable_reason(structure).empty();
  std::vector<double> weights(static_cast<std::size_t>(n), 1.0);
  if (!request.energy_weights.empty()) {
    if (request.energy_weights.size() != weights.size())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{} energy weights for {} atoms", request.energy_weights.size(), n);
    weights.assign(request.energy_weights.begin(), request.energy_weights.end());
  }
  const Needs needs{.gradient = request.forces || want_stress,
                    .atom_virials = request.atom_virials,
                    .neighbors = request.neighbors};
  const std::vector<MemberResult> members = evaluate_in_blocks(structure, weights, needs, request.block_atoms);

  PotentialResult out;
  const double count = static_cast<double>(members.size());
  out.energies = Eigen::VectorXd::Zero(n);
  out.forces = Positions::Zero(n, 3);
  Eigen::Matrix3d virial = Eigen::Matrix3d::Zero();
  if (request.atom_virials) out.atom_virials = AtomVirials::Zero(n, 6);
  for (const auto& m : members) {
    out.energy += m.energy / count;
    out.energies += m.energies / count;
    if (request.forces) out.forces += m.forces / count;
    virial += m.virial / count;
    if (request.atom_virials) out.atom_virials += m.atom_virials / count;
  }
  if (want_stress) {
    // ASE: stress = (1/V) dE/d(strain), symmetrised (the energy is rotation invariant, so the
    // antisymmetric part is round-off). V is the whole cell's volume, a slab's vacuum included.
    // For a slab the components along its non-periodic axis are 0 by convention (potential.hpp):
    // straining a direction without images only moves atoms apart, it is no stress of a lattice.
    Eigen::Matrix3d sigma = 0.5 * (virial + virial.transpose()) / structure.volume();
    for (int a = 0; a < 3; ++a) {
      for (int b = 0; b < 3; ++b) {
        if (!structure.pbc[static_cast<std::size_t>(a)] || !structure.pbc[static_cast<std::size_t>(b)]) sigma(a, b) = 0.0;
      }
    }
    out.stress = {sigma(0, 0), sigma(1, 1), sigma(2, 2), sigma(1, 2), sigma(0, 2), sigma(0, 1)};
    out.has_stress = true;
  }
  out.force_deviation = Eigen::VectorXd::Zero(n);
  if (members.size() > 1) {
    double variance = 0.0;
    for (const auto& m : members) variance += (m.energy - out.energy) * (m.energy - out.energy) / count;
    out.energy_sigma = std::sqrt(variance);
    if (request.forces) {
      for (const auto& m : members) out.force_deviation += (m.forces - out.forces).rowwise().squaredNorm() / count;
      out.force_deviation = out.force_deviation.cwiseSqrt();
      out.max_force_deviation = n > 0 ? out.force_deviation.maxCoeff() : 0.0;
    }
  }
  return out;
}

void Potential::save(const std::string& path, const nlohmann::json& provenance) const {
  models::StateFile file;
  file.kind = file_kind;
  file.config = {{"architecture", architecture_}, {"model", model_config_}, {"species", species_},
                 {"ensemble", members_.size()},  {"seed", seed_},           {"shift", shift_},
                 {"scale", scale_},              {"provenance", provenance}};
  if (core_repulsion_.enabled()) file.config["core_repulsion"] = core_repulsion_.to_json();
  for (std::size_t k = 0; k < members_.size(); ++k) file.tensors["member." + std::to_string(k)] = members_[k]->state();
  models::write_state_file(path, file);
}

Potential Potential::load(const std::string& path) {
  const models::StateFile file = models::read_state_file(path, models::model_format, file_kind);
  try {
    const auto& c = file.config;
    nlohmann::json model = c.at("model");
    // Behler-Parrinello files written before model.input_scaling existed were standardised
    // by the standard deviation; the default is now the range.
    if (c.at("architecture") == "behler_parrinello" && model.is_object() && !model.contains("input_scaling"))
      model["input_scaling"] = "standard";
    Potential p(c.at("architecture").get<std::string>(), model, c.at("species").get<std::vector<int>>(),
                c.at("ensemble").get<int>(), c.at("seed").get<std::uint64_t>());
    p.set_energy_scaling(c.at("shift").get<std::vector<double>>(), c.at("scale").get<double>());
    if (c.contains("core_repulsion")) p.set_core_repulsion(CoreRepulsion::from_json(c.at("core_repulsion")));
    // Members take the precision the weights were stored in (model.precision of the training run):
    // loading float64 weights into float32 members would round them for good.
    const auto& first = file.tensors.at("member.0");
    if (!first.empty() && first.begin()->second.dtype() == ad::DType::f64) p.to(ad::DType::f64);
    for (std::size_t k = 0; k < p.members_.size(); ++k) p.members_[k]->load_state(file.tensors.at("member." + std::to_string(k)));
    return p;
  } catch (const nlohmann::json::exception& e) {
    fail(MATNN_ERROR_MODEL, "{}: potential config is incomplete: {}", path, e.what());
  } catch (const std::out_of_range&) {
    fail(MATNN_ERROR_MODEL, "{}: a member's parameters are missing", path);
  } catch (const Error& e) {
    fail(MATNN_ERROR_MODEL, "{}: {}", path, e.what());
  }
}

}  // namespace matnn::potentials
