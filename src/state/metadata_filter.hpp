// Filters over the metadata stored beside each memory (a JSON object), in the MongoDB/Pinecone-style
// shape users of vector stores know:
//
//   {"topic": "billing"}                                  equality (deep JSON equality)
//   {"importance": {"$gte": 0.5}, "lang": {"$in": ["en", "de"]}}
//   {"$or": [{"topic": "billing"}, {"user.tier": "pro"}]} dotted paths reach into nested objects
//
// Operators: $eq $ne $gt $gte $lt $lte (numbers with numbers, strings with strings) $in $nin
// (arrays) $exists (boolean); combinators $and $or (arrays of filters). A missing field fails
// every operator except $ne, $nin and {$exists: false}. Parsed once, evaluated per candidate.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::state {

class MetadataFilter {
 public:
  MetadataFilter() = default;  // matches everything
  // Throws StateError(INVALID_FILTER) naming `where` (e.g. `memory "notes"`), the path and the problem.
  static MetadataFilter parse(const lmthing::Json& filter, const std::string& where);

  bool matches(const lmthing::Json& metadata) const;
  bool matches_everything() const { return !root_; }

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

}  // namespace lmthing::state
