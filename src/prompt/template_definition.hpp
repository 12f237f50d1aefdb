// The templates a run tree defines (defTemplate), as the renderer's table.
#pragma once

#include "pipeline/definitions.hpp"
#include "prompt/template.hpp"

namespace lmthing::prompt {

// Parses a template definition's config ({text, variables}). Throws TemplateError (Syntax) and
// protocol::ProtocolError (bad variable declarations).
Template template_from_config(const std::string& name, const protocol::FieldReader& config);

// Every template a lookup in `definitions` reaches (a sub-run's own shadow its parent's).
TemplateTable templates_of(const pipeline::Definitions& definitions);

}  // namespace lmthing::prompt
