#include "parallel/communicator.hpp"

#include <cstdlib>
#include <limits>
#include <new>
#include <utility>
#include <string>
#include <vector>

#include "matnn/error.hpp"

#ifdef MATNN_WITH_MPI
#include <mpi.h>
#endif

namespace matnn::parallel {

#ifdef MATNN_WITH_MPI
namespace {

// The status and message of a failure (MATNN_ERROR_INTERNAL for an exception that is not matnn's).
std::pair<matnn_status, std::string> describe(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const Error& e) {
    return {e.status(), e.what()};
  } catch (const std::bad_alloc&) {
    return {MATNN_ERROR_OUT_OF_MEMORY, "out of memory"};
  } catch (const std::exception& e) {
    return {MATNN_ERROR_INTERNAL, e.what()};
  } catch (...) {
    return {MATNN_ERROR_INTERNAL, "unknown exception"};
  }
}

}  // namespace
#endif

bool built_with_mpi() noexcept {
#ifdef MATNN_WITH_MPI
  return true;
#else
  return false;
#endif
}

int launched_processes() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS", "MPI_LOCALNRANKS"}) {
    if (const char* value = std::getenv(name)) {
      const int n = std::atoi(value);
      if (n > 0) return n;
    }
  }
  return 1;
}

#ifdef MATNN_WITH_MPI

struct Communicator::Handle {
  MPI_Comm comm = MPI_COMM_NULL;
  ~Handle() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised && comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};

namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  fail(MATNN_ERROR_MPI, "{} failed: {}", what, std::string(text, static_cast<std::size_t>(length)));
}

bool mpi_initialised() {
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  return initialised && !finalised;
}

}  // namespace

// A private duplicate of `comm`, whose errors come back as return codes (turned into matnn errors)
// instead of aborting the host.
namespace {

std::shared_ptr<Communicator::Handle> duplicate(MPI_Comm comm) {
  auto handle = std::make_shared<Communicator::Handle>();
  check(MPI_Comm_dup(comm, &handle->comm), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(handle->comm, MPI_ERRORS_RETURN);
  return handle;
}

}  // namespace

Communicator::Communicator() = default;

Communicator::Communicator(std::shared_ptr<Handle> handle) : handle_(std::move(handle)) {
  MPI_Comm_rank(handle_->comm, &rank_);
  MPI_Comm_size(handle_->comm, &size_);
}

Communicator Communicator::world() {
  if (!mpi_initialised()) return Communicator();
  return Communicator(duplicate(MPI_COMM_WORLD));
}

Communicator Communicator::from_fortran_handle(std::int64_t handle) {
  if (!mpi_initialised()) fail(MATNN_ERROR_MPI, "a communicator was given but MPI is not initialised (call MPI_Init first)");
  const MPI_Comm host = MPI_Comm_f2c(static_cast<MPI_Fint>(handle));
  if (host == MPI_COMM_NULL) fail(MATNN_ERROR_MPI, "the communicator handle {} is MPI_COMM_NULL", handle);
  return Communicator(duplicate(host));
}

void Communicator::sum(std::span<double> values) const {
  if (size_ == 1 || values.empty()) return;
  std::vector<double> total(values.size());
  const int n = static_cast<int>(values.size());
  check(MPI_Reduce(values.data(), total.data(), n, MPI_DOUBLE, MPI_SUM, 0, handle_->comm), "MPI_Reduce");
  if (rank_ == 0) std::copy(total.begin(), total.end(), values.begin());
  check(MPI_Bcast(values.data(), n, MPI_DOUBLE, 0, handle_->comm), "MPI_Bcast");
}

void Communicator::broadcast(std::span<double> values, int root) const {
  if (size_ == 1 || values.empty()) return;
  check(MPI_Bcast(values.data(), static_cast<int>(values.size()), MPI_DOUBLE, root, handle_->comm), "MPI_Bcast");
}

void Communicator::broadcast(std::span<std::uint8_t> bytes, int root) const {
  if (size_ == 1 || bytes.empty()) return;
  check(MPI_Bcast(bytes.data(), static_cast<int>(bytes.size()), MPI_UINT8_T, root, handle_->comm), "MPI_Bcast");
}

namespace {

// MPI_Allgatherv of any number of `type` elements per rank, returned per rank.
template <typename T>
std::vector<std::vector<T>> gather_all(std::span<const T> mine, MPI_Datatype type, MPI_Comm comm, int rank, int size) {
  if (mine.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    fail(MATNN_ERROR_UNSUPPORTED, "all_gather: {} values on rank {}, more than one MPI call takes", mine.size(), rank);
  const int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(size)), offsets(static_cast<std::size_t>(size));
  check(MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm), "MPI_Allgather");
  std::int64_t total = 0;
  for (int r = 0; r < size; ++r) {
    offsets[static_cast<std::size_t>(r)] = static_cast<int>(total);
    total += counts[static_cast<std::size_t>(r)];
    if (total > std::numeric_limits<int>::max())
      fail(MATNN_ERROR_UNSUPPORTED, "all_gather: {} values over the ranks, more than one MPI call takes", total);
  }
  std::vector<T> all(static_cast<std::size_t>(total));
  check(MPI_Allgatherv(mine.data(), count, type, all.data(), counts.data(), offsets.data(), type, comm),
        "MPI_Allgatherv");
  std::vector<std::vector<T>> out;
  for (int r = 0; r < size; ++r) {
    const auto begin = all.begin() + offsets[static_cast<std::size_t>(r)];
    out.emplace_back(begin, begin + counts[static_cast<std::size_t>(r)]);
  }
  return out;
}

}  // namespace

std::vector<std::vector<double>> Communicator::all_gather(std::span<const double> mine) const {
  if (size_ == 1) return {std::vector<double>(mine.begin(), mine.end())};
  return gather_all(mine, MPI_DOUBLE, handle_->comm, rank_, size_);
}

std::vector<std::vector<std::uint8_t>> Communicator::all_gather(std::span<const std::uint8_t> mine) const {
  if (size_ == 1) return {std::vector<std::uint8_t>(mine.begin(), mine.end())};
  return gather_all(mine, MPI_BYTE, handle_->comm, rank_, size_);
}

bool Communicator::all(bool value) const {
  if (size_ == 1) return value;
  int local = value ? 1 : 0, global = 0;
  check(MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_LAND, handle_->comm), "MPI_Allreduce");
  return global != 0;
}

std::uint64_t Communicator::max(std::uint64_t value) const {
  if (size_ == 1) return value;
  std::uint64_t global = 0;
  check(MPI_Allreduce(&value, &global, 1, MPI_UINT64_T, MPI_MAX, handle_->comm), "MPI_Allreduce");
  return global;
}

void Communicator::rethrow_first(const std::exception_ptr& failure) const {
  if (size_ == 1) {
    if (failure) std::rethrow_exception(failure);
    return;
  }
  // The lowest failed rank, as size - rank so that the largest wins; 0: none failed.
  const std::uint64_t mark = failure ? static_cast<std::uint64_t>(size_ - rank_) : 0;
  const std::uint64_t first = max(mark);
  if (first == 0) return;
  const int root = size_ - static_cast<int>(first);
  auto [status, message] = failure && root == rank_ ? describe(failure) : std::pair{MATNN_SUCCESS, std::string()};
  int header[2] = {static_cast<int>(status), static_cast<int>(message.size())};
  check(MPI_Bcast(header, 2, MPI_INT, root, handle_->comm), "MPI_Bcast");
  message.resize(static_cast<std::size_t>(header[1]));
  check(MPI_Bcast(message.data(), header[1], MPI_CHAR, root, handle_->comm), "MPI_Bcast");
  throw Error(static_cast<matnn_status>(header[0]), "rank " + std::to_string(root) + ": " + message);
}

namespace {

// Variables every common launcher sets in the processes it starts (Open MPI, MPICH/Hydra, PMIx,
// Slurm's srun).
bool started_by_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

}  // namespace

MpiSession::MpiSession(int& argc, char**& argv) {
  if (const char* setting = std::getenv("MATNN_MPI")) {
    const std::string value = setting;
    if (value == "off") return;
    if (value != "on" && !value.empty())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "MATNN_MPI is \"{}\"; it takes off (run on one rank) or on", value);
  }
  if (!started_by_launcher() || mpi_initialised()) return;
  int provided = 0;
  // Only the thread that called main() makes MPI calls; OpenMP threads never do.
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    fail(MATNN_ERROR_MPI, "MPI_Init_thread failed");
  initialised_here_ = true;
}

MpiSession::~MpiSession() {
  if (initialised_here_ && mpi_initialised()) MPI_Finalize();
}

void MpiSession::abort_job(int status) {
  if (!mpi_initialised()) return;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 1) MPI_Abort(MPI_COMM_WORLD, status);
}

#else  // a build without MPI: one rank, and every request for more is refused

struct Communicator::Handle {};

Communicator::Communicator() = default;
Communicator::Communicator(std::shared_ptr<Handle> handle) : handle_(std::move(handle)) {}
Communicator Communicator::world() { return Communicator(); }
Communicator Communicator::from_fortran_handle(std::int64_t) {
  fail(MATNN_ERROR_UNSUPPORTED,
       "this build of matnn has no MPI (it was configured with MATNN_WITH_MPI=OFF): training on a communicator "
       "needs the MPI build");
}
void Communicator::sum(std::span<double>) const {}
void Communicator::broadcast(std::span<double>, int) const {}
void Communicator::broadcast(std::span<std::uint8_t>, int) const {}
std::vector<std::vector<double>> Communicator::all_gather(std::span<const double> mine) const {
  return {std::vector<double>(mine.begin(), mine.end())};
}
std::vector<std::vector<std::uint8_t>> Communicator::all_gather(std::span<const std::uint8_t> mine) const {
  return {std::vector<std::uint8_t>(mine.begin(), mine.end())};
}
bool Communicator::all(bool value) const { return value; }
std::uint64_t Communicator::max(std::uint64_t value) const { return value; }
void Communicator::rethrow_first(const std::exception_ptr& failure) const {
  if (failure) std::rethrow_exception(failure);
}

MpiSession::MpiSession(int&, char**&) {}
MpiSession::~MpiSession() = default;
void MpiSession::abort_job(int) {}

#endif

}  // namespace matnn::parallel
