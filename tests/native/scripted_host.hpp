// A native host for engine tests: it records the ops and events the engine hands out, and lets a
// test decide when and how each op completes (in virtual time, in any order).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "runtime/drive.hpp"
#include "runtime/random.hpp"

namespace lmthing::testing {

class ScriptedHost : public Host {
 public:
  std::vector<json> started;    // every op, in start order
  std::vector<json> events;     // every event, in emit order
  std::vector<OpId> cancelled;  // op ids the engine asked to cancel

  void start(std::string_view op_json) override { started.push_back(json::parse(op_json)); }
  void emit(std::string_view event_json) override {
    json event = json::parse(event_json);
    if (event["type"] == "op.cancel") cancelled.push_back(event["id"].get<OpId>());
    events.push_back(std::move(event));
  }

  std::vector<json> events_of_type(const std::string& type) const {
    std::vector<json> out;
    for (const auto& e : events)
      if (e["type"] == type) out.push_back(e);
    return out;
  }
};

// An engine plus its host, inbox and virtual clock.
class Harness {
 public:
  ScriptedHost host;
  Engine engine{host};
  double clock = 0;
  std::vector<std::string> inbox;

  void post(const json& message) { inbox.push_back(message.dump()); }
  void post_raw(std::string line) { inbox.push_back(std::move(line)); }

  static json done_ok(OpId id, json value) { return json{{"type", "op.done"}, {"id", id}, {"ok", true}, {"value", std::move(value)}}; }
  static json done_error(OpId id, const std::string& kind, const std::string& message) {
    return json{{"type", "op.done"}, {"id", id}, {"ok", false}, {"error", {{"kind", kind}, {"message", message}}}};
  }

  // Runs the loop until idle. Each time the engine waits, `respond` must post at least one message.
  bool run(const std::function<void(Harness&)>& respond) {
    return drive(engine.loop(), take_batch(), [&] {
      respond(*this);
      if (inbox.empty()) throw std::logic_error("test responder posted nothing while the engine waits: deadlock");
      return take_batch();
    });
  }

  // The reply to command `id`, if the engine sent one.
  std::optional<json> reply(const json& id) const {
    for (const auto& e : host.events)
      if (e["type"] == "reply" && e["id"] == id) return e;
    return std::nullopt;
  }

 private:
  std::string take_batch() {
    std::string batch = json(clock).dump();
    for (auto& line : inbox) batch += "\n" + line;
    inbox.clear();
    return batch;
  }
};

// Completes ops in virtual time: each op gets a random latency; on every wait the earliest ones
// (a random-sized group) complete, so completion order differs from start order.
class RandomLatencyResponder {
 public:
  using Answer = std::function<json(const json& op)>;  // returns an op.done message
  RandomLatencyResponder(std::uint64_t seed, double max_latency_ms, Answer answer)
      : random_(seed), max_latency_ms_(max_latency_ms), answer_(std::move(answer)) {}

  void operator()(Harness& h) {
    for (; seen_ < h.host.started.size(); ++seen_) {
      const json& op = h.host.started[seen_];
      double latency = op["op"] == "timer.sleep" ? op["ms"].get<double>() : random_.uniform() * max_latency_ms_;
      due_.emplace(h.clock + latency + 1e-9 * static_cast<double>(seen_), op);
    }
    if (due_.empty()) return;
    std::size_t burst = 1 + random_.below(8);
    while (burst-- > 0 && !due_.empty()) {
      auto first = due_.begin();
      h.clock = first->first;
      h.post(answer_(first->second));
      due_.erase(first);
    }
  }

 private:
  Random random_;
  double max_latency_ms_;
  Answer answer_;
  std::size_t seen_ = 0;
  std::multimap<double, json> due_;
};

// A host's storage: answers storage.get, storage.set and storage.cas over `values` (each write
// gives the key a new version), nullopt for any other op.
struct VersionedStorage {
  std::map<std::string, json> values;
  std::map<std::string, int> versions;

  std::optional<json> answer(const json& op) {
    const std::string kind = op["op"].get<std::string>();
    if (kind != "storage.get" && kind != "storage.set" && kind != "storage.cas") return std::nullopt;
    const std::string key = op["key"].get<std::string>();
    auto it = values.find(key);
    if (kind == "storage.get") return it == values.end() ? json(nullptr) : json{{"value", it->second}, {"version", std::to_string(versions[key])}};
    if (kind == "storage.cas") {
      const json& expected = op["expectedVersion"];
      const bool matches = it == values.end() ? expected.is_null() : expected.is_string() && expected == std::to_string(versions[key]);
      if (!matches) return json{{"ok", false}};
    }
    values[key] = op["value"];
    const std::string version = std::to_string(++versions[key]);
    return kind == "storage.cas" ? json{{"ok", true}, {"version", version}} : json{{"version", version}};
  }
};

}  // namespace lmthing::testing
