// Issue 14, reproduction 10 and the files of a model directory: a directory or file the process may not read is
// a typed IoError naming it and saying "Permission denied" (never "no config.json" or "no tokenizer files"), and
// the CLI exits with status 2. Root ignores file permissions, and the tests usually run as root, so each case
// runs in a forked child that first drops to uid/gid 65534 (nobody); the test is skipped, visibly, when that is
// not possible or permissions still do not apply.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bertcpp/bertcpp.hpp"
#include "test_util.hpp"

namespace bertcpp {
namespace {

using testing::kCli;

namespace fs = std::filesystem;
using testing::TempDir;

constexpr uid_t kNobody = 65534;
constexpr std::string_view kSkip = "SKIP: ";

// "IoError: <message>" for an IoError, "<code>: <message>" for another bertcpp::Error, "exception: <message>",
// or "ok" when `load` returns.
std::string outcome(const std::function<void()>& load) {
  try {
    load();
    return "ok";
  } catch (const IoError& e) {
    return std::string("IoError: ") + e.what();
  } catch (const Error& e) {
    return std::string(to_string(e.code())) + ": " + e.what();
  } catch (const std::exception& e) {
    return std::string("exception: ") + e.what();
  }
}

// Runs `action` in a forked child without root's privileges and returns what it returned, or "SKIP: <why>".
// `probe` is a path the child must fail to open with EACCES (it checks that permissions do apply to it).
// Only code that starts no thread runs in the child (a child of a multi-threaded process must not rely on
// locks other threads may have held, e.g. OpenMP's pool); a CLI run is a fresh process started from it.
std::string as_unprivileged(const fs::path& probe, const std::function<std::string()>& action) {
  int fds[2];
  if (::pipe(fds) != 0) return std::string(kSkip) + "pipe: " + std::strerror(errno);
  const pid_t pid = ::fork();
  if (pid < 0) return std::string(kSkip) + "fork: " + std::strerror(errno);
  if (pid == 0) {
    ::close(fds[0]);
    std::string report;
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
                             ::setresuid(kNobody, kNobody, kNobody) != 0)) {
      report = std::string(kSkip) + "cannot drop root privileges: " + std::strerror(errno);
    } else if (const int fd = ::open(probe.c_str(), O_RDONLY | O_NONBLOCK); fd >= 0 || errno != EACCES) {
      report = std::string(kSkip) + "permissions do not apply to uid " + std::to_string(::geteuid()) + " here";
      if (fd >= 0) ::close(fd);
    } else {
      report = action();
    }
    for (std::size_t done = 0; done < report.size();) {
      const ssize_t n = ::write(fds[1], report.data() + done, report.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);  // no atexit handlers, no gtest teardown in the child
  }
  ::close(fds[1]);
  std::string report;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) report.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return "child died with status " + std::to_string(status) + ": " + report;
  return report;
}

// A readable copy (mode 0755 / 0644, so that nobody can read it) of `from`'s regular files and sub-directories.
void copy_tree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  fs::permissions(to, fs::perms(0755));
  for (const auto& entry : fs::directory_iterator(from)) {
    const fs::path target = to / entry.path().filename();
    if (entry.is_directory()) {
      copy_tree(entry.path(), target);
    } else {
      fs::copy_file(entry.path(), target);
      fs::permissions(target, fs::perms(0644));
    }
  }
}

class PermissionDenied : public ::testing::Test {
 protected:
  // A copy of `fixture` (under tests/data) in a fresh directory that nobody may search.
  fs::path copy_of(const std::string& fixture) {
    fs::permissions(tmp_.path(), fs::perms(0755));
    const fs::path dir = tmp_.path() / fs::path(fixture).filename();
    copy_tree(testing::data_dir() / fixture, dir);
    return dir;
  }
  // Checks `action`'s report, run without privileges, against `expected`; skips when it could not run.
  void expect_unprivileged(const fs::path& unreadable, const std::function<std::string()>& action,
                           const std::string& expected) {
    const std::string report = as_unprivileged(unreadable, action);
    if (report.starts_with(kSkip)) GTEST_SKIP() << report;
    EXPECT_EQ(report, expected) << unreadable;
  }

 private:
  TempDir tmp_;
};

TEST_F(PermissionDenied, AModelDirectoryThatCannotBeSearchedIsNamed) {
  const fs::path dir = copy_of("heads/sentence-embeddings-cls");
  fs::permissions(dir, fs::perms(0700));  // root's only: nobody may neither list nor search it
  const std::string denied = "IoError: " + dir.string() + ": cannot access: Permission denied";
  expect_unprivileged(dir / "config.json", [&] {
    LoadOptions options;
    options.tokenizer = false;
    return outcome([&] { BertModel::load(dir, options); }) + "\n" + outcome([&] { Tokenizer::load(dir); }) + "\n" +
           outcome([&] { SentenceEmbedder::load(dir); });
  }, denied + "\n" + denied + "\n" + denied);
}

TEST_F(PermissionDenied, AnUnreadableConfigJsonIsNamedNotMissing) {
  const fs::path dir = copy_of("encoder/bert_h48_gelu_f32");
  fs::permissions(dir / "config.json", fs::perms(0));
  expect_unprivileged(dir / "config.json", [&] { return outcome([&] { BertModel::load(dir); }); },
                      "IoError: " + (dir / "config.json").string() + ": cannot open: Permission denied");
}

TEST_F(PermissionDenied, UnreadableWeightFilesAreNamed) {
  const fs::path single = copy_of("encoder/bert_h48_gelu_f32");
  fs::permissions(single / "model.safetensors", fs::perms(0));
  expect_unprivileged(single / "model.safetensors", [&] { return outcome([&] { BertModel::load(single); }); },
                      "IoError: " + (single / "model.safetensors").string() + ": cannot open: Permission denied");
}

TEST_F(PermissionDenied, UnreadableShardsAndShardIndexesAreNamed) {
  const fs::path index = copy_of("heads/sentence-embeddings-cls");
  fs::permissions(index / "model.safetensors.index.json", fs::perms(0));
  fs::permissions(index / "encoder.safetensors", fs::perms(0));
  LoadOptions options;
  options.tokenizer = false;
  expect_unprivileged(index / "encoder.safetensors", [&] { return outcome([&] { BertModel::load(index, options); }); },
                      "IoError: " + (index / "model.safetensors.index.json").string() + ": cannot open: Permission denied");
  fs::permissions(index / "model.safetensors.index.json", fs::perms(0644));
  expect_unprivileged(index / "encoder.safetensors", [&] { return outcome([&] { BertModel::load(index, options); }); },
                      "IoError: " + (index / "encoder.safetensors").string() + ": cannot open: Permission denied");
}

TEST_F(PermissionDenied, UnreadableTokenizerFilesAreNamed) {
  struct Case {
    std::string fixture, file;
    std::vector<std::string> remove;  // files removed first, so that `file` is the one Tokenizer::load reads
  };
  const std::vector<Case> cases = {
      {"tokenizer/wordpiece", "tokenizer.json", {}},
      {"tokenizer/wordpiece", "vocab.txt", {"tokenizer.json"}},
      {"tokenizer/wordpiece", "tokenizer_config.json", {"tokenizer.json"}},
      {"tokenizer/roberta", "vocab.json", {"tokenizer.json"}},
      {"tokenizer/roberta", "merges.txt", {"tokenizer.json"}},
      {"tokenizer/albert", "spiece.model", {}},
      {"tokenizer/xlmr", "sentencepiece.bpe.model", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fixture + "/" + c.file);
    TempDir tmp;
    fs::permissions(tmp.path(), fs::perms(0755));
    const fs::path dir = tmp.path() / "model";
    copy_tree(testing::data_dir() / c.fixture, dir);
    for (const std::string& name : c.remove) fs::remove(dir / name);
    fs::permissions(dir / c.file, fs::perms(0));
    const std::string report = as_unprivileged(dir / c.file, [&] { return outcome([&] { Tokenizer::load(dir); }); });
    if (report.starts_with(kSkip)) GTEST_SKIP() << report;
    EXPECT_EQ(report, "IoError: " + (dir / c.file).string() + ": cannot open: Permission denied");
  }
}

TEST_F(PermissionDenied, TheCliNamesAnUnreadableInputOrModelAndExitsWith2) {
  if (kCli == nullptr) GTEST_SKIP() << "built without the CLI (BERTCPP_BUILD_EXAMPLES=OFF)";
  const fs::path model = copy_of("encoder/bert_h48_gelu_f32");
  TempDir tmp;
  fs::permissions(tmp.path(), fs::perms(0755));
  const fs::path input = tmp.path() / "input.jsonl";
  testing::write_file(input, "{\"input_ids\":[2,7,3]}\n");
  fs::permissions(input, fs::perms(0));
  // The exit status, the output and the error text of a CLI run, as one string through the child's pipe.
  auto cli = [](const std::vector<std::string>& args) {
    return [args] {
      const testing::ProcessResult r = testing::run_process(kCli, args, "");
      return std::to_string(r.status) + "|" + r.out + "|" + r.err;
    };
  };
  const std::string unreadable_input = as_unprivileged(input, cli({"encode", "-m", model.string(), "-i", input.string()}));
  if (unreadable_input.starts_with(kSkip)) GTEST_SKIP() << unreadable_input;
  EXPECT_TRUE(unreadable_input.starts_with("2||")) << unreadable_input;
  EXPECT_NE(unreadable_input.find(input.string() + ": cannot open for reading: Permission denied"), std::string::npos)
      << unreadable_input;

  fs::permissions(input, fs::perms(0644));
  fs::permissions(model / "config.json", fs::perms(0));
  const std::string unreadable_config =
      as_unprivileged(model / "config.json", cli({"encode", "-m", model.string(), "-i", input.string()}));
  EXPECT_TRUE(unreadable_config.starts_with("2||")) << unreadable_config;
  EXPECT_NE(unreadable_config.find("cannot load model '" + model.string() + "': " + (model / "config.json").string() +
                                   ": cannot open: Permission denied [io]"),
            std::string::npos)
      << unreadable_config;

  // A model directory nobody may search, through a task pipeline.
  fs::permissions(model / "config.json", fs::perms(0644));
  const fs::path embed = copy_of("heads/sentence-embeddings-cls");
  fs::permissions(embed, fs::perms(0700));
  const std::string unsearchable = as_unprivileged(embed / "config.json", cli({"embed", "-m", embed.string(), "-i", input.string()}));
  EXPECT_TRUE(unsearchable.starts_with("2||")) << unsearchable;
  EXPECT_NE(unsearchable.find(embed.string() + ": cannot access: Permission denied"), std::string::npos) << unsearchable;
}

}  // namespace
}  // namespace bertcpp
