// Files that appear complete or not at all: write to a temporary name beside the target, then
// rename(2) over it, which POSIX makes atomic within one file system. Every file matnn writes
// (datasets, models, checkpoints, CSV) goes through this, so a crash or a bad input never
// leaves a half-written file under the name the user asked for.
#pragma once

#include <string>

namespace matnn {

class AtomicFile {
 public:
  /// Picks a unique temporary path in the target's directory ("<target>.tmp.<pid>.<n>").
  explicit AtomicFile(std::string target);
  /// Removes the temporary file if commit() was not reached (an exception unwound past us).
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Where to write.
  const std::string& temp_path() const noexcept { return temp_; }
  const std::string& target_path() const noexcept { return target_; }
  /// Flushes the temporary file to disk and renames it over the target;
  /// throws matnn::Error(MATNN_ERROR_IO) on failure.
  void commit();

 private:
  std::string target_;
  std::string temp_;
  bool committed_ = false;
};

}  // namespace matnn
