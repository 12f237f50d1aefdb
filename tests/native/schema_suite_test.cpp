// Runs the official JSON-Schema-Test-Suite (draft7) against lmthing::schema::Validator.
// The suite root (holding tests/ and remotes/) comes from $JSON_SCHEMA_TEST_SUITE, by default the
// Debian package's location.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "schema/validator.hpp"

namespace {

namespace fs = std::filesystem;
using lmthing::schema::RemoteResolver;
using lmthing::schema::Validator;
using json = lmthing::Json;

fs::path suiteRoot() {
  const char* fromEnv = std::getenv("JSON_SCHEMA_TEST_SUITE");
  return (fromEnv != nullptr && *fromEnv != '\0') ? fs::path(fromEnv) : fs::path("/usr/share/json-schema-test-suite");
}

json readJsonFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return json::parse(in);
}

// Serves the suite's remotes/ directory as http://localhost:1234/, as the suite expects.
RemoteResolver remotesResolver(const fs::path& root) {
  return [remotes = root / "remotes"](const std::string& uri) -> std::optional<json> {
    const std::string prefix = "http://localhost:1234/";
    if (uri.rfind(prefix, 0) != 0) return std::nullopt;
    const fs::path file = remotes / uri.substr(prefix.size());
    if (!fs::is_regular_file(file)) return std::nullopt;
    return readJsonFile(file);
  };
}

struct FileOutcome {
  int cases = 0;
  int tests = 0;
  int passed = 0;
  std::vector<std::string> mismatches;  // "file: case / test: why"
};

// Runs every case of one suite file; each mismatch is described with file, case and test.
FileOutcome runSuiteFile(const fs::path& file, const std::string& label, const RemoteResolver& resolver) {
  FileOutcome outcome;
  for (const json& group : readJsonFile(file)) {
    ++outcome.cases;
    const std::string caseName = group.at("description").get<std::string>();
    std::optional<Validator> validator;
    std::string compileError;
    try {
      validator.emplace(group.at("schema"), resolver);
    } catch (const std::exception& e) {
      compileError = e.what();
    }
    for (const json& test : group.at("tests")) {
      ++outcome.tests;
      const std::string where = label + ": " + caseName + " / " + test.at("description").get<std::string>();
      if (!validator) {
        outcome.mismatches.push_back(where + ": schema rejected: " + compileError);
        continue;
      }
      const bool expected = test.at("valid").get<bool>();
      const auto result = validator->validate(test.at("data"));
      if (result.valid != expected) {
        std::string detail = where + ": expected " + (expected ? "valid" : "invalid") + ", got " + (result.valid ? "valid" : "invalid");
        if (!result.errors.empty()) detail += " (" + result.errors.front().instancePath + ": " + result.errors.front().message + ")";
        outcome.mismatches.push_back(detail);
      } else if (result.valid != result.errors.empty()) {
        outcome.mismatches.push_back(where + ": verdict and error list disagree");
      } else {
        ++outcome.passed;
      }
    }
  }
  return outcome;
}

std::vector<fs::path> jsonFilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Runs the files, prints one count line per file, and fails once per mismatching test.
void runAndCheck(const std::vector<fs::path>& files, const std::string& labelPrefix, const RemoteResolver& resolver) {
  int totalTests = 0;
  int totalPassed = 0;
  for (const fs::path& file : files) {
    const std::string label = labelPrefix + file.filename().string();
    const FileOutcome outcome = runSuiteFile(file, label, resolver);
    std::cout << "[schema suite] " << label << ": " << outcome.cases << " cases, " << outcome.passed << "/" << outcome.tests << " tests passed\n";
    for (const std::string& mismatch : outcome.mismatches) FAIL_CHECK(mismatch);
    totalTests += outcome.tests;
    totalPassed += outcome.passed;
  }
  std::cout << "[schema suite] " << labelPrefix << "*: " << totalPassed << "/" << totalTests << " tests passed\n";
  CHECK(totalPassed == totalTests);
}

}  // namespace

TEST_CASE("JSON-Schema-Test-Suite draft7 (all core files)", "[schema][suite]") {
  const fs::path root = suiteRoot();
  const std::vector<fs::path> files = jsonFilesIn(root / "tests" / "draft7");
  INFO("suite root: " << root.string() << " (set JSON_SCHEMA_TEST_SUITE)");
  REQUIRE(!files.empty());
  runAndCheck(files, "draft7/", remotesResolver(root));
}

TEST_CASE("JSON-Schema-Test-Suite draft7 optional formats", "[schema][suite]") {
  // Only the formats the validator implements; each listed file is run in full.
  static const char* const kFormats[] = {
      "date-time", "date", "time", "email", "hostname", "ipv4", "ipv6", "uri", "uri-reference", "json-pointer", "relative-json-pointer", "regex"};
  const fs::path root = suiteRoot();
  const fs::path dir = root / "tests" / "draft7" / "optional" / "format";
  std::vector<fs::path> files;
  for (const char* name : kFormats) {
    const fs::path file = dir / (std::string(name) + ".json");
    if (fs::is_regular_file(file)) files.push_back(file);
  }
  INFO("suite root: " << root.string() << " (set JSON_SCHEMA_TEST_SUITE)");
  REQUIRE(!files.empty());
  runAndCheck(files, "draft7/optional/format/", remotesResolver(root));
}
