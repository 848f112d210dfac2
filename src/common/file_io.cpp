#include "common/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bertcpp/error.hpp"

namespace bertcpp::common {
namespace {

struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

const char* kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

std::string size_text(std::uint64_t bytes) {
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}

bool entry_exists(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  const int error = errno;
  if (error == EACCES) {
    // A directory on the way that cannot be searched: name it, not a file that may not even exist in it.
    const std::filesystem::path parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    if (::faccessat(AT_FDCWD, parent.c_str(), X_OK, AT_EACCESS) != 0)
      throw IoError(parent.string() + ": cannot access: " + std::strerror(errno));
  }
  throw IoError(path.string() + ": cannot access: " + std::strerror(error));
}

void require_directory(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) throw IoError(dir.string() + ": no such directory");
    throw IoError(dir.string() + ": cannot access: " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) throw IoError(dir.string() + ": not a directory");
  if (::access(dir.c_str(), X_OK) != 0) throw IoError(dir.string() + ": cannot access: " + std::strerror(errno));
}

std::string read_regular_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. It has no effect on regular files.
  FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (fd.fd < 0) throw IoError(path.string() + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) throw IoError(path.string() + ": cannot stat: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw IoError(path.string() + ": is a directory, expected a file");
  if (!S_ISREG(st.st_mode)) throw IoError(path.string() + ": is " + kind_of(st.st_mode) + ", expected a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const auto too_large = [&](std::uint64_t found) {
    return FormatError(path.string() + ": is " + (found > size ? "more than " : "") + std::to_string(found) +
                       " bytes, more than the " + size_text(max_bytes) + " accepted for this kind of file");
  };
  if (size > max_bytes) throw too_large(size);

  std::string out;
  out.resize(static_cast<std::size_t>(size));
  std::size_t done = 0;
  // The file may change while it is read: stop at the cap whatever fstat said.
  for (;;) {
    if (done == out.size()) {
      if (out.size() >= max_bytes) {
        char probe;
        const ssize_t n = ::read(fd.fd, &probe, 1);
        if (n > 0) throw too_large(max_bytes);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw IoError(path.string() + ": read error: " + std::strerror(errno));
        break;
      }
      out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, out.size() + 64 * 1024)));
    }
    const ssize_t n = ::read(fd.fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(path.string() + ": read error: " + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace bertcpp::common
