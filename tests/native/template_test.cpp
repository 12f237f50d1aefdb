// Templates (defTemplate / useTemplate): parsing, typed variables, includes, def references and every
// bad input, through the renderer and through the engine's `template.render` command and run start.
#include <catch2/catch.hpp>

#include "prompt/template.hpp"
#include "scripted_host.hpp"

using namespace lmthing;
using namespace lmthing::prompt;
using namespace lmthing::testing;

namespace {

const json kReviewVariables = {
    {"language", {{"type", "string"}, {"default", "typescript"}}},
    {"qualityFocus", {{"type", "number"}, {"default", 7}}},
    {"securityLevel", {{"type", "enum"}, {"values", {"basic", "strict"}}, {"default", "basic"}}},
    {"performanceCheck", {{"type", "boolean"}, {"default", true}}},
};

struct Templates {
  std::vector<Template> owned;
  TemplateTable table() const {
    TemplateTable t;
    for (const auto& x : owned) t[x.name] = &x;
    return t;
  }
  Templates& add(const std::string& name, const std::string& text, const json& variables = json()) {
    owned.reserve(16);
    owned.push_back(parse_template(name, text, variables, "template \"" + name + "\""));
    return *this;
  }
  std::string render(const std::string& name, const json& values = json::object(), const json& refs = json::object()) const {
    return render_template(table(), name, values, refs);
  }
};

// The error a render throws, for checking its code, template and variable.
TemplateError template_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const TemplateError& e) {
    return e;
  }
  FAIL("expected a TemplateError");
  throw std::logic_error("unreachable");
}

json render_command(int id, json definitions, const std::string& name, json values, json refs = json::object()) {
  return json{{"type", "template.render"},    {"id", id}, {"definitions", std::move(definitions)}, {"name", name}, {"values", std::move(values)},
              {"references", std::move(refs)}};
}

json template_definition(const std::string& name, const std::string& text, json variables = json::object()) {
  return json{{"kind", "template"}, {"name", name}, {"config", {{"text", text}, {"variables", std::move(variables)}}}};
}

}  // namespace

TEST_CASE("every variable type renders, defaults fill what is not given", "[template]") {
  Templates t;
  t.add("review", "Analyze {{language}} code (quality {{qualityFocus}}, security {{ securityLevel }}, perf {{performanceCheck}}):\n{{code}}",
        kReviewVariables);
  CHECK(t.render("review", {{"code", "x = 1"}, {"securityLevel", "strict"}}) ==
        "Analyze typescript code (quality 7, security strict, perf true):\nx = 1");
  CHECK(t.render("review", {{"code", "y"}, {"language", "go"}, {"qualityFocus", 9.5}, {"performanceCheck", false}}) ==
        "Analyze go code (quality 9.5, security basic, perf false):\ny");
  // A placeholder no variable declares takes a number or boolean as text too.
  CHECK(t.render("review", {{"code", 42}}).substr(t.render("review", {{"code", 42}}).size() - 2) == "42");
}

TEST_CASE("includes render the included template with the same values and its own defaults", "[template]") {
  Templates t;
  t.add("footer", "-- {{signature}}", {{"signature", {{"type", "string"}, {"default", "bot"}}}});
  t.add("greeting", "Hello {{name}}!\n{{> footer}}");
  CHECK(t.render("greeting", {{"name", "Ada"}}) == "Hello Ada!\n-- bot");
  CHECK(t.render("greeting", {{"name", "Ada"}, {"signature", "Bob"}}) == "Hello Ada!\n-- Bob");
}

TEST_CASE("def values fill placeholders without a value, as text or as YAML", "[template]") {
  Templates t;
  t.add("ask", "Weather in {{city}}?\n{{prefs}}");
  json refs = {{"city", {{"text", "Paris"}}}, {"prefs", {{"data", R"({"zeta":1,"alpha":2})"}}}};
  CHECK(t.render("ask", json::object(), refs) == "Weather in Paris?\nzeta: 1\nalpha: 2");
  CHECK(t.render("ask", {{"city", "Rome"}}, refs) == "Weather in Rome?\nzeta: 1\nalpha: 2");
}

TEST_CASE("each bad input is a TemplateError naming the template and the variable", "[template]") {
  Templates t;
  t.add("review", "{{language}} {{securityLevel}} {{qualityFocus}} {{code}}", kReviewVariables);
  t.add("strict", "{{level}}", {{"level", {{"type", "enum"}, {"values", {"low", "high"}}}}});
  t.add("a", "A{{> b}}");
  t.add("b", "B{{> c}}");
  t.add("c", "C{{> a}}");
  t.add("broken", "x {{> nowhere}}");

  auto unknown = template_error_of([&] { t.render("review", {{"code", "x"}, {"securityLvel", "strict"}}); });
  CHECK(unknown.code == TemplateErrorCode::UnknownVariable);
  CHECK(unknown.template_name == "review");
  CHECK(unknown.variable == "securityLvel");
  CHECK_THAT(unknown.what(), Catch::Contains("did you mean \"securityLevel\""));

  auto missing = template_error_of([&] { t.render("review", json::object()); });
  CHECK(missing.code == TemplateErrorCode::MissingVariable);
  CHECK(missing.variable == "code");
  auto missing_declared = template_error_of([&] { t.render("strict", json::object()); });
  CHECK(missing_declared.code == TemplateErrorCode::MissingVariable);
  CHECK(missing_declared.variable == "level");
  CHECK_THAT(missing_declared.what(), Catch::Contains("(enum) is required"));

  auto wrong = template_error_of([&] { t.render("review", {{"code", "x"}, {"qualityFocus", "high"}}); });
  CHECK(wrong.code == TemplateErrorCode::WrongType);
  CHECK(wrong.variable == "qualityFocus");
  CHECK_THAT(wrong.what(), Catch::Contains("must be a number, got \"high\""));
  auto not_text = template_error_of([&] { t.render("review", {{"code", json::object()}}); });
  CHECK(not_text.code == TemplateErrorCode::WrongType);

  auto bad_enum = template_error_of([&] { t.render("review", {{"code", "x"}, {"securityLevel", "paranoid"}}); });
  CHECK(bad_enum.code == TemplateErrorCode::BadEnumValue);
  CHECK(bad_enum.variable == "securityLevel");
  CHECK_THAT(bad_enum.what(), Catch::Contains("must be one of \"basic\", \"strict\", got \"paranoid\""));

  auto no_template = template_error_of([&] { t.render("reveiw"); });
  CHECK(no_template.code == TemplateErrorCode::UnknownTemplate);
  CHECK_THAT(no_template.what(), Catch::Contains("did you mean \"review\""));
  auto no_include = template_error_of([&] { t.render("broken"); });
  CHECK(no_include.code == TemplateErrorCode::UnknownTemplate);
  CHECK(no_include.template_name == "broken");

  auto cycle = template_error_of([&] { t.render("a"); });
  CHECK(cycle.code == TemplateErrorCode::IncludeCycle);
  CHECK_THAT(cycle.what(), Catch::Contains("a > b > c > a"));

  auto syntax = template_error_of([&] { Templates().add("s", "Hi {{ name"); });
  CHECK(syntax.code == TemplateErrorCode::Syntax);
  auto syntax2 = template_error_of([&] { Templates().add("s", "Hi {{#if x}}"); });
  CHECK(syntax2.code == TemplateErrorCode::Syntax);
}

TEST_CASE("bad variable declarations are refused with the variable named", "[template]") {
  auto refused = [](const json& variables) {
    try {
      parse_template("t", "x", variables, "template \"t\"");
    } catch (const protocol::ProtocolError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(refused({{"n", {{"type", "integer"}}}}),
             Catch::Contains("variable \"n\"") && Catch::Contains("one of 'string', 'number', 'boolean', 'enum', got \"integer\""));
  CHECK_THAT(refused({{"n", {{"type", "enum"}}}}), Catch::Contains("an enum needs \"values\""));
  CHECK_THAT(refused({{"n", {{"type", "number"}, {"default", "7"}}}}), Catch::Contains("the default must be a number"));
  CHECK_THAT(refused({{"n", {{"type", "string"}, {"deflt", "7"}}}}), Catch::Contains("did you mean \"default\""));
  CHECK_THAT(refused({{"n", {{"type", "enum"}, {"values", {"a"}}, {"default", "b"}}}}), Catch::Contains("must be one of \"a\""));
}

TEST_CASE("template.render renders sent definitions and answers template errors with their code", "[template][engine]") {
  Harness h;
  json defs = json::array({template_definition("review", "{{language}}: {{code}}", {{"language", {{"type", "string"}, {"default", "ts"}}}}),
                           template_definition("loop", "{{> loop}}")});
  h.post(render_command(1, defs, "review", {{"code", "x"}}));
  h.post(render_command(2, defs, "review", {{"language", 3}, {"code", "x"}}));
  h.post(render_command(3, defs, "loop", json::object()));
  h.post(json{{"type", "template.render"}, {"id", 4}, {"name", "review"}});
  h.post(json{{"type", "template.render"}, {"id", 5}, {"run", 99}, {"name", "review"}});
  REQUIRE(h.run([](Harness&) {}));
  CHECK((*h.reply(1))["value"]["text"] == "ts: x");
  const json wrong = (*h.reply(2))["error"];
  CHECK(wrong["kind"] == "template");
  CHECK(wrong["code"] == "TEMPLATE_WRONG_TYPE");
  CHECK(wrong["template"] == "review");
  CHECK(wrong["variable"] == "language");
  CHECK((*h.reply(3))["error"]["code"] == "TEMPLATE_INCLUDE_CYCLE");
  CHECK_THAT((*h.reply(4))["error"]["message"].get<std::string>(), Catch::Contains("either \"run\""));
  CHECK_THAT((*h.reply(5))["error"]["message"].get<std::string>(), Catch::Contains("no active prompt or directive run with id 99"));
}

TEST_CASE("a run whose templates include an undefined one or each other does not start", "[template][engine]") {
  Harness h;
  auto spec = [](json definitions) {
    return json{{"kind", "prompt"},
                {"model", "m"},
                {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
                {"definitions", std::move(definitions)}};
  };
  h.post(json{
      {"type", "run.start"}, {"id", 1}, {"spec", spec(json::array({template_definition("a", "{{> b}}"), template_definition("b", "{{> a}}")}))}});
  h.post(json{{"type", "run.start"}, {"id", 2}, {"spec", spec(json::array({template_definition("a", "{{> nope}}")}))}});
  h.post(json{{"type", "run.start"}, {"id", 3}, {"spec", spec(json::array({template_definition("a", "{{x}}", {{"x", {{"type", "date"}}}})}))}});
  REQUIRE(h.run([](Harness&) {}));
  REQUIRE(h.host.started.empty());
  CHECK((*h.reply(1))["error"]["code"] == "TEMPLATE_INCLUDE_CYCLE");
  CHECK((*h.reply(2))["error"]["code"] == "TEMPLATE_UNKNOWN");
  CHECK((*h.reply(3))["error"]["kind"] == "config");
  CHECK(h.engine.active_runs() == 0);
}
