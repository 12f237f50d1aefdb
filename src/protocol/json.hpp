// The engine's JSON value type. Objects keep their members in written order (the model's arguments,
// the user's schemas and values go back out as they came in), while == still means JSON equality:
// two objects with the same members in another order are equal, as they were with sorted keys.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmthing {

// nlohmann's insertion-ordered map, compared as a set of members (its own == compares in order).
template <class Key, class T, class IgnoredLess = std::less<Key>, class Allocator = std::allocator<std::pair<const Key, T>>>
struct WrittenOrderMap : nlohmann::ordered_map<Key, T, IgnoredLess, Allocator> {
  using nlohmann::ordered_map<Key, T, IgnoredLess, Allocator>::ordered_map;

  friend bool operator==(const WrittenOrderMap& a, const WrittenOrderMap& b) {
    if (a.size() != b.size()) return false;
    // Small objects: look each member up (no allocation); large ones: compare sorted views.
    if (a.size() <= 16) {
      for (const auto& member : a) {
        const auto other = std::find_if(b.begin(), b.end(), [&](const auto& candidate) { return candidate.first == member.first; });
        if (other == b.end() || !(other->second == member.second)) return false;
      }
      return true;
    }
    auto sorted = [](const WrittenOrderMap& map) {
      std::vector<const typename WrittenOrderMap::value_type*> members;
      members.reserve(map.size());
      for (const auto& member : map) members.push_back(&member);
      std::sort(members.begin(), members.end(), [](const auto* x, const auto* y) { return x->first < y->first; });
      return members;
    };
    const auto sa = sorted(a), sb = sorted(b);
    for (std::size_t i = 0; i < sa.size(); ++i)
      if (sa[i]->first != sb[i]->first || !(sa[i]->second == sb[i]->second)) return false;
    return true;
  }
  friend bool operator!=(const WrittenOrderMap& a, const WrittenOrderMap& b) { return !(a == b); }
};

using Json = nlohmann::basic_json<WrittenOrderMap>;

}  // namespace lmthing
