#include "protocol/blobs.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "protocol/json_text.hpp"
#include "protocol/json_write.hpp"

namespace lmthing::protocol {

namespace {

bool travels_as_blob(const std::string& text) { return text.size() >= kBlobMinBytes || text.starts_with(kBlobMarkerPrefix); }

// Visits every string of `value` (without recursion: values may be nested to the depth limit).
template <class Json, class Visit>
void for_each_string(Json& value, Visit&& visit) {
  std::vector<Json*> pending{&value};
  while (!pending.empty()) {
    Json* node = pending.back();
    pending.pop_back();
    if (node->is_string()) {
      if (!visit(node->template get_ref<std::conditional_t<std::is_const_v<Json>, const std::string&, std::string&>>())) return;
    } else if (node->is_structured()) {
      for (auto& child : *node) pending.push_back(&child);
    }
  }
}

// The last inbound blobs' keys, so that the same bytes going back out are named by the host's id.
// Process-wide like limits(): a wasm module holds one engine. A fixed ring in static memory: it is
// written while a long answer's batch sits at the heap's end, and a node allocated there would
// outlive the batch and split the hole it leaves, so the next answer of that size would not fit and
// the wasm memory would grow by it again (bench/README.md, "Streaming end to end").
class InboundMemory {
 public:
  void remember(std::uint64_t hash, std::size_t size, std::string_view id) {
    if (id.size() > kIdBytes) return;  // not remembered: the bytes go back out under their hash
    // The same bytes again: the newest id takes the older one's place.
    if (const std::size_t known = index_of(hash, size); known != kCapacity) entries_[known].size = 0;
    entries_[next_] = Entry{hash, size, {}, static_cast<std::uint8_t>(id.size())};
    std::memcpy(entries_[next_].id.data(), id.data(), id.size());
    next_ = (next_ + 1) % kCapacity;
  }
  // The id the bytes came in under last (valid until the next remember), if remembered.
  std::optional<std::string_view> find(std::uint64_t hash, std::size_t size) const {
    const std::size_t at = index_of(hash, size);
    if (at == kCapacity) return std::nullopt;
    return std::string_view(entries_[at].id.data(), entries_[at].id_size);
  }

 private:
  static constexpr std::size_t kCapacity = 256;
  static constexpr std::size_t kIdBytes = 24;  // the wasm host's ids are decimal counters
  struct Entry {
    std::uint64_t hash = 0;
    std::size_t size = 0;  // 0: unused (a blob is never empty)
    std::array<char, kIdBytes> id{};
    std::uint8_t id_size = 0;
  };
  // Where the newest entry with this hash and size is, else kCapacity (a linear scan of 256: next
  // to hashing a long text, nothing).
  std::size_t index_of(std::uint64_t hash, std::size_t size) const {
    for (std::size_t i = 1; i <= kCapacity && size != 0; ++i) {
      const std::size_t at = (next_ + kCapacity - i) % kCapacity;
      if (entries_[at].size == size && entries_[at].hash == hash) return at;
    }
    return kCapacity;
  }
  std::array<Entry, kCapacity> entries_{};
  std::size_t next_ = 0;
};

InboundMemory& inbound_memory() {
  static InboundMemory memory;
  return memory;
}

std::string hex(std::uint64_t value) {
  char buffer[17];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, 16);
  return std::string(buffer, end);
}

}  // namespace

std::uint64_t text_hash(std::string_view text) {
  // Eight bytes at a time, multiply-xorshift mixing, the length folded in at the end.
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t h = 0x243F6A8885A308D3ull;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 29;
  }
  std::uint64_t tail = 0;
  if (i < text.size()) std::memcpy(&tail, text.data() + i, text.size() - i);
  h = (h ^ tail ^ text.size()) * kMul;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h;
}

std::string read_inbound_blobs(std::string_view entries, std::string_view& body, InboundBlobs& blobs) {
  blobs.clear();
  std::vector<std::pair<std::string_view, std::size_t>> sizes;
  std::size_t total = 0;
  for (std::size_t at = 0; at < entries.size();) {
    if (entries[at] == ' ') {
      ++at;
      continue;
    }
    std::size_t end = entries.find(' ', at);
    if (end == std::string_view::npos) end = entries.size();
    const std::string_view entry = entries.substr(at, end - at);
    at = end;
    const std::size_t colon = entry.find(':');
    std::size_t size = 0;
    bool ok = colon != 0 && colon != std::string_view::npos;
    if (ok) {
      const auto parsed = std::from_chars(entry.data() + colon + 1, entry.data() + entry.size(), size);
      ok = parsed.ec == std::errc() && parsed.ptr == entry.data() + entry.size();
    }
    if (!ok) return "blob entry \"" + std::string(entry.substr(0, 40)) + "\" is not <id>:<bytes>";
    if (size >= body.size() - total) return "the batch's blobs need more bytes than it carries (" + std::to_string(body.size()) + ")";
    total += size;
    sizes.emplace_back(entry.substr(0, colon), size);
  }
  if (sizes.empty()) return {};
  const std::size_t lines_end = body.size() - total - 1;
  if (body[lines_end] != '\0') return "the batch's blob bytes do not follow a NUL byte after its last message";
  std::string_view region = body.substr(lines_end + 1);
  body = body.substr(0, lines_end);
  for (const auto& [id, size] : sizes) {
    InboundBlob blob{region.substr(0, size), std::nullopt};
    region.remove_prefix(size);
    std::string repaired;
    if (repair_utf8(blob.bytes, repaired)) blob.repaired = std::move(repaired);
    inbound_memory().remember(text_hash(blob.text()), blob.text().size(), id);
    blobs[std::string(id)] = std::move(blob);
  }
  return {};
}

std::string resolve_inbound_markers(json& message, const InboundBlobs& blobs) {
  std::string problem;
  for_each_string(message, [&](std::string& text) {
    if (!text.starts_with(kInboundMarkerPrefix)) return true;
    auto blob = blobs.find(text.substr(kInboundMarkerPrefix.size()));
    if (blob == blobs.end()) {
      problem = "refers to blob \"" + text.substr(kInboundMarkerPrefix.size(), 40) + "\", which the batch does not carry";
      return false;
    }
    text.assign(blob->second.text());
    return true;
  });
  return problem;
}

namespace {

// How send_framed treats the message: gives it up (its long strings move out of it), or borrows it
// (they are put back afterwards, so the caller keeps the message as it was).
enum class Use { consume, borrow };

// Sends the message's parts, its JSON between `before` and `after`. `open` leaves the message's
// closing brace out (an object that `after` continues with more members).
void send_framed(json& message, bool blobs, Use use, std::string_view before, std::string_view after, bool open, const OutboundSender& send) {
  auto close = [&](std::string& out) {
    if (open) out.pop_back();
    out.append(after);
  };
  auto framed = [&] {
    std::string out(before);
    append_json(out, message);
    close(out);
    return out;
  };
  if (!blobs) return send(framed(), {});
  // One pass for the usual message, without a long string.
  if (std::string out(before); append_json_unless(out, message, travels_as_blob)) {
    close(out);
    return send(out, {});
  }
  // The long strings taken out of the message: where each was, and its text. Consumed, only the
  // first of the same bytes is kept (the others are freed at once); borrowed, every one is.
  std::vector<std::pair<std::string*, std::string>> taken;
  std::vector<std::size_t> region;  // indices into `taken` of the blobs' bytes, in offset order
  std::size_t region_size = 0;
  std::unordered_map<std::string, std::string> marker_by_key;  // the same bytes twice in one message go once
  auto give_back = [&] {
    if (use == Use::borrow)
      for (auto& [place, text] : taken) *place = std::move(text);
  };
  try {
    for_each_string(message, [&](std::string& text) {
      if (!travels_as_blob(text)) return true;
      const std::uint64_t hash = text_hash(text);
      const std::optional<std::string_view> inbound = inbound_memory().find(hash, text.size());
      std::string key = inbound ? std::string("in:").append(*inbound) : "h:" + hex(hash) + ":" + std::to_string(text.size());
      auto [it, fresh] = marker_by_key.try_emplace(key);
      if (fresh) {
        it->second = std::string(kBlobMarkerPrefix) + "out:" + std::to_string(region_size) + ":" + std::to_string(text.size()) + ":" + key;
        region_size += text.size();
        region.push_back(taken.size());
      }
      if (fresh || use == Use::borrow) taken.emplace_back(&text, std::move(text));
      text = std::string(it->second);  // a move: a consumed repeat's bytes are freed here, not kept as capacity
      return true;
    });
    std::vector<std::string_view> bytes;
    bytes.reserve(region.size());
    for (std::size_t i : region) bytes.emplace_back(taken[i].second);
    send(framed(), bytes);
    give_back();
  } catch (...) {
    give_back();  // a borrowed message is left as it was, whatever happened
    throw;
  }
}

std::string run_event_opening(std::uint64_t run) { return R"({"type":"run.event","run":)" + std::to_string(run) + R"(,"event":)"; }

// A sender that keeps the message as one text (joined_parts).
struct JoinedText {
  std::string text;
  OutboundSender sender() {
    return [this](std::string_view json, BlobBytes blobs) { text = blobs.empty() ? std::string(json) : joined_parts(json, blobs); };
  }
};

}  // namespace

void send_outbound(const json& message, bool blobs, const OutboundSender& send) {
  if (!blobs) return send(json_text(message), {});
  // Written as it is unless a long string turns up (then the message is copied and its long strings moved out).
  if (std::string text; append_json_unless(text, message, travels_as_blob)) return send(text, {});
  send_outbound(json(message), blobs, send);
}

void send_outbound(json&& message, bool blobs, const OutboundSender& send) { send_framed(message, blobs, Use::consume, {}, {}, false, send); }

void send_outbound_borrowing(json& message, bool blobs, const OutboundSender& send) { send_framed(message, blobs, Use::borrow, {}, {}, false, send); }

void send_run_event(std::uint64_t run, json&& event, bool blobs, const OutboundSender& send) {
  send_framed(event, blobs, Use::consume, run_event_opening(run), "}", false, send);
}

void send_run_event_borrowing(std::uint64_t run, json& fields, std::string_view more_members, bool blobs, const OutboundSender& send) {
  if (!fields.is_object()) throw std::invalid_argument("send_run_event_borrowing: the event's fields must be an object");
  if (fields.empty()) more_members.remove_prefix(std::min<std::size_t>(1, more_members.size()));  // no comma after "{"
  send_framed(fields, blobs, Use::borrow, run_event_opening(run), std::string(more_members) + "}}", true, send);
}

std::string joined_parts(std::string_view json, BlobBytes blobs) {
  std::size_t size = json.size() + (blobs.empty() ? 0 : 1);
  for (std::string_view blob : blobs) size += blob.size();
  std::string out;
  out.reserve(size);
  out.append(json);
  if (!blobs.empty()) out += '\0';
  for (std::string_view blob : blobs) out.append(blob);
  return out;
}

std::string render_outbound(const json& message, bool blobs) {
  JoinedText joined;
  send_outbound(message, blobs, joined.sender());
  return std::move(joined.text);
}

std::string render_outbound(json&& message, bool blobs) {
  JoinedText joined;
  send_outbound(std::move(message), blobs, joined.sender());
  return std::move(joined.text);
}

std::string render_run_event(std::uint64_t run, json&& event, bool blobs) {
  JoinedText joined;
  send_run_event(run, std::move(event), blobs, joined.sender());
  return std::move(joined.text);
}

std::string render_run_event_borrowing(std::uint64_t run, json& fields, std::string_view more_members, bool blobs) {
  JoinedText joined;
  send_run_event_borrowing(run, fields, more_members, blobs, joined.sender());
  return std::move(joined.text);
}

}  // namespace lmthing::protocol
