// The engine's JSON value type. Objects keep their members in written order (the model's arguments,
// the user's schemas and values go back out as they came in), while == still means JSON equality:
// two objects with the same members in another order are equal, as they were with sorted keys.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmthing {

// An object's members in insertion order (a vector, like nlohmann::ordered_map), with a hash index
// of the keys once the object is large: a linear search per insertion would make parsing an
// object of n members O(n²) (50,000 keys: 2.6 s instead of 20 ms), which any model or tool could
// trigger. Small objects, the common case, are searched linearly without an index.
template <class Key, class T, class IgnoredLess = std::less<Key>, class Allocator = std::allocator<std::pair<const Key, T>>>
class WrittenOrderMap : public std::vector<std::pair<const Key, T>, Allocator> {
 public:
  using key_type = Key;
  using mapped_type = T;
  using Container = std::vector<std::pair<const Key, T>, Allocator>;
  using iterator = typename Container::iterator;
  using const_iterator = typename Container::const_iterator;
  using size_type = typename Container::size_type;
  using value_type = typename Container::value_type;
  using key_compare = std::equal_to<>;  // what basic_json checks heterogeneous keys against

  WrittenOrderMap() = default;
  explicit WrittenOrderMap(const Allocator& alloc) : Container(alloc) {}
  template <class It>
  WrittenOrderMap(It first, It last, const Allocator& alloc = Allocator()) : Container(first, last, alloc) {}
  WrittenOrderMap(std::initializer_list<value_type> init, const Allocator& alloc = Allocator()) : Container(init, alloc) {}

  template <class K, class V>
  std::pair<iterator, bool> emplace(K&& key, V&& value) {
    if (const size_type at = position(key); at != this->size()) return {this->begin() + at, false};
    make_room_for_one();
    Container::emplace_back(std::forward<K>(key), std::forward<V>(value));
    index_.added(this->back().first, this->size() - 1);
    return {std::prev(this->end()), true};
  }

  template <class K>
  T& operator[](K&& key) {
    return emplace(std::forward<K>(key), T{}).first->second;
  }
  template <class K>
  const T& operator[](K&& key) const {
    return at(std::forward<K>(key));
  }

  template <class K>
  T& at(const K& key) {
    const size_type at = position(key);
    if (at == this->size()) throw std::out_of_range("key not found");
    return Container::operator[](at).second;
  }
  template <class K>
  const T& at(const K& key) const {
    const size_type at = position(key);
    if (at == this->size()) throw std::out_of_range("key not found");
    return Container::operator[](at).second;
  }

  template <class K>
  iterator find(const K& key) {
    return this->begin() + static_cast<std::ptrdiff_t>(position(key));
  }
  template <class K>
  const_iterator find(const K& key) const {
    return this->begin() + static_cast<std::ptrdiff_t>(position(key));
  }
  template <class K>
  size_type count(const K& key) const {
    return position(key) == this->size() ? 0 : 1;
  }

  template <class K, class = std::enable_if_t<!std::is_convertible_v<K, const_iterator>>>
  size_type erase(const K& key) {
    const size_type at = position(key);
    if (at == this->size()) return 0;
    erase(this->begin() + static_cast<std::ptrdiff_t>(at));
    return 1;
  }
  iterator erase(iterator pos) { return erase(pos, std::next(pos)); }
  iterator erase(iterator first, iterator last) {
    if (first == last) return first;
    const auto removed = std::distance(first, last);
    const auto offset = std::distance(this->begin(), first);
    // Keys are const: the members after the gap are re-constructed in place, one step forward.
    for (auto it = first; std::next(it, removed) != this->end(); ++it) {
      it->~value_type();
      new (&*it) value_type{std::move(*std::next(it, removed))};
    }
    Container::resize(this->size() - static_cast<size_type>(removed));
    index_.reset();  // positions moved
    return this->begin() + offset;
  }
  void clear() noexcept {
    Container::clear();
    index_.reset();
  }

  std::pair<iterator, bool> insert(value_type&& value) { return emplace(value.first, std::move(value.second)); }
  std::pair<iterator, bool> insert(const value_type& value) { return emplace(value.first, value.second); }
  template <class InputIt,
            class = std::enable_if_t<std::is_convertible_v<typename std::iterator_traits<InputIt>::iterator_category, std::input_iterator_tag>>>
  void insert(InputIt first, InputIt last) {
    for (auto it = first; it != last; ++it) insert(*it);
  }

  // JSON equality: the same keys with equal values, in any order.
  friend bool operator==(const WrittenOrderMap& a, const WrittenOrderMap& b) {
    if (a.size() != b.size()) return false;
    for (const auto& member : a) {
      const auto other = b.find(member.first);
      if (other == b.end() || !(other->second == member.second)) return false;
    }
    return true;
  }
  friend bool operator!=(const WrittenOrderMap& a, const WrittenOrderMap& b) { return !(a == b); }

 private:
  static constexpr size_type kIndexFrom = 24;  // below this a linear search is as fast

  // std::vector copies its elements when it grows unless their move cannot throw, and a member's
  // move copies its const key, so every growth deep-copied all the values (an event built from a
  // list, then given its "path", copied its whole payload). Here the values move and only the keys
  // are copied; if copying a key fails, the values moved so far are moved back.
  void make_room_for_one() {
    if (this->size() < this->capacity()) return;
    Container larger;
    larger.reserve(this->empty() ? 4 : 2 * this->size());
    try {
      for (auto& member : *this)
        larger.emplace_back(std::piecewise_construct, std::forward_as_tuple(member.first), std::forward_as_tuple(std::move(member.second)));
    } catch (...) {
      for (size_type i = 0; i < larger.size(); ++i) Container::operator[](i).second = std::move(larger[i].second);
      throw;
    }
    Container::swap(larger);
  }

  // Positions by key, built on the first lookup of a large object; a copy starts without one.
  class Index {
   public:
    Index() = default;
    Index(const Index&) {}
    Index(Index&&) noexcept = default;
    Index& operator=(const Index&) {
      reset();
      return *this;
    }
    Index& operator=(Index&&) noexcept = default;

    bool built() const { return positions_ != nullptr; }
    void reset() { positions_.reset(); }
    void build(const Container& members) {
      positions_ = std::make_unique<Positions>();
      positions_->reserve(members.size());
      for (size_type i = 0; i < members.size(); ++i) positions_->emplace(members[i].first, i);
    }
    void added(const Key& key, size_type at) {
      if (positions_) positions_->emplace(key, at);
    }
    size_type find(std::string_view key, size_type absent) const {
      const auto it = positions_->find(key);
      return it == positions_->end() ? absent : it->second;
    }

   private:
    // Looked up by string_view (transparent hash and equality): no string is built per lookup.
    struct KeyHash {
      using is_transparent = void;
      std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
    };
    using Positions = std::unordered_map<std::string, size_type, KeyHash, std::equal_to<>>;
    std::unique_ptr<Positions> positions_;
  };

  template <class K>
  size_type position(const K& key) const {
    const std::string_view wanted(key);
    if (this->size() >= kIndexFrom) {
      if (!index_.built()) index_.build(*this);
      return index_.find(wanted, this->size());
    }
    for (size_type i = 0; i < this->size(); ++i)
      if (std::string_view(Container::operator[](i).first) == wanted) return i;
    return this->size();
  }

  mutable Index index_;
};

using Json = nlohmann::basic_json<WrittenOrderMap>;

namespace json_teardown {

// Containers nested deeper than this are taken apart with a list on the heap, not by recursion.
inline constexpr int kRecursionLimit = 128;
// How many containers are being freed, one inside the other, on this thread.
inline thread_local int depth = 0;

template <class T>
void free_allocated(T* value) noexcept {
  std::allocator<T> allocator;
  std::allocator_traits<std::allocator<T>>::destroy(allocator, value);
  std::allocator_traits<std::allocator<T>>::deallocate(allocator, value, 1);
}

// Empties `array` or `object` (one of them is set) and every container below it without
// recursion, so that destroying a value nested a million deep cannot overflow the stack. A failed
// allocation here ends the process, as any exception escaping a destructor does.
[[gnu::noinline]] inline void empty_without_recursion(Json::array_t* array, Json::object_t* object) noexcept {
  std::vector<Json> pending;
  auto take_children = [&pending](Json::array_t* items, Json::object_t* members) {
    if (items) {
      for (Json& item : *items) pending.push_back(std::move(item));
      items->clear();
    } else {
      for (auto& member : *members) pending.push_back(std::move(member.second));
      members->clear();
    }
  };
  take_children(array, object);
  while (!pending.empty()) {
    Json item = std::move(pending.back());
    pending.pop_back();
    if (item.is_array()) take_children(&item.get_ref<Json::array_t&>(), nullptr);
    if (item.is_object()) take_children(nullptr, &item.get_ref<Json::object_t&>());
  }  // `item` holds no children when it is destroyed
}

// Frees `array` or `object` (one of them is set) with the values in it, recursing through them up
// to kRecursionLimit levels. Out of line and noexcept: the destructor that calls it stays small
// enough to inline and needs no landing pad around the call. One function for both kinds on
// purpose: a function template per container (tried, 2026-12-04) made the wasm 144 KB larger.
[[gnu::noinline]] inline void free_container(Json::array_t* array, Json::object_t* object) noexcept {
  if (depth >= kRecursionLimit) empty_without_recursion(array, object);
  ++depth;
  if (array)
    free_allocated(array);
  else
    free_allocated(object);
  --depth;
}

}  // namespace json_teardown

}  // namespace lmthing

// How lmthing::Json values are destroyed. nlohmann's own teardown moves the children of every
// non-empty array or object into a vector on the heap before freeing them (so deep nesting cannot
// overflow the stack): one allocation per container, and around each call that may throw one of
// Emscripten's JS exception trampolines, ≈ 6 % of a fan-out's CPU profile (bench/README.md, "JSON
// values"). Here a container is freed directly, recursing through its children, and only one
// nested deeper than kRecursionLimit is taken apart on the heap. Every call below is noexcept.
template <>
inline void lmthing::Json::json_value::destroy(nlohmann::detail::value_t t) {
  using nlohmann::detail::value_t;
  namespace teardown = lmthing::json_teardown;
  switch (t) {
    case value_t::object:
      if (object) teardown::free_container(nullptr, object);
      return;
    case value_t::array:
      if (array) teardown::free_container(array, nullptr);
      return;
    case value_t::string:
      if (string) teardown::free_allocated(string);
      return;
    case value_t::binary:
      if (binary) teardown::free_allocated(binary);
      return;
    default: return;
  }
}
