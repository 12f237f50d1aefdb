// Little-endian byte writer and reader for the saved forms of src/state (vector memory snapshots).
// The reader never reads past its input: a short or malformed input throws StateError(CORRUPT_DATA).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "state/state_error.hpp"

namespace lmthing::state {

static_assert(std::endian::native == std::endian::little, "saved indexes are little-endian; add byte swapping for this target");

class ByteWriter {
 public:
  template <class T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void put_bytes(const void* data, std::size_t size) { out_.append(static_cast<const char*>(data), size); }
  void put_string(std::string_view s) {
    put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  ByteReader(std::string_view in, std::string what) : in_(in), what_(std::move(what)) {}

  template <class T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  void get_bytes(void* out, std::size_t size) {
    const char* from = take(size);
    if (size > 0) std::memcpy(out, from, size);  // an empty vector's data() may be null
  }
  std::string get_string() {
    const auto size = get<std::uint32_t>();
    return std::string(take(size), size);
  }
  std::size_t remaining() const { return in_.size() - at_; }
  // Throws CORRUPT_DATA with `problem` when `ok` is false.
  void expect(bool ok, const std::string& problem) const {
    if (!ok) throw StateError(error_code::kCorruptData, what_ + ": " + problem);
  }

 private:
  const char* take(std::size_t size) {
    expect(size <= remaining(), "truncated (needed " + std::to_string(size) + " more bytes at offset " + std::to_string(at_) + ", have " +
                                    std::to_string(remaining()) + ")");
    const char* p = in_.data() + at_;
    at_ += size;
    return p;
  }
  std::string_view in_;
  std::size_t at_ = 0;
  std::string what_;
};

}  // namespace lmthing::state
