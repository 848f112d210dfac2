// Helpers shared by the tests: fixture paths, temporary directories, JSON fixture reading.
#pragma once

#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bertcpp::testing {

// The bertcpp CLI built with the tests (null when the build has no CLI): the CLI tests run it as a process.
#ifdef BERTCPP_CLI_PATH
inline const char* const kCli = BERTCPP_CLI_PATH;
#else
inline const char* const kCli = nullptr;
#endif

// tests/data
std::filesystem::path data_dir();

// The default model fetched by models/fetch_default_model.sh (override with BERTCPP_DEFAULT_MODEL_DIR).
std::filesystem::path default_model_dir();

// A fresh empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);

// Runs `program args...` with `input` on stdin; returns the exit status (-1 if it did not exit normally) and
// what it wrote to stdout and stderr. Arguments are shell-quoted.
struct ProcessResult {
  int status = -1;
  std::string out, err;
};
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args, const std::string& input);
void write_file(const std::filesystem::path& path, const std::string& bytes);

// Asserts that calling `f` throws E whose message contains `fragment`.
template <typename E>
void expect_error(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one containing '" << fragment << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

}  // namespace bertcpp::testing
