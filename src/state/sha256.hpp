// SHA-256 (FIPS 180-4), for cache keys: a model-response cache is keyed on the digest of the
// normalized request, so keys have a fixed size and two different requests cannot be made to share
// an entry of a cache that many processes share (Redis).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace lmthing::state {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  // The digest of everything passed to update; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> finish();

 private:
  void block(const std::uint8_t* data);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes
};

// The digest of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace lmthing::state
