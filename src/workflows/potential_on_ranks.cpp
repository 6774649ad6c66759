#include "workflows/potential_on_ranks.hpp"

#include <algorithm>
#include <exception>

#include "matnn/error.hpp"
#include "parallel/deal.hpp"

namespace matnn::workflows {
namespace {

using potentials::PotentialResult;

// A result as doubles: row, energy, energy_sigma, max_force_deviation, has_stress, stress[6],
// then the lengths and values of energies, forces (rows x 3, row-major) and force_deviation.
void pack(std::size_t row, const PotentialResult& r, std::vector<double>& out) {
  out.push_back(static_cast<double>(row));
  out.insert(out.end(), {r.energy, r.energy_sigma, r.max_force_deviation, r.has_stress ? 1.0 : 0.0});
  out.insert(out.end(), r.stress.begin(), r.stress.end());
  out.push_back(static_cast<double>(r.energies.size()));
  out.insert(out.end(), r.energies.data(), r.energies.data() + r.energies.size());
  out.push_back(static_cast<double>(r.forces.rows()));
  for (Eigen::Index i = 0; i < r.forces.rows(); ++i)
    for (int k = 0; k < 3; ++k) out.push_back(r.forces(i, k));
  out.push_back(static_cast<double>(r.force_deviation.size()));
  out.insert(out.end(), r.force_deviation.data(), r.force_deviation.data() + r.force_deviation.size());
}

// Reads one packed result at `at`, advancing it.
PotentialResult unpack(const std::vector<double>& in, std::size_t& at, std::size_t& row) {
  const auto next = [&] {
    if (at >= in.size()) fail(MATNN_ERROR_INTERNAL, "potential results from another rank are truncated");
    return in[at++];
  };
  const auto length = [&] { return static_cast<Eigen::Index>(next()); };
  PotentialResult r;
  row = static_cast<std::size_t>(next());
  r.energy = next();
  r.energy_sigma = next();
  r.max_force_deviation = next();
  r.has_stress = next() != 0.0;
  for (double& s : r.stress) s = next();
  r.energies.resize(length());
  for (double& e : r.energies) e = next();
  r.forces.resize(length(), 3);
  for (Eigen::Index i = 0; i < r.forces.rows(); ++i)
    for (int k = 0; k < 3; ++k) r.forces(i, k) = next();
  r.force_deviation.resize(length());
  for (double& d : r.force_deviation) d = next();
  return r;
}

}  // namespace

void for_each_result(const potentials::Potential& potential, DatasetRows& data, const std::vector<std::size_t>& rows,
                     const RequestFor& request, const ResultSink& sink, const parallel::Communicator& comm,
                     std::size_t chunk) {
  // The default chunk is large enough that the collectives cost nothing next to the potential,
  // small enough that a chunk's results (forces of every atom) stay a few MB.
  if (chunk == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "for_each_result: chunks of 0 structures");
  const auto compute = [&](const Record& r) {
    const potentials::ComputeRequest wanted = request(r);
    if (wanted.atom_virials) fail(MATNN_ERROR_INTERNAL, "for_each_result does not pass per-atom virials");
    return potential.compute(r.structure, wanted);
  };
  std::exception_ptr failure;
  for (std::size_t begin = 0; begin < rows.size(); begin += chunk) {
    const std::size_t end = std::min(rows.size(), begin + chunk);
    const std::span<const std::size_t> part(rows.data() + begin, end - begin);
    if (comm.size() == 1) {
      const std::vector<const Record*> records = data.records(part);
      for (std::size_t k = 0; k < part.size(); ++k) sink(part[k], *records[k], compute(*records[k]));
      continue;
    }
    std::vector<double> costs;
    std::vector<int> homes;
    for (std::size_t row : part) {
      costs.push_back(static_cast<double>(data.summary(row).atoms));
      homes.push_back(data.home(row));
    }
    const std::vector<int> owner = parallel::deal_to_ranks(costs, homes, comm.size());
    // Rank 0 fetches the whole chunk (its sink needs every record), the others their own rows.
    std::vector<double> mine;
    std::vector<const Record*> records;
    if (!failure) {
      try {
        std::vector<std::size_t> owned;  // positions in part
        for (std::size_t k = 0; k < part.size(); ++k)
          if (comm.is_root() || owner[k] == comm.rank()) owned.push_back(k);
        std::vector<std::size_t> fetch;
        for (std::size_t k : owned) fetch.push_back(part[k]);
        records = data.records(fetch);
        for (std::size_t j = 0; j < owned.size(); ++j)
          if (owner[owned[j]] == comm.rank()) pack(part[owned[j]], compute(*records[j]), mine);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    comm.rethrow_first(failure);
    const std::vector<std::vector<double>> all = comm.all_gather(mine);
    if (!comm.is_root()) continue;
    // Each rank's results are in row order; take them back in the order of `rows`.
    std::vector<std::size_t> at(all.size(), 0);
    try {
      for (std::size_t k = 0; k < part.size(); ++k) {
        const auto r = static_cast<std::size_t>(owner[k]);
        std::size_t row = 0;
        const PotentialResult result = unpack(all[r], at[r], row);
        if (row != part[k]) fail(MATNN_ERROR_INTERNAL, "rank {} sent structure {} where {} was expected", r, row, part[k]);
        sink(row, *records[k], result);
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }
  comm.rethrow_first(failure);
}

}  // namespace matnn::workflows
