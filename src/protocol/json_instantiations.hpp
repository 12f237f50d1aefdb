// Precompiled-header companion of json.hpp (CMakeLists.txt, lmthing_precompile): the operations
// nearly every file uses on lmthing::Json, spelled out once so that clang's
// -fpch-instantiate-templates compiles them into the PCH instead of into every object file.
// Never called; include it nowhere else.
#pragma once

#include <string>

#include "protocol/json.hpp"

namespace lmthing::detail {

[[maybe_unused]] inline void instantiate_common_json_operations(const std::string& text, Json& out) {
  Json value = Json::parse(text);
  Json copy = value;
  Json object = Json::object();
  Json array = Json::array();
  object["key"] = std::move(copy);
  object["n"] = 1;
  object["b"] = true;
  object["d"] = 1.5;
  object["s"] = text;
  object.emplace("e", nullptr);
  array.push_back(value);
  array.emplace_back(Json{{"type", "op"}, {"id", 1}});
  const bool has = value.contains("key") && value.find("key") != value.end() && value.count("k") > 0;
  const std::string s = value.at("s").get<std::string>() + value.value("t", std::string()) + value.dump();
  const double d = value["d"].get<double>() + static_cast<double>(value["n"].get<long long>());
  for (auto& [key, member] : object.items()) member = key;
  for (const Json& item : array) out.push_back(item);
  out = has && !s.empty() && d > 0 ? object : array;
  out.erase("key");
  if (out == value || out != array) out.clear();
}

}  // namespace lmthing::detail
