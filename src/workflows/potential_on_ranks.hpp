// A potential evaluated over the structures of a dataset by all ranks of a job together:
// `mpirun -np N matnn eval` and `matnn predict`, and the test metrics at the end of training.
// Each rank computes the structures dealt to it (by atom count, preferring the rank that holds
// the structure: parallel/deal.hpp), and rank 0 receives every result, with its record, in the
// dataset's order, equal bit for bit to a serial run's: the results are passed, not summed.
// Rank 0 writes the outputs, so it alone reads the structures that other ranks hold.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "matnn/record.hpp"
#include "workflows/dataset_rows.hpp"
#include "parallel/communicator.hpp"
#include "potentials/potential.hpp"

namespace matnn::workflows {

/// What to compute for one structure (per-atom virials are not passed between ranks: refused).
using RequestFor = std::function<potentials::ComputeRequest(const Record&)>;
/// Takes the result of a row with its record, on rank 0, in the order of `rows`.
using ResultSink = std::function<void(std::size_t row, const Record& record, const potentials::PotentialResult&)>;

/// Calls `sink`, on rank 0 of `comm`, with the row's record and potential.compute(record,
/// request(record)) for every row of `rows`, in order. Rows go in chunks of `chunk` structures,
/// so memory holds one chunk's records and results, not the dataset's. An exception on any
/// rank, in a computation or in rank 0's sink, is thrown on every rank ("rank R: message",
/// Communicator::rethrow_first), never leaving one waiting.
void for_each_result(const potentials::Potential& potential, DatasetRows& data,
                     const std::vector<std::size_t>& rows, const RequestFor& request, const ResultSink& sink,
                     const parallel::Communicator& comm, std::size_t chunk = 512);

}  // namespace matnn::workflows
