// defTemplate as a definition kind (spec.definitions[i] = {kind: "template", name, config: {text,
// variables}}): parsed when the run starts, includes checked once all templates are in, and the
// tree's templates are what `template.render` renders while the run is live.
#include "prompt/template_definition.hpp"

#include "pipeline/registry.hpp"

namespace lmthing::prompt {

namespace {

void define_template(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  try {
    auto parsed = std::make_shared<Template>(template_from_config(name, config));
    tree.definitions().add("template", name, std::move(parsed));
  } catch (const TemplateError& e) {
    throw OpFailed(e.wire());
  }
}

void link_templates(pipeline::RunTree& tree) {
  const TemplateTable table = templates_of(tree.definitions());
  try {
    check_includes(table);
  } catch (const TemplateError& e) {
    throw OpFailed(e.wire());
  }
}

}  // namespace

Template template_from_config(const std::string& name, const protocol::FieldReader& config) {
  const json* variables = config.optional_object("variables");
  return parse_template(name, config.optional_string("text", true).value_or(""), variables ? *variables : json(), config.where());
}

TemplateTable templates_of(const pipeline::Definitions& definitions) {
  TemplateTable table;
  for (const auto& [name, t] : definitions.all<Template>("template")) table[name] = t;
  return table;
}

}  // namespace lmthing::prompt

namespace lmthing::pipeline::registered {
extern const DefinitionKind template_kind{"template", "template", {"text", "variables"}, prompt::define_template, prompt::link_templates};
}  // namespace lmthing::pipeline::registered
