// One conversation of a directive run (Liminal-style agents, see docs/directive-agents.md): its
// messages (each with the tags it was appended with), its model stack and its enabled tools, and
// where it sits in the run's branch tree. Pure data: no loop, no host, no events.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/host_copy.hpp"
#include "pipeline/call.hpp"
#include "pipeline/cancel_scope.hpp"

namespace lmthing::directive {

using json = lmthing::Json;

struct Tag {
  std::string id;
  std::string description;
};

// A model key pushed onto the stack; `handle` identifies this push so it can be popped later.
struct ModelPush {
  std::uint64_t handle = 0;
  std::string key;
};

// Which messages a read wants: those carrying `tag` (when set) within positions [from, to).
struct MessageFilter {
  std::string tag;
  std::size_t from = 0;
  std::size_t to = static_cast<std::size_t>(-1);
};

class Conversation {
 public:
  Conversation(std::uint64_t id, json path) : id_(id), path_(std::move(path)) {}

  // A child that starts from a copy of this conversation's messages (none when `fresh`), model
  // stack and tools.
  std::shared_ptr<Conversation> branch(std::uint64_t child_id, const std::string& segment, bool fresh = false) const;

  std::uint64_t id() const { return id_; }
  const json& path() const { return path_; }
  std::size_t size() const { return tags_.size(); }

  // Returns the new message's position.
  std::size_t append(json message, std::vector<Tag> tags);
  json messages(const MessageFilter& filter) const;               // [{role, content, tags: [{id, description}]}]
  const json& model_messages() const { return model_messages_; }  // [{role, content}] as a model gets them
  // The host's copy of its messages, synced by model calls under its id (a branch starts with none).
  agent::HostCopy& host_copy() { return host_copy_; }

  // The message at `index` (for LentMessage).
  json& message_at(std::size_t index) { return model_messages_.at(index); }

  void push_model(ModelPush push) { models_.push_back(std::move(push)); }
  // Removes the push with `handle` (normally the top); returns its key, or nothing if not on the stack.
  std::optional<std::string> pop_model(std::uint64_t handle);
  // The key of the top of the stack, or "default" when nothing was pushed.
  std::string current_model() const { return models_.empty() ? std::string("default") : models_.back().key; }

  // Enabling a name that is already enabled replaces that tool (in place).
  void enable_tool(pipeline::ToolBox::Entry tool);
  bool disable_tool(const std::string& name);
  // The enabled tools now; a later enable/disable makes a new box, so a reply in flight keeps its own.
  const std::shared_ptr<const pipeline::ToolBox>& tools() const { return tools_; }

  // Its model and tool ops, cancelled together when its branch group no longer needs it.
  const std::shared_ptr<pipeline::CancelScope>& scope() const { return scope_; }
  bool cancelled() const { return scope_->cancelled(); }

 private:
  std::uint64_t id_;
  json path_;  // array of strings: ["root", "0", "judge"]
  // Each message once ({role, content}, as a model gets them), and the tags it was appended with.
  json model_messages_ = json::array();
  std::vector<std::vector<Tag>> tags_;
  agent::HostCopy host_copy_;
  std::vector<ModelPush> models_;
  std::shared_ptr<const pipeline::ToolBox> tools_ = std::make_shared<const pipeline::ToolBox>();
  std::shared_ptr<pipeline::CancelScope> scope_ = std::make_shared<pipeline::CancelScope>();
};

// Lends a conversation's message to `place` (a member of a message being sent) for this object's
// lifetime: moved there, not copied, and moved back at the end. `place` must stay where it is.
class LentMessage {
 public:
  LentMessage(Conversation& conversation, std::size_t index, json& place) : stored_(conversation.message_at(index)), place_(place) {
    place_ = std::move(stored_);
  }
  ~LentMessage() { stored_ = std::move(place_); }
  LentMessage(const LentMessage&) = delete;
  LentMessage& operator=(const LentMessage&) = delete;

 private:
  json& stored_;
  json& place_;
};

}  // namespace lmthing::directive
