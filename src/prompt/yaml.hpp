// Block-style YAML emitter for JSON values, modelled on the default output of
// the `yaml` npm package's `stringify` (what lmthing users saw before the
// engine moved to C++). See yaml.cpp for the exact rules and where they differ.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace lmthing::prompt {

// Renders `value` as a YAML document. Like `yaml.stringify`, the result ends
// with a newline. Object keys come out in the json type's iteration order:
// alphabetical for nlohmann::json, insertion order for nlohmann::ordered_json.
// Throws std::invalid_argument for binary or discarded values, and protocol::LimitExceeded for a
// value nested deeper than the engine's limit.
std::string toYaml(const nlohmann::json& value);
std::string toYaml(const nlohmann::ordered_json& value);

// JavaScript's Number.prototype.toString for a finite double: shortest digits
// that round-trip, exponent form outside [1e-7, 1e21) ("1e+21", "1.5e-7").
// Non-finite inputs give "NaN", "Infinity" and "-Infinity" as in JS.
std::string formatJsNumber(double value);

}  // namespace lmthing::prompt
