#include "model_deviation.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace matnn::kim {
namespace {

constexpr const char* header = "# matnn model deviation (KIM driver)";

// This process's rank when an MPI launcher started more than one, else -1.
int launcher_rank() {
  static const char* const pairs[][2] = {
      {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"}, {"PMIX_RANK", "PMIX_SIZE"}, {"PMI_RANK", "PMI_SIZE"}};
  for (const auto& pair : pairs) {
    const char* rank = std::getenv(pair[0]);
    const char* size = std::getenv(pair[1]);
    if (rank != nullptr && size != nullptr && std::atoi(size) > 1) return std::atoi(rank);
  }
  return -1;
}

}  // namespace

DeviationLog::~DeviationLog() {
  if (file_ != nullptr) std::fclose(file_);
}

bool DeviationLog::open(const std::string& path, std::string* problem) {
  const int rank = launcher_rank();
  path_ = rank >= 0 ? path + ".rank" + std::to_string(rank) : path;
  // Never over a file that is not an earlier deviation log (a data file named by mistake).
  if (std::FILE* existing = std::fopen(path_.c_str(), "r")) {
    char first[64] = {};
    const bool ours = std::fgets(first, sizeof first, existing) == nullptr || std::strncmp(first, header, std::strlen(header)) == 0;
    std::fclose(existing);
    if (!ours) {
      *problem = path_ + ": exists and is not a matnn model deviation file; refusing to overwrite it";
      return false;
    }
  }
  file_ = std::fopen(path_.c_str(), "w");
  if (file_ == nullptr) {
    *problem = path_ + ": cannot write the model deviation file: " + std::strerror(errno);
    return false;
  }
  std::fprintf(file_, "%s, simulator units\n# call contributing energy_sigma max_force_deviation mean_force_deviation\n",
               header);
  std::fflush(file_);
  return true;
}

void DeviationLog::write(long call, int contributing, double energy_sigma, double max_deviation, double mean_deviation) {
  std::fprintf(file_, "%ld %d %.9g %.9g %.9g\n", call, contributing, energy_sigma, max_deviation, mean_deviation);
  std::fflush(file_);  // a run that is killed keeps every line written so far
}

}  // namespace matnn::kim
