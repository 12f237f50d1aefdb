// The draft-07 metaschema, built in so that {"$ref": "http://json-schema.org/draft-07/schema#"}
// resolves without any network or file access.
#pragma once

#include <string_view>

namespace lmthing::schema {

inline constexpr std::string_view kDraft07MetaSchemaUri = "http://json-schema.org/draft-07/schema";

// The metaschema document as JSON text.
std::string_view draft07MetaSchemaText();

}  // namespace lmthing::schema
