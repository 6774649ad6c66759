// The ranks of a data-parallel job. With MPI (a build with MATNN_WITH_MPI, started by mpirun or
// handed a communicator by a host) a Communicator is a private duplicate of an MPI communicator;
// otherwise, and by default, it is the single rank of a serial run. mpi.h stays inside
// communicator.cpp, so that nothing else in matnn (nor the C ABI) depends on which MPI, if any,
// the library was built with.
//
// The collectives are those training needs. Sums are bit-identical on every rank (a reduction to
// rank 0 followed by a broadcast, since MPI_Allreduce does not promise one rounding on all
// ranks), so that ranks applying the same optimiser step keep bit-identical weights.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <vector>

#include "matnn/error.hpp"

namespace matnn::parallel {

/// True when this build of matnn was made with MPI (MATNN_WITH_MPI).
bool built_with_mpi() noexcept;

class Communicator {
 public:
  /// The duplicated MPI_Comm, freed with the last copy of the Communicator (defined, and only
  /// usable, in communicator.cpp).
  struct Handle;

  /// The one rank of a serial run.
  Communicator();
  /// A communicator over a duplicated MPI_Comm (communicator.cpp makes them).
  explicit Communicator(std::shared_ptr<Handle> handle);

  /// MPI_COMM_WORLD (duplicated) once MpiSession or the host has initialised MPI; the serial
  /// communicator otherwise.
  static Communicator world();

  /// A duplicate of the host's communicator given as its Fortran handle (MPI_Comm_c2f in C,
  /// the integer of `use mpi` in Fortran). MATNN_ERROR_UNSUPPORTED in a build without MPI,
  /// MATNN_ERROR_MPI when MPI is not initialised or the handle is not a communicator.
  static Communicator from_fortran_handle(std::int64_t handle);

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  bool is_root() const noexcept { return rank_ == 0; }

  /// values <- their sum over all ranks, the same bits on every rank.
  void sum(std::span<double> values) const;
  /// values <- root's values.
  void broadcast(std::span<double> values, int root = 0) const;
  /// bytes <- root's bytes (every rank passes as many).
  void broadcast(std::span<std::uint8_t> bytes, int root = 0) const;
  /// Every rank's `mine` (of any length), indexed by rank, on every rank: how ranks that each
  /// computed a share of a dataset's results pass them to all.
  std::vector<std::vector<double>> all_gather(std::span<const double> mine) const;
  /// The same for bytes (records or summaries serialised by the caller).
  std::vector<std::vector<std::uint8_t>> all_gather(std::span<const std::uint8_t> mine) const;
  /// True on every rank when `value` is true on every rank.
  bool all(bool value) const;
  /// The largest of `value` over the ranks.
  std::uint64_t max(std::uint64_t value) const;
  /// Collective: when `failure` holds an error on some ranks, every rank throws the error of the
  /// lowest of them (its status, and its message prefixed with "rank R: "); returns when no rank
  /// failed. So one rank's exception stops all ranks together instead of leaving the others
  /// waiting in their next collective.
  void rethrow_first(const std::exception_ptr& failure) const;

 private:
  std::shared_ptr<Handle> handle_;
  int rank_ = 0;
  int size_ = 1;
};

/// Thrown on the ranks that learn inside a collective that another rank has failed (a
/// synchronised batch normalisation carries the flag): that rank reports its own error through
/// rethrow_first(), so a caller that catches this one passes on no failure of its own.
class PeerFailure : public Error {
 public:
  PeerFailure() : Error(MATNN_ERROR_MPI, "another rank failed during a synchronised step") {}
};

/// The number of processes an MPI launcher (mpirun, mpiexec, srun) started this one among, from the
/// variables it sets (1 when there are none). A process that a rank started inherits them.
int launched_processes();

/// Initialises MPI for the lifetime of a program (`matnn train`) when it was started by an MPI
/// launcher, and finalises it at the end; does nothing in a build without MPI, in a program
/// started on its own (which then runs on one rank), or when the environment has MATNN_MPI=off
/// (any value but off and on is an error)
/// (for a `matnn train` that a rank of an MPI job runs as a subprocess, which Open MPI does not let
/// initialise MPI a second time).
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  /// Ends every rank of the job with `status` after one failed: the others would otherwise wait
  /// forever in their next collective. Returns (does nothing) in a run on one rank.
  static void abort_job(int status);

 private:
  bool initialised_here_ = false;
};

}  // namespace matnn::parallel
