#include "schema/validator_cache.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "protocol/json_write.hpp"

namespace lmthing::schema {

namespace {

struct SharedValidator {
  std::string text;
  std::shared_ptr<const Validator> validator;
};

// Most recently used last. A handful of entries in practice, so a linear scan beats hashing the key.
// One per thread, so that engines on different threads (native builds) never share it unguarded.
thread_local std::vector<SharedValidator> shared;

}  // namespace

std::shared_ptr<const Validator> shared_validator(const lmthing::Json& schema) {
  std::string text = protocol::json_text(schema);
  if (text.size() > kSharedSchemaBytes) return std::make_shared<const Validator>(schema);
  for (auto it = shared.begin(); it != shared.end(); ++it) {
    if (it->text != text) continue;
    std::shared_ptr<const Validator> found = it->validator;
    if (std::next(it) != shared.end()) std::rotate(it, std::next(it), shared.end());
    return found;
  }
  auto validator = std::make_shared<const Validator>(schema);
  if (shared.size() == kSharedValidators) shared.erase(shared.begin());
  shared.push_back(SharedValidator{std::move(text), validator});
  return validator;
}

}  // namespace lmthing::schema
