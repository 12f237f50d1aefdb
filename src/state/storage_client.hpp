// The engine's side of the storage.* ops (PROTOCOL.md §3): each call hands one op to the host,
// which performs it on the storage adapter registered under `storage` (a name the run spec chose),
// and checks the shape of the host's answer. Values are JSON; versions are opaque strings that
// change on every write of a key. Failures arrive as OpFailed with kind "storage" and a `code`
// (STORAGE_CORRUPT, STORAGE_UNAVAILABLE, ...; see docs/storage.md).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/loop.hpp"

namespace lmthing::state {

struct StoredValue {
  json value;
  std::string version;
};

struct StorageCallOptions {
  double ttl_ms = 0;      // writes: time to live (0 = the entry never expires)
  double timeout_ms = 0;  // bounds the op (0 = unbounded); on expiry it fails with kind "timeout"
  bool compress = false;  // the host stores the value gzipped (set, cas) and inflates what it reads (get)
};

// storage.get: the value and its version, or nullopt when the key is absent or expired.
Task<std::optional<StoredValue>> storage_get(Loop& loop, RunId run, std::string storage, std::string key, StorageCallOptions options = {});
// storage.set: writes unconditionally; returns the new version.
Task<std::string> storage_set(Loop& loop, RunId run, std::string storage, std::string key, json value, StorageCallOptions options = {});
// storage.delete: true when the key existed.
Task<bool> storage_delete(Loop& loop, RunId run, std::string storage, std::string key, StorageCallOptions options = {});
// storage.list: the live keys that start with `prefix`, sorted.
Task<std::vector<std::string>> storage_list(Loop& loop, RunId run, std::string storage, std::string prefix, StorageCallOptions options = {});
// storage.cas: writes only if the key's version is `expected_version` (nullopt: only if the key is
// absent). Returns the new version, or nullopt when the comparison failed (nothing was written).
Task<std::optional<std::string>> storage_cas(Loop& loop, RunId run, std::string storage, std::string key, std::optional<std::string> expected_version,
                                             json value, StorageCallOptions options = {});

// Read-modify-write with optimistic concurrency: reads the key, computes `change(current)` (nullopt
// when absent), compare-and-sets it, and starts over when another writer got there first. Returns
// the value written. After `max_attempts` conflicts it fails with kind "storage", code STORAGE_CONFLICT.
using StorageChange = std::function<json(const std::optional<json>& current)>;
// The pause before compare-and-set attempt `attempt` (from 1) of `key` after a conflict: growing
// (to about 50 ms) and jittered, so that many writers of one key take turns instead of colliding
// round after round. The jitter is drawn from the run and the key, so a replay waits the same.
Task<void> conflict_pause(Loop& loop, RunId run, const std::string& key, int attempt);

Task<json> storage_update(Loop& loop, RunId run, std::string storage, std::string key, StorageChange change, StorageCallOptions options = {},
                          int max_attempts = 100);

}  // namespace lmthing::state
