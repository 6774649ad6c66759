#include "hdf5_seal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "content_hash.hpp"
#include "matnn/error.hpp"

namespace matnn::h5 {
namespace {

constexpr std::string_view seal_magic = "matnn-seal ";
constexpr int seal_version = 1;
constexpr std::string_view hdf5_signature{"\x89HDF\r\n\x1a\n", 8};
constexpr std::string_view heap_signature = "GCOL";
constexpr std::size_t io_block = std::size_t{1} << 20;

// A read-only or read-write file descriptor that closes itself.
class Descriptor {
 public:
  Descriptor(const std::string& path, int flags, matnn_status status, const std::string& shown) {
    fd_ = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd_ < 0) fail(status, "{}: cannot open: {}", shown, std::strerror(errno));
  }
  ~Descriptor() { ::close(fd_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_ = -1;
};

std::uint64_t file_size(const Descriptor& fd, matnn_status status, const std::string& shown) {
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) fail(status, "{}: cannot stat: {}", shown, std::strerror(errno));
  return static_cast<std::uint64_t>(info.st_size);
}

// Reads up to `size` bytes at `offset`; returns how many were read (fewer only at the end).
std::size_t read_at(const Descriptor& fd, unsigned char* out, std::size_t size, std::uint64_t offset,
                    matnn_status status, const std::string& shown) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd.get(), out + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(status, "{}: cannot read: {}", shown, std::strerror(errno));
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

// Hash of bytes [begin, end) of the file.
std::uint64_t hash_range(const Descriptor& fd, std::uint64_t begin, std::uint64_t end, matnn_status status,
                         const std::string& shown) {
  ContentHash hash;
  std::vector<unsigned char> buffer(io_block);
  for (std::uint64_t at = begin; at < end;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(io_block, end - at));
    const std::size_t got = read_at(fd, buffer.data(), want, at, status, shown);
    if (got != want) fail(status, "{}: the file shrank while it was read", shown);
    hash.update({buffer.data(), got});
    at += got;
  }
  return hash.digest();
}

std::string seal_text(std::uint64_t digest, std::uint64_t bytes) {
  return fmt::format("{}{}\nxxh64 {:016x}\nbytes {}\n", seal_magic, seal_version, digest, bytes);
}

struct Seal {
  std::uint64_t digest = 0;
  std::uint64_t bytes = 0;
};

// Parses the seal block, which starts with seal_magic; throws if it is malformed.
Seal parse_seal(const unsigned char* block, matnn_status status, const std::string& shown) {
  const std::string_view text(reinterpret_cast<const char*>(block), seal_block_bytes);
  int version = 0;
  unsigned long long digest = 0, bytes = 0;
  char tail = 0;
  const std::string copy(text.substr(0, text.find('\0')));
  const int fields = std::sscanf(copy.c_str(), "matnn-seal %d\nxxh64 %16llx\nbytes %llu%c", &version, &digest,
                                 &bytes, &tail);
  if (fields >= 1 && version > seal_version) {
    fail(status, "{}: sealed by a newer matnn (seal version {}; this build reads {})", shown, version, seal_version);
  }
  if (fields != 4 || version != seal_version || tail != '\n' || copy != seal_text(digest, bytes)) {
    fail(status, "{}: the file is damaged: its seal (the first {} bytes, written by matnn) is unreadable", shown,
         seal_block_bytes);
  }
  return Seal{digest, bytes};
}

// The "size of lengths" field of the HDF5 superblock that starts at `base` (8 in practice).
unsigned length_size(const Descriptor& fd, std::uint64_t base, matnn_status status, const std::string& shown) {
  std::array<unsigned char, 16> head{};
  if (read_at(fd, head.data(), head.size(), base, status, shown) != head.size()) return 8;
  const unsigned version = head[8];
  const unsigned size = version < 2 ? head[14] : head[10];
  return (size == 2 || size == 4 || size == 8) ? size : 8;
}

std::uint64_t load_length(const unsigned char* p, unsigned size) {
  std::uint64_t value = 0;
  for (unsigned i = size; i > 0; --i) value = (value << 8) | p[i - 1];
  return value;
}

// Walks the objects of the global heap collection at `offset` the way libhdf5's loader does and
// throws if the walk would not advance or would leave the collection. A candidate of another
// version is no collection (libhdf5 refuses those itself). The three reserved bytes after the
// version are not looked at: libhdf5 skips them, so a collection with damaged reserved bytes is
// still loaded, and must still be walked.
void check_heap_collection(const Descriptor& fd, std::uint64_t offset, std::uint64_t size_of_file, unsigned lsize,
                           matnn_status status, const std::string& shown) {
  const std::size_t header = 8 + lsize;
  std::array<unsigned char, 16> head{};
  if (read_at(fd, head.data(), header, offset, status, shown) != header) return;
  if (head[4] != 1) return;
  const std::uint64_t size = load_length(head.data() + 8, lsize);
  auto corrupt = [&](const std::string& what) {
    fail(status,
         "{}: the file is damaged: the global heap collection at byte {} (where HDF5 keeps variable-length "
         "strings) {}",
         shown, offset, what);
  };
  if (size < header || size > size_of_file - offset) {
    corrupt(fmt::format("claims {} bytes, but {} remain in the file", size, size_of_file - offset));
  }
  std::vector<unsigned char> heap(static_cast<std::size_t>(size));
  if (read_at(fd, heap.data(), heap.size(), offset, status, shown) != heap.size()) corrupt("is cut short");
  const std::uint64_t object_header = 8 + lsize;
  std::uint64_t at = header;
  while (at < size) {
    if (size - at < object_header) break;  // a tail too small for an object is free space
    const unsigned index = heap[at] | static_cast<unsigned>(heap[at + 1]) << 8;
    const std::uint64_t object = load_length(heap.data() + at + 8, lsize);
    if (object > size) corrupt(fmt::format("has an object of {} bytes at byte {}", object, offset + at));
    const std::uint64_t need = index > 0 ? object_header + ((object + 7) & ~std::uint64_t{7}) : object;
    if (need < object_header || need > size - at) {
      corrupt(fmt::format("has an object (index {}) whose size {} does not fit at byte {}", index, object,
                          offset + at));
    }
    at += need;
  }
}

void check_heaps(const Descriptor& fd, std::uint64_t base, std::uint64_t size_of_file, matnn_status status,
                 const std::string& shown) {
  const unsigned lsize = length_size(fd, base, status, shown);
  const std::size_t overlap = heap_signature.size() - 1;
  std::vector<unsigned char> buffer(io_block + overlap);
  std::uint64_t at = 0;     // file offset of buffer[0]
  std::size_t carried = 0;  // bytes at the front of buffer kept from the previous block
  while (true) {
    const std::size_t got = read_at(fd, buffer.data() + carried, io_block, at + carried, status, shown);
    const std::size_t n = carried + got;
    const std::string_view view(reinterpret_cast<const char*>(buffer.data()), n);
    for (std::size_t hit = view.find(heap_signature); hit != std::string_view::npos;
         hit = view.find(heap_signature, hit + 1)) {
      check_heap_collection(fd, at + hit, size_of_file, lsize, status, shown);
    }
    if (got < io_block) break;
    carried = std::min(overlap, n);
    std::memmove(buffer.data(), buffer.data() + n - carried, carried);
    at += n - carried;
  }
}

// Offset of the HDF5 superblock (0, 512, 1024, ...) or -1 when there is none in reach.
std::int64_t superblock_offset(const Descriptor& fd, std::uint64_t size_of_file, matnn_status status,
                               const std::string& shown) {
  std::array<unsigned char, 8> head{};
  for (std::uint64_t at = 0; at + head.size() <= size_of_file; at = at == 0 ? 512 : at * 2) {
    if (read_at(fd, head.data(), head.size(), at, status, shown) != head.size()) break;
    if (std::string_view(reinterpret_cast<const char*>(head.data()), head.size()) == hdf5_signature) {
      return static_cast<std::int64_t>(at);
    }
  }
  return -1;
}

}  // namespace

bool has_seal_block(const std::string& file_path) {
  const Descriptor fd(file_path, O_RDONLY, MATNN_ERROR_IO, file_path);
  if (superblock_offset(fd, file_size(fd, MATNN_ERROR_IO, file_path), MATNN_ERROR_IO, file_path) !=
      static_cast<std::int64_t>(seal_block_bytes)) {
    return false;
  }
  // Ours only if it holds a seal or nothing yet: another program's 512-byte user block keeps its
  // content (appending to such a file leaves it unsealed rather than overwrite that block).
  std::array<unsigned char, seal_block_bytes> block{};
  read_at(fd, block.data(), block.size(), 0, MATNN_ERROR_IO, file_path);
  const bool blank = std::all_of(block.begin(), block.end(), [](unsigned char c) { return c == 0; });
  return blank || std::memcmp(block.data(), seal_magic.data(), seal_magic.size()) == 0;
}

void write_seal(const std::string& path, const std::string& file_path) {
  const Descriptor fd(file_path, O_RDWR, MATNN_ERROR_IO, path);
  const std::uint64_t size = file_size(fd, MATNN_ERROR_IO, path);
  if (!has_seal_block(file_path)) {
    fail(MATNN_ERROR_INTERNAL, "{}: has no {}-byte user block of matnn's to hold a seal", path, seal_block_bytes);
  }
  const std::uint64_t bytes = size - seal_block_bytes;
  std::string block = seal_text(hash_range(fd, seal_block_bytes, size, MATNN_ERROR_IO, path), bytes);
  block.resize(seal_block_bytes, '\0');
  for (std::size_t done = 0; done < block.size();) {
    const ssize_t put = ::pwrite(fd.get(), block.data() + done, block.size() - done, static_cast<off_t>(done));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) fail(MATNN_ERROR_IO, "{}: cannot write the seal: {}", path, std::strerror(errno));
    done += static_cast<std::size_t>(put);
  }
}

SealState check_file(const std::string& path, const std::string& file_path, matnn_status status) {
  const Descriptor fd(file_path, O_RDONLY, status, path);
  const std::uint64_t size = file_size(fd, status, path);
  std::array<unsigned char, seal_block_bytes> block{};
  const std::size_t got = read_at(fd, block.data(), block.size(), 0, status, path);
  const bool sealed =
      got >= seal_magic.size() && std::memcmp(block.data(), seal_magic.data(), seal_magic.size()) == 0;
  if (sealed) {
    if (got < block.size()) fail(status, "{}: the file is truncated: it ends inside its seal", path);
    const Seal seal = parse_seal(block.data(), status, path);
    const std::uint64_t bytes = size - seal_block_bytes;
    if (bytes != seal.bytes) {
      if (bytes < seal.bytes) {
        fail(status, "{}: the file is truncated: it holds {} bytes after its seal, which records {}", path, bytes,
             seal.bytes);
      }
      fail(status,
           "{}: the file is damaged or was extended after matnn wrote it: it holds {} bytes after its seal, which "
           "records {}. If you changed it on purpose (with h5py, say), `matnn seal {}` checks it and seals it again",
           path, bytes, seal.bytes, path);
    }
    // Compared without an early exit: no branch depends on where the hashes first differ.
    const std::uint64_t difference = hash_range(fd, seal_block_bytes, size, status, path) ^ seal.digest;
    if (difference != 0) {
      fail(status,
           "{}: the file is damaged or was changed after matnn wrote it: its content does not match its seal. "
           "If you changed it on purpose (with h5py, say), `matnn seal {}` checks it and seals it again",
           path, path);
    }
    return SealState::sealed;
  }
  const std::int64_t base = superblock_offset(fd, size, status, path);
  if (base >= 0) check_heaps(fd, static_cast<std::uint64_t>(base), size, status, path);
  return SealState::unsealed;  // no superblock at all: libhdf5 refuses the file with its own message
}

}  // namespace matnn::h5
