// Checking a model's tool call (src/agent/tool_calls.hpp) against hostile argument text: nesting
// beyond the engine's depth limit and lone surrogates become an error result or U+FFFD, never a
// crash.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "agent/tool_calls.hpp"
#include "protocol/json_text.hpp"

using namespace lmthing;
using json = lmthing::Json;

namespace {

pipeline::ToolBox::Entry object_tool(const std::string& name) {
  pipeline::ToolBox::Entry entry;
  entry.spec.name = name;
  entry.spec.validator = std::make_shared<schema::Validator>(json{{"type", "object"}});
  return entry;
}

std::string nested_text(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("tool-call argument text nested deeper than the limit becomes an error result the model reads", "[agent][limits]") {
  const auto tool = object_tool("t");
  const std::vector<const pipeline::ToolBox::Entry*> offered{&tool};
  const std::string limit = std::to_string(protocol::limits().json_depth);

  for (std::size_t depth : {std::size_t{1001}, std::size_t{10000}, std::size_t{200000}}) {
    const auto call =
        agent::check_tool_call(offered, json{{"toolCallId", "c1"}, {"toolName", "t"}, {"argsText", "{\"a\":" + nested_text(depth) + "}"}});
    CHECK(call.args.is_null());
    CHECK_THAT(call.error, Catch::StartsWith("Invalid JSON in arguments of tool \"t\": "));
    CHECK_THAT(call.error, Catch::Contains("nested deeper than the limit of " + limit + " levels"));
  }
  // Within the limit the arguments are read as usual.
  const auto fine = agent::check_tool_call(offered, json{{"toolName", "t"}, {"argsText", "{\"a\":" + nested_text(500) + "}"}});
  CHECK(fine.error.empty());
  CHECK(protocol::json_depth(fine.args, 10000) == 501);
}

TEST_CASE("tool-call argument text with half an emoji is read with U+FFFD in its place", "[agent][surrogates]") {
  const auto tool = object_tool("t");
  const std::vector<const pipeline::ToolBox::Entry*> offered{&tool};
  const auto call = agent::check_tool_call(offered, json{{"toolName", "t"}, {"argsText", R"({"s":"x\ud83d","t":"\ude00y"})"}});
  REQUIRE(call.error.empty());
  CHECK(call.args["s"] == "x\xEF\xBF\xBD");
  CHECK(call.args["t"] == "\xEF\xBF\xBDy");
}
