#include "test_util.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace bertcpp::testing {

std::filesystem::path data_dir() { return BERTCPP_TEST_DATA_DIR; }

std::filesystem::path default_model_dir() {
  if (const char* env = std::getenv("BERTCPP_DEFAULT_MODEL_DIR"); env && *env) return env;
  return BERTCPP_DEFAULT_MODEL_DIR;
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("bertcpp-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

namespace {
std::string shell_quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) {
    if (c == '\'') q.append("'\\''");
    else q += c;
  }
  return q.append("'");
}
}  // namespace

ProcessResult run_process(const std::string& program, const std::vector<std::string>& args, const std::string& input) {
  TempDir tmp;
  write_file(tmp.path() / "in", input);
  // Appended piecewise: `" " + quote(a)` trips g++ 12's false-positive -Wrestrict in operator+(const char*, string&&).
  std::string command = shell_quote(program);
  for (const auto& a : args) command.append(" ").append(shell_quote(a));
  command.append(" < ").append(shell_quote((tmp.path() / "in").string()));
  command.append(" > ").append(shell_quote((tmp.path() / "out").string()));
  command.append(" 2> ").append(shell_quote((tmp.path() / "err").string()));
  const int raw = std::system(command.c_str());
  ProcessResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(tmp.path() / "out");
  r.err = read_file(tmp.path() / "err");
  return r;
}

}  // namespace bertcpp::testing
