#include "engine/template_commands.hpp"

#include "pipeline/registry.hpp"
#include "pipeline/run_tree.hpp"
#include "prompt/template_definition.hpp"

namespace lmthing {

using protocol::ProtocolError;

bool handle_template_command(Loop& loop, const EnvOfRun& env_of, const std::string& type, const json& id, const json& message) {
  if (type != "template.render") return false;
  protocol::FieldReader fields(message, type);
  fields.only({"type", "id", "run", "definitions", "name", "values", "references"}, "field");
  const std::string name = fields.string("name");
  const json values = fields.has("values") ? fields.at("values") : json::object();
  const json references = fields.has("references") ? fields.at("references") : json::object();
  if (!values.is_object()) fields.bad("values", "an object (variable name → value)");
  if (!references.is_object()) fields.bad("references", "an object (def name → {text} or {data})");
  if (fields.has("run") == fields.has("definitions"))
    fields.fail("give either \"run\" (a live run) or \"definitions\" (the templates to render with)");
  try {
    std::string text;
    if (fields.has("run")) {
      const pipeline::CallEnv env = env_of(protocol::require_id(message, "run", type), type);
      text = prompt::render_template(prompt::templates_of(env.tree->definitions()), name, values, references);
    } else {
      // The templates a prompt function defined so far, checked as a run start would check them.
      std::vector<std::shared_ptr<prompt::Template>> parsed;
      prompt::TemplateTable table;
      for (const auto& definition : fields.array_field("definitions")) {
        protocol::FieldReader entry(definition, type + " definition");
        entry.only({"kind", "name", "config"}, "field");
        if (entry.string("kind") != "template") entry.fail("only templates are rendered here, got kind \"" + entry.string("kind") + "\"");
        const std::string template_name = entry.string("name");
        protocol::FieldReader config(entry.object_field("config"), "template \"" + template_name + "\"");
        config.only(pipeline::find_kind("template")->fields);
        parsed.push_back(std::make_shared<prompt::Template>(prompt::template_from_config(template_name, config)));
        table[template_name] = parsed.back().get();
      }
      text = prompt::render_template(table, name, values, references);
    }
    loop.emit(protocol::reply_ok(id, json{{"text", std::move(text)}}));
  } catch (const prompt::TemplateError& e) {
    loop.emit(protocol::reply_error(id, e.wire()));
  }
  return true;
}

}  // namespace lmthing
