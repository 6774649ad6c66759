#include "matnn/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "matnn/error.hpp"

namespace matnn {
namespace {

std::atomic<unsigned> temp_counter{0};

// rename() makes the new name visible atomically, but only an fsync of the data makes the
// content durable; without it a power loss can leave an empty file under the final name.
void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail(MATNN_ERROR_IO, "{}: cannot open to flush: {}", path, std::strerror(errno));
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) fail(MATNN_ERROR_IO, "{}: cannot flush to disk: {}", path, std::strerror(saved));
}

}  // namespace

AtomicFile::AtomicFile(std::string target) : target_(std::move(target)) {
  if (target_.empty()) fail(MATNN_ERROR_INVALID_ARGUMENT, "output file name is empty");
  temp_ = fmt::format("{}.tmp.{}.{}", target_, static_cast<long>(::getpid()), temp_counter++);
}

AtomicFile::~AtomicFile() {
  if (!committed_) std::remove(temp_.c_str());
}

void AtomicFile::commit() {
  sync_file(temp_);
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int saved = errno;
    std::remove(temp_.c_str());
    committed_ = true;  // nothing left to clean up
    fail(MATNN_ERROR_IO, "{}: cannot move the finished file into place: {}", target_, std::strerror(saved));
  }
  committed_ = true;
}

}  // namespace matnn
