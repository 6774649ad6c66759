#include "potentials/behler_parrinello.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/elements.hpp"
#include "matnn/error.hpp"
#include "nn/seed_mix.hpp"
#include "train/config.hpp"

namespace matnn::potentials {
namespace {

// The keys live in the model section of a training config, so messages name them model.<key>.
constexpr const char* kConfigPath = "model";

using nn::splitmix64;

// The scale of every function per element: `values` holds F functions per atom, `species` each
// atom's element; `mean` and `count` are per element over every rank's atoms, as is the result.
// The population standard deviation:
std::vector<double> deviations_over_ranks(const std::vector<double>& values, std::span<const std::int32_t> species,
                                          std::size_t F, std::span<const double> mean, std::span<const double> count,
                                          const parallel::Communicator& comm) {
  std::vector<double> deviation(mean.size(), 0.0);  // sums of squared deviations first
  for (std::size_t i = 0; i < species.size(); ++i) {
    const std::size_t row = static_cast<std::size_t>(species[i]) * F;
    for (std::size_t f = 0; f < F; ++f) {
      const double d = values[i * F + f] - mean[row + f];
      deviation[row + f] += d * d;
    }
  }
  comm.sum(deviation);
  for (std::size_t k = 0; k < deviation.size(); ++k)
    deviation[k] = count[k / F] > 0 ? std::sqrt(deviation[k] / count[k / F]) : 0.0;
  return deviation;
}

// ... and the range, max - min (0 for an element without atoms):
std::vector<double> ranges_over_ranks(const std::vector<double>& values, std::span<const std::int32_t> species,
                                      std::size_t F, std::size_t n_species, const parallel::Communicator& comm) {
  // Each rank's highest values, then its lowest ones negated, so that one max combines the ranks.
  const std::size_t n = n_species * F;
  std::vector<double> extremes(2 * n, -std::numeric_limits<double>::infinity());
  for (std::size_t i = 0; i < species.size(); ++i) {
    const std::size_t row = static_cast<std::size_t>(species[i]) * F;
    for (std::size_t f = 0; f < F; ++f) {
      extremes[row + f] = std::max(extremes[row + f], values[i * F + f]);
      extremes[n + row + f] = std::max(extremes[n + row + f], -values[i * F + f]);
    }
  }
  for (const std::vector<double>& theirs : comm.all_gather(extremes))
    for (std::size_t j = 0; j < extremes.size(); ++j) extremes[j] = std::max(extremes[j], theirs[j]);
  std::vector<double> range(n, 0.0);
  for (std::size_t k = 0; k < n; ++k)
    if (std::isfinite(extremes[k])) range[k] = extremes[k] + extremes[n + k];
  return range;
}

}  // namespace

BehlerParrinello::Options BehlerParrinello::parse(const nlohmann::json& config) {
  const train::ConfigSection root(config, kConfigPath);
  Options o;
  o.functions = SymmetryFunctionConfig::read(root, config);
  o.hidden = root.integers("hidden", {24, 24});
  if (o.hidden.empty())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.hidden must list at least one layer width (an empty list is a linear model)",
         kConfigPath);
  for (std::int64_t h : o.hidden)
    if (h < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.hidden must hold positive widths, got {}", kConfigPath, h);
  const std::string activation = root.string("activation", "tanh");
  try {
    o.activation = nn::activation_from_name(activation);
  } catch (const Error& e) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.activation: {}", kConfigPath, e.what());
  }
  if (o.activation == nn::ActivationKind::relu)
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "{}.activation must be smooth (relu's kink makes forces discontinuous); use tanh, silu, softplus, ...",
         kConfigPath);
  const std::string scaling = root.string("input_scaling", "range");
  if (scaling == "standard")
    o.input_scaling = InputScaling::standard;
  else if (scaling == "range")
    o.input_scaling = InputScaling::range;
  else
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.input_scaling must be \"standard\" or \"range\", got \"{}\"", kConfigPath,
         scaling);
  root.finish();
  return o;
}

BehlerParrinello::BehlerParrinello(const nlohmann::json& config, const std::vector<int>& species, std::uint64_t seed)
    : BehlerParrinello(parse(config), species, seed) {}

BehlerParrinello::BehlerParrinello(Options options, const std::vector<int>& species, std::uint64_t seed)
    : species_(species),
      functions_(std::move(options.functions), static_cast<std::int64_t>(species.size())),
      hidden_(std::move(options.hidden)),
      activation_(options.activation),
      input_scaling_(options.input_scaling) {
  for (std::size_t a = 0; a < species_.size(); ++a) {
    if (!is_known_atomic_number(species_[a]))
      fail(MATNN_ERROR_INVALID_ARGUMENT, "behler_parrinello: unknown atomic number {} in the species list", species_[a]);
    for (std::size_t b = 0; b < a; ++b)
      if (species_[a] == species_[b])
        fail(MATNN_ERROR_INVALID_ARGUMENT, "behler_parrinello: element {} appears twice in the species list",
             element(species_[a]).symbol);
  }
  const auto n_species = static_cast<std::int64_t>(species_.size());
  const std::int64_t n_features = functions_.n_features();
  input_mean_ = ad::zeros({n_species, n_features});
  input_std_ = ad::ones({n_species, n_features});
  register_buffer("input_mean", &input_mean_);
  register_buffer("input_std", &input_std_);
  for (int z : species_) {
    nn::MlpConfig mlp;
    mlp.input = n_features;
    mlp.hidden = hidden_;
    mlp.output = 1;
    mlp.activation = activation_;
    mlp.seed = splitmix64(seed ^ splitmix64(static_cast<std::uint64_t>(z)));
    networks_.push_back(nn::make_mlp(mlp));
    network_dict_.add(element(z).symbol, networks_.back());
  }
  register_module("network", &network_dict_);
}

nlohmann::json BehlerParrinello::config() const {
  nlohmann::json out = nlohmann::json::object();
  functions_.config().write(out);
  out["hidden"] = hidden_;
  out["activation"] = nn::activation_name(activation_);
  out["input_scaling"] = input_scaling_ == InputScaling::range ? "range" : "standard";
  return out;
}

void BehlerParrinello::check_graph(const AtomGraph& graph) const {
  if (graph.dtype != input_mean_.dtype())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "behler_parrinello: the graph is {} but the model is {} (call to())",
         ad::dtype_name(graph.dtype), ad::dtype_name(input_mean_.dtype()));
  if (static_cast<std::int64_t>(graph.species.size()) != graph.n_atoms)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "behler_parrinello: the graph has {} species entries for {} atoms",
         graph.species.size(), graph.n_atoms);
}

ad::Tensor BehlerParrinello::symmetry_function_values(const AtomGraph& graph) const {
  check_graph(graph);
  return functions_.compute(graph);
}

ad::Tensor BehlerParrinello::standardized_inputs(const AtomGraph& graph) const {
  const ad::Tensor x = symmetry_function_values(graph);
  return (x - ad::gather_rows(input_mean_, graph.species_index)) / ad::gather_rows(input_std_, graph.species_index);
}

ad::Tensor BehlerParrinello::atomic_outputs(const AtomGraph& graph) {
  return outputs_from_features(symmetry_function_values(graph), graph.species);
}

AtomicEvaluation BehlerParrinello::evaluate(const AtomGraph& graph, std::span<const double> weights, bool gradient) {
  check_graph(graph);
  // The symmetry functions and their derivatives (the bulk of the work) bypass the engine; the
  // networks, a few GEMMs on the (atoms, n_features) batch, still go through it.
  AtomicEvaluation out;
  const std::int64_t F = n_features();
  if (!gradient) {
    const std::vector<double> features = functions_.values(graph);
    ad::NoGradGuard no_grad;
    out.outputs = outputs_from_features(ad::to(ad::from_vector(features, {graph.n_atoms, F}), graph.dtype), graph.species)
                      .to_vector();
    return out;
  }
  if (weights.size() != static_cast<std::size_t>(graph.n_atoms))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "behler_parrinello: {} energy weights for {} atoms", weights.size(), graph.n_atoms);
  // Each atom's energy reads only its own functions, so the networks can run block by block
  // between the functions' forward and backward passes, which then share their per-triplet terms
  // instead of forming them twice. 64 atoms keep a block's terms (about 100 kB per atom at
  // n2p2's size) within the caches and the engine's per-call overhead small.
  constexpr std::int64_t block_atoms = 64;
  out.outputs.assign(static_cast<std::size_t>(graph.n_atoms), 0.0);
  std::vector<double> features;
  functions_.values_and_edge_gradient(
      graph, block_atoms,
      [&](std::int64_t first, std::int64_t count, const double* values, double* feature_gradient) {
        ad::GradModeGuard record(true);
        const ad::FrozenParametersGuard constants;  // gradients by the functions only
        ad::Tensor x = ad::to(ad::from_vector(std::vector<double>(values, values + count * F), {count, F}), graph.dtype);
        x.set_requires_grad(true);
        const auto atoms = static_cast<std::size_t>(first), n = static_cast<std::size_t>(count);
        const ad::Tensor outputs = outputs_from_features(x, std::span(graph.species).subspan(atoms, n));
        const std::vector<double> o = outputs.to_vector();
        std::copy(o.begin(), o.end(), out.outputs.begin() + first);
        const std::vector<double> g =
            ad::grad({weighted_sum(outputs, weights.subspan(atoms, n))}, {x}, {}, false, true)[0].to_vector();
        std::copy(g.begin(), g.end(), feature_gradient);
      },
      features, out.edge_gradient);
  return out;
}

ad::Tensor BehlerParrinello::outputs_from_features(const ad::Tensor& x, std::span<const std::int32_t> species) {
  const auto n_atoms = static_cast<std::int64_t>(species.size());
  if (n_atoms == 0) return ad::zeros({0}, x.dtype());
  // Atoms grouped by element; each group goes through its own network.
  std::vector<std::vector<std::int32_t>> groups(species_.size());
  for (std::int64_t i = 0; i < n_atoms; ++i)
    groups[static_cast<std::size_t>(species[static_cast<std::size_t>(i)])].push_back(static_cast<std::int32_t>(i));
  std::vector<ad::Tensor> outputs;
  std::vector<std::int32_t> order;
  order.reserve(static_cast<std::size_t>(n_atoms));
  for (std::size_t e = 0; e < groups.size(); ++e) {
    if (groups[e].empty()) continue;
    const auto row = static_cast<std::int64_t>(e);
    const bool all = groups[e].size() == static_cast<std::size_t>(n_atoms);
    const ad::Tensor xe = all ? x : ad::gather_rows(x, ad::make_index(groups[e]));
    const ad::Tensor standardized =
        (xe - ad::slice(input_mean_, 0, row, row + 1)) / ad::slice(input_std_, 0, row, row + 1);
    const ad::Tensor out = networks_[e]->forward(standardized);  // (n_e, 1)
    if (all) return ad::reshape(out, {n_atoms});
    outputs.push_back(out);
    order.insert(order.end(), groups[e].begin(), groups[e].end());
  }
  const ad::Tensor joined = ad::concat(outputs, 0);
  return ad::reshape(ad::scatter_add_rows(joined, ad::make_index(std::move(order)), n_atoms), {n_atoms});
}

void BehlerParrinello::fit_input_statistics(const AtomGraph& graph, const parallel::Communicator& comm) {
  std::vector<double> values;
  {
    ad::NoGradGuard no_grad;
    values = symmetry_function_values(graph).to_vector();
  }
  const std::size_t S = species_.size();
  const auto F = static_cast<std::size_t>(n_features());
  // Counts and sums over the ranks' atoms, then the mean and the scale.
  std::vector<double> count_and_sum(S + S * F, 0.0);
  double* count = count_and_sum.data();
  double* mean = count_and_sum.data() + S;
  std::vector<double> stdev(S * F, 1.0);
  const auto n_atoms = static_cast<std::size_t>(graph.n_atoms);
  for (std::size_t i = 0; i < n_atoms; ++i) {
    const auto s = static_cast<std::size_t>(graph.species[i]);
    count[s] += 1.0;
    for (std::size_t f = 0; f < F; ++f) mean[s * F + f] += values[i * F + f];
  }
  comm.sum(count_and_sum);
  for (std::size_t s = 0; s < S; ++s)
    for (std::size_t f = 0; f < F; ++f)
      if (count[s] > 0) mean[s * F + f] /= count[s];
  const std::vector<double> spread =
      input_scaling_ == InputScaling::range
          ? ranges_over_ranks(values, graph.species, F, S, comm)
          : deviations_over_ranks(values, graph.species, F, std::span<const double>(mean, S * F),
                                  std::span<const double>(count, S), comm);
  for (std::size_t k = 0; k < S * F; ++k) {
    if (count[k / F] == 0) continue;
    const double floor = 1e-6 * std::abs(mean[k]);
    stdev[k] = (spread[k] < 1e-12 && std::abs(mean[k]) < 1e-12) ? 1.0 : std::max(spread[k], floor);
  }
  const auto rows = static_cast<std::int64_t>(S);
  const auto cols = static_cast<std::int64_t>(F);
  nn::copy_values(input_mean_, ad::from_vector(std::vector<double>(mean, mean + S * F), {rows, cols}));
  nn::copy_values(input_std_, ad::from_vector(stdev, {rows, cols}));
}

}  // namespace matnn::potentials
