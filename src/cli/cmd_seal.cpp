// matnn seal: accept the current content of a matnn HDF5 file (dataset, model or checkpoint) that
// was changed after matnn wrote it, for example edited with h5py. Every file matnn writes carries
// a seal (io/hdf5_seal.hpp) that readers check before libhdf5 parses it, so such an edit makes the
// file unreadable until it is resealed. The file is first read completely, as an unsealed file
// would be, and sealed again only if that succeeds; it is replaced atomically.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "io/dataset_layout.hpp"
#include "io/hdf5_handle.hpp"
#include "io/hdf5_seal.hpp"
#include "matnn/atomic_file.hpp"
#include "matnn/dataset.hpp"
#include "matnn/error.hpp"
#include "matnn/input_file.hpp"
#include "models/state_file.hpp"

namespace matnn::cli {
namespace {

// Blanks the seal block of `file_path` so that readers treat it as unsealed.
void clear_seal(const std::string& path, const std::string& file_path) {
  const int fd = ::open(file_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(MATNN_ERROR_IO, "{}: cannot open the copy to reseal: {}", path, std::strerror(errno));
  const std::array<char, h5::seal_block_bytes> zeros{};
  const ssize_t put = ::pwrite(fd, zeros.data(), zeros.size(), 0);
  const int saved = errno;
  ::close(fd);
  if (put != static_cast<ssize_t>(zeros.size())) {
    fail(MATNN_ERROR_IO, "{}: cannot clear the old seal: {}", path, std::strerror(saved));
  }
}

std::string read_format(const std::string& file_path, const std::string& path) {
  h5::Hdf5ErrorSilencer silence;
  const h5::Hdf5Context ctx(path, MATNN_ERROR_FORMAT, file_path);
  h5::File file = ctx.open_file(false);
  if (!ctx.has_attribute(file.get(), layout::attr_format)) {
    ctx.raise_plain(MATNN_ERROR_FORMAT, "is not a matnn file (no \"format\" attribute)");
  }
  return ctx.read_string_attribute(file.get(), "/", layout::attr_format);
}

// Reads every part of the file the way its reader does; throws on the first problem.
void read_completely(const std::string& file_path, const std::string& path) {
  const std::string format = read_format(file_path, path);
  if (format == layout::format_name) {
    const DatasetReader reader(file_path);
    constexpr std::size_t block = 4096;
    for (std::size_t begin = 0; begin < reader.size(); begin += block) {
      (void)reader.read(begin, std::min(reader.size(), begin + block));
    }
  } else if (format == models::model_format || format == models::checkpoint_format) {
    (void)models::read_state_file(file_path, format, "");
  } else {
    fail(MATNN_ERROR_FORMAT, "{}: is a \"{}\" file, which matnn does not seal", path, format);
  }
}

void run_seal(const std::string& path) {
  check_input_file(path, "a matnn HDF5 file");
  if (!h5::has_seal_block(path)) {
    fail(MATNN_ERROR_FORMAT,
         "{}: has no room for a seal (it was not created by this version of matnn); it is read as an unsealed "
         "file, and `matnn convert` writes a sealed copy of a dataset",
         path);
  }
  AtomicFile out(path);
  std::error_code ec;
  std::filesystem::copy_file(path, out.temp_path(), std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) fail(MATNN_ERROR_IO, "{}: cannot copy the file to reseal it: {}", path, ec.message());
  clear_seal(path, out.temp_path());
  try {
    read_completely(out.temp_path(), path);
  } catch (const Error& e) {
    // The readers name the copy; the user knows the file by its own name.
    std::string message = e.what();
    for (std::size_t at = message.find(out.temp_path()); at != std::string::npos;
         at = message.find(out.temp_path(), at + path.size())) {
      message.replace(at, out.temp_path().size(), path);
    }
    throw Error(e.status(), fmt::format("{} (not resealed)", message));
  }
  h5::write_seal(path, out.temp_path());
  out.commit();
  fmt::print("sealed {}\n", path);
}

}  // namespace

void add_seal_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "seal", "Check a matnn HDF5 file that was changed after matnn wrote it (e.g. with h5py) and seal it again");
  auto path = std::make_shared<std::string>();
  cmd->add_option("file", *path, "dataset, model or checkpoint (.h5)")->required();
  cmd->callback([path] { run_seal(*path); });
}

}  // namespace matnn::cli
