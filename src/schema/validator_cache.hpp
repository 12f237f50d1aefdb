// Compiled validators shared between runs: an agent that serves many requests sends the same tool
// schemas with every run, and compiling them was 3.5 % of a short run (bench/README.md, "A run's
// fixed cost"). Keyed by the schema's JSON text; the most recently used are kept.
#pragma once

#include <memory>

#include "protocol/json.hpp"
#include "schema/validator.hpp"

namespace lmthing::schema {

// The validator of `schema` (without remote documents), compiled at most once while it stays among
// the most recently used. Throws SchemaError like the Validator constructor; a failure is not kept.
std::shared_ptr<const Validator> shared_validator(const lmthing::Json& schema);

// How many compiled schemas are kept, and the longest schema text kept (a larger one is compiled
// for its caller alone).
inline constexpr std::size_t kSharedValidators = 64;
inline constexpr std::size_t kSharedSchemaBytes = 64 * 1024;

}  // namespace lmthing::schema
