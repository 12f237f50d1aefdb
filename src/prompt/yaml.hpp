// Block-style YAML emitter for JSON values, modelled on the default output of
// the `yaml` npm package's `stringify` (what lmthing users saw before the
// engine moved to C++). See yaml.cpp for the exact rules and where they differ.
#pragma once

#include <string>

#include "protocol/json.hpp"

namespace lmthing::prompt {

// Renders `value` as a YAML document. Like `yaml.stringify`, the result ends
// with a newline. Object keys come out in their written order (the engine's json is ordered).
// Throws std::invalid_argument for binary or discarded values, and protocol::LimitExceeded for a
// value nested deeper than the engine's limit.
std::string toYaml(const lmthing::Json& value);

// JavaScript's Number.prototype.toString for a finite double: shortest digits
// that round-trip, exponent form outside [1e-7, 1e21) ("1e+21", "1.5e-7").
// Non-finite inputs give "NaN", "Infinity" and "-Infinity" as in JS.
std::string formatJsNumber(double value);

}  // namespace lmthing::prompt
