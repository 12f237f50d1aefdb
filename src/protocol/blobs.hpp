// Large strings cross the host boundary beside the JSON of a message, as raw UTF-8 bytes ("blobs").
//
// Why: a model's 10 MB answer used to cross as JSON five times (in once, out in the step event and
// three times in the run's reply); JSON escaping, JSON.parse and UTF-16 <-> UTF-8 transcoding of
// the whole text each time made the crossing run at ~1 MB/s. With blobs, a long string is transcoded
// once on the way in, never parsed as JSON, and a string the host already holds (one it sent, or
// one it decoded before) is handed back by key instead of being decoded again.
//
// Inbound (host -> engine): the batch's first line is the clock followed by the batch's blobs as
// ` <id>:<bytes>` entries; after the last message line come a NUL byte and the blobs' bytes, one
// after another in header order. A message refers to blob <id> with the string "\0lmthing:in:<id>".
//
// Outbound (engine -> host, only for hosts that accept blobs): strings of kBlobMinBytes or more are
// replaced in the message's JSON by "\0lmthing:out:<offset>:<bytes>:<key>"; after the JSON come a
// NUL and the blob bytes (offsets count from just after the NUL). The key is "in:<id>" when the
// bytes equal an inbound blob the engine remembers (by hash and length), otherwise "h:<hash>:<bytes>";
// a host may answer a key from its own cache instead of decoding the bytes.
//
// Every string that starts with kBlobMarkerPrefix travels as a blob, whatever its length, so no
// string a user wrote is ever mistaken for a marker. src/protocol/PROTOCOL.md has the wire format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "protocol/json.hpp"

namespace lmthing::protocol {

using json = lmthing::Json;

// Strings this long (in UTF-8 bytes) travel as blobs to hosts that accept them.
inline constexpr std::size_t kBlobMinBytes = 16 * 1024;
inline constexpr std::string_view kBlobMarkerPrefix{"\0lmthing:", 9};
inline constexpr std::string_view kInboundMarkerPrefix{"\0lmthing:in:", 12};

// A fast 64-bit hash of `text` (not cryptographic): with the length, the key of a blob's bytes.
std::uint64_t text_hash(std::string_view text);

// One blob of an inbound batch: a view of its bytes in the batch's text (valid as long as that text
// is), or the repaired text when the bytes were not UTF-8. Kept as a view, a long text is copied
// once, into the message that names it.
struct InboundBlob {
  std::string_view bytes;
  std::optional<std::string> repaired;
  std::string_view text() const { return repaired ? std::string_view(*repaired) : bytes; }
};
// The blobs one inbound batch carries, by the host's id. Their text is valid UTF-8.
using InboundBlobs = std::unordered_map<std::string, InboundBlob>;

// Reads the blob entries of a batch's clock line (`entries`, what follows the clock) and takes their
// bytes off the end of `body` (the batch after its clock line), which then ends with the last
// message line. Returns an empty string, or what is wrong (then `blobs` is empty and `body` as
// given). The blobs are views of `body`'s text. Remembers each blob's hash and length, for naming the same bytes when they go back out.
std::string read_inbound_blobs(std::string_view entries, std::string_view& body, InboundBlobs& blobs);

// Replaces every "\0lmthing:in:<id>" string in `message` with blob <id>'s bytes. Returns an empty
// string, or the problem (a marker naming a blob the batch does not carry).
std::string resolve_inbound_markers(json& message, const InboundBlobs& blobs);

// An outbound message as a host that accepts blobs takes it: its JSON, and the bytes of its long
// strings in the order of their markers' offsets (views of the engine's strings, valid only during
// the call). Handed over in parts, a 50 MB answer is not copied into a message to go out.
using BlobBytes = std::span<const std::string_view>;
using OutboundSender = std::function<void(std::string_view json, BlobBytes blobs)>;

// Hands `send` the parts of an outbound message (its JSON; with `blobs`, long strings beside it as
// described above). Invalid UTF-8 in the JSON part becomes U+FFFD.
void send_outbound(const json& message, bool blobs, const OutboundSender& send);
// The same for a message the caller gives up: its long strings are moved out, not copied, and a
// string that repeats another's bytes is freed as soon as it is found.
void send_outbound(json&& message, bool blobs, const OutboundSender& send);
// The same without copying `message`: its long strings are moved out for the call and put back,
// so `message` is left as it was.
void send_outbound_borrowing(json& message, bool blobs, const OutboundSender& send);
// The same for {"type":"run.event","run":<run>,"event":<event>}. The wrapper is written as text
// around the event's JSON: building it as a JSON value cost more than the rest of a small event.
void send_run_event(std::uint64_t run, json&& event, bool blobs, const OutboundSender& send);
// The same for an event made of `fields` (an object) and `more_members` (JSON text of further
// members, starting with a comma: `,"type":"step-finish"`), without copying `fields`: its long
// strings are moved out for the call and put back, so `fields` is left as it was.
void send_run_event_borrowing(std::uint64_t run, json& fields, std::string_view more_members, bool blobs, const OutboundSender& send);

// A message's parts as one text: the JSON, then, when there are blobs, a NUL and their bytes.
std::string joined_parts(std::string_view json, BlobBytes blobs);

// The send_* functions' messages as one text each (joined_parts), for hosts and tests that want it.
std::string render_outbound(const json& message, bool blobs);
std::string render_outbound(json&& message, bool blobs);
std::string render_run_event(std::uint64_t run, json&& event, bool blobs);
std::string render_run_event_borrowing(std::uint64_t run, json& fields, std::string_view more_members, bool blobs);

}  // namespace lmthing::protocol
