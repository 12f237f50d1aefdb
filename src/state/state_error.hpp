// The one error type of src/state (vector memory, token counting, context windows): a message that
// names the memory or context and says what was wrong and what is expected, plus a stable code the
// host maps to a typed JS error (e.g. DIMENSION_MISMATCH, CONTEXT_OVERFLOW).
#pragma once

#include <stdexcept>
#include <string>

namespace lmthing::state {

namespace error_code {
inline constexpr const char* kInvalidConfig = "INVALID_CONFIG";          // a config field is missing, of the wrong type or out of range
inline constexpr const char* kDimensionMismatch = "DIMENSION_MISMATCH";  // a vector's length differs from the memory's dimensions
inline constexpr const char* kNonFiniteVector = "NON_FINITE_VECTOR";     // a vector holds NaN or ±Inf
inline constexpr const char* kZeroVector = "ZERO_VECTOR";                // cosine similarity of a zero vector is undefined
inline constexpr const char* kUnknownId = "UNKNOWN_ID";                  // delete/get of an id the memory does not hold
inline constexpr const char* kDuplicateId = "DUPLICATE_ID";              // the same id twice in one batch
inline constexpr const char* kUnknownEntity = "UNKNOWN_ENTITY";          // a graph relation names an entity the memory does not hold
inline constexpr const char* kInvalidFilter = "INVALID_FILTER";          // a metadata filter that is not one
inline constexpr const char* kCorruptData = "CORRUPT_DATA";              // saved bytes that are not a saved index (or are truncated)
inline constexpr const char* kInvalidRanks = "INVALID_RANKS";            // a BPE rank file that is not one
inline constexpr const char* kInvalidMessages = "INVALID_MESSAGES";      // messages or token counts of the wrong shape
inline constexpr const char* kContextOverflow = "CONTEXT_OVERFLOW";      // what must be kept does not fit the budget
}  // namespace error_code

class StateError : public std::runtime_error {
 public:
  StateError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

}  // namespace lmthing::state
