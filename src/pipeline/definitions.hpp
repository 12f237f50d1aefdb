// The named definitions of a run tree (defRetry, defApproval, defCache ...), by kind. Each kind is
// registered once (pipeline/registry.hpp) with its parser; lookups by name fail with a message that
// names the kind and lists what is defined: unknown retry policy "x" (defined: a, b).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/fields.hpp"

namespace lmthing::pipeline {

class Definitions {
 public:
  template <class T>
  void add(std::string_view kind, const std::string& name, std::shared_ptr<T> value) {
    auto& table = tables_[std::string(kind)];
    for (const auto& entry : table)
      if (entry.name == name) throw protocol::ProtocolError(std::string(noun(kind)) + " \"" + name + "\" is defined twice");
    table.push_back(Entry{name, std::move(value)});
  }

  template <class T>
  T* find(std::string_view kind, const std::string& name) const {
    auto it = tables_.find(kind);
    if (it == tables_.end()) return nullptr;
    for (const auto& entry : it->second)
      if (entry.name == name) return static_cast<T*>(entry.value.get());
    return nullptr;
  }

  // Throws protocol::ProtocolError: unknown <noun> "name" (defined: a, b).
  template <class T>
  T& get(std::string_view kind, const std::string& name) const {
    if (T* value = find<T>(kind, name)) return *value;
    unknown(kind, name);
  }

  // Every definition of `kind`, in definition order.
  template <class T>
  std::vector<std::pair<std::string, T*>> all(std::string_view kind) const {
    std::vector<std::pair<std::string, T*>> out;
    auto it = tables_.find(kind);
    if (it != tables_.end())
      for (const auto& entry : it->second) out.emplace_back(entry.name, static_cast<T*>(entry.value.get()));
    return out;
  }

  std::vector<std::string> names(std::string_view kind) const;
  bool empty() const { return tables_.empty(); }
  [[noreturn]] void unknown(std::string_view kind, const std::string& name) const;

 private:
  static const char* noun(std::string_view kind);
  struct Entry {
    std::string name;
    std::shared_ptr<void> value;
  };
  std::map<std::string, std::vector<Entry>, std::less<>> tables_;
};

}  // namespace lmthing::pipeline
