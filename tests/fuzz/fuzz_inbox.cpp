// libFuzzer target: whole inbox batches into a fresh engine (protocol messages, commands, op
// completions), then a second batch that completes every op the engine started with values taken
// from the input. The engine must never fault and must end idle or with its runs still answerable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.hpp"
#include "protocol/json_text.hpp"

using namespace lmthing;

namespace {

class RecordingHost : public Host {
 public:
  std::vector<std::string> ops;
  bool faulted = false;
  void start(std::string_view op_json) override { ops.emplace_back(op_json); }
  void emit(std::string_view event_json) override {
    if (event_json.find("\"engine.fault\"") != std::string_view::npos && event_json.find("deliberate fault") == std::string_view::npos)
      faulted = true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  protocol::set_limits(protocol::Limits{});  // an input may have configured them
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The input is the batch's messages; a line "---" splits off the values used to answer ops. An
  // input that starts with a digit brings its own clock line (which may name blobs, whose bytes
  // then end the messages part: protocol/blobs.hpp).
  const std::size_t split = input.find("\n---\n");
  const std::string_view messages = input.substr(0, split);
  const std::string_view answers = split == std::string_view::npos ? std::string_view() : input.substr(split + 5);

  RecordingHost host;
  {
    Engine engine(host);
    const bool own_clock = !messages.empty() && messages[0] >= '0' && messages[0] <= '9';
    bool ok = engine.loop().turn(own_clock ? std::string(messages) : "0\n" + std::string(messages));
    // Complete every op once (timers with null, the rest with the answer lines in turn).
    std::size_t answer_at = 0;
    for (int round = 0; ok && round < 3 && !host.ops.empty(); ++round) {
      std::string batch = std::to_string(1000 * (round + 1));
      for (const std::string& op_text : host.ops) {
        const json op = json::parse(op_text);
        std::string value = "null";
        if (op.value("op", "") != "timer.sleep" && answer_at < answers.size()) {
          std::size_t end = answers.find('\n', answer_at);
          if (end == std::string_view::npos) end = answers.size();
          value = std::string(answers.substr(answer_at, end - answer_at));
          answer_at = end + 1;
        }
        batch += "\n{\"type\":\"op.done\",\"id\":" + op["id"].dump() + ",\"ok\":true,\"value\":" + value + "}";
      }
      host.ops.clear();
      ok = engine.loop().turn(batch);
    }
  }
  if (host.faulted) {
    __builtin_printf("the engine faulted\n");
    std::abort();
  }
  protocol::set_limits(protocol::Limits{});
  return 0;
}
