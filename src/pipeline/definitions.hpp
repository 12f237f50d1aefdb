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
  // A sub-run's definitions see their parent's: lookups fall back to them, and may shadow them.
  explicit Definitions(const Definitions* parent = nullptr) : parent_(parent) {}

  template <class T>
  void add(std::string_view kind, const std::string& name, std::shared_ptr<T> value) {
    auto& table = tables_[std::string(kind)];
    for (const auto& entry : table)
      if (entry.name == name) throw protocol::ProtocolError(std::string(noun(kind)) + " \"" + name + "\" is defined twice");
    table.push_back(Entry{name, std::move(value)});
  }

  template <class T>
  T* find(std::string_view kind, const std::string& name) const {
    if (auto it = tables_.find(kind); it != tables_.end())
      for (const auto& entry : it->second)
        if (entry.name == name) return static_cast<T*>(entry.value.get());
    return parent_ ? parent_->find<T>(kind, name) : nullptr;
  }

  // Throws protocol::ProtocolError: unknown <noun> "name" (defined: a, b).
  template <class T>
  T& get(std::string_view kind, const std::string& name) const {
    if (T* value = find<T>(kind, name)) return *value;
    unknown(kind, name);
  }

  // Every definition of `kind` that a lookup here can reach, the parent's first, in definition order.
  template <class T>
  std::vector<std::pair<std::string, T*>> all(std::string_view kind) const {
    std::vector<std::pair<std::string, T*>> out;
    if (parent_)
      for (auto& [name, value] : parent_->all<T>(kind))
        if (!own(kind, name)) out.emplace_back(name, value);
    if (auto it = tables_.find(kind); it != tables_.end())
      for (const auto& entry : it->second) out.emplace_back(entry.name, static_cast<T*>(entry.value.get()));
    return out;
  }

  std::vector<std::string> names(std::string_view kind) const;
  bool empty() const { return tables_.empty(); }
  // Defined here (not only in a parent).
  bool own(std::string_view kind, const std::string& name) const;
  [[noreturn]] void unknown(std::string_view kind, const std::string& name) const;

 private:
  static const char* noun(std::string_view kind);
  struct Entry {
    std::string name;
    std::shared_ptr<void> value;
  };
  const Definitions* parent_;
  std::map<std::string, std::vector<Entry>, std::less<>> tables_;
};

}  // namespace lmthing::pipeline
