// The ensemble's model deviation during a KIM simulation, written by the driver to a file: no
// KIM argument carries it (kim/README.md). One line per sampled compute call:
//
//   call  contributing  energy_sigma  max_force_deviation  mean_force_deviation
//
// in the simulator's units. energy_sigma is the ensemble spread of this process's energy (the
// whole energy on one rank). The force deviations are DeePMD's, sqrt(mean_k |F_ik - <F_i>|^2),
// over the contributing particles, from their complete forces (the driver evaluates the
// particles within the interaction range of them too, so nothing is missing at a boundary).
// Under MPI each rank writes its own file, PATH.rank<k>, with the rank taken from the launcher's
// environment (Open MPI, MPICH/PMI, PMIx).
#pragma once

#include <cstdio>
#include <string>

namespace matnn::kim {

class DeviationLog {
 public:
  DeviationLog() = default;
  DeviationLog(const DeviationLog&) = delete;
  DeviationLog& operator=(const DeviationLog&) = delete;
  ~DeviationLog();

  /// Creates the file (or truncates an earlier deviation log, never another file) and writes its
  /// header; false with *problem on failure.
  bool open(const std::string& path, std::string* problem);
  bool is_open() const { return file_ != nullptr; }
  const std::string& path() const { return path_; }
  void write(long call, int contributing, double energy_sigma, double max_deviation, double mean_deviation);

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
};

}  // namespace matnn::kim
