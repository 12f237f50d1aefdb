#include "directive/conversation.hpp"

#include <algorithm>

namespace lmthing::directive {

std::shared_ptr<Conversation> Conversation::branch(std::uint64_t child_id, const std::string& segment, bool fresh) const {
  json path = path_;
  path.push_back(segment);
  auto child = std::make_shared<Conversation>(child_id, std::move(path));
  if (!fresh) child->messages_ = messages_;
  child->models_ = models_;
  child->tools_ = tools_;
  return child;
}

std::size_t Conversation::append(json message, std::vector<Tag> tags) {
  messages_.push_back(StoredMessage{std::move(message), std::move(tags)});
  return messages_.size() - 1;
}

json Conversation::messages(const MessageFilter& filter) const {
  json out = json::array();
  const std::size_t end = std::min(filter.to, messages_.size());
  for (std::size_t i = filter.from; i < end; ++i) {
    const StoredMessage& stored = messages_[i];
    if (!filter.tag.empty() && std::none_of(stored.tags.begin(), stored.tags.end(), [&](const Tag& t) { return t.id == filter.tag; })) continue;
    json tags = json::array();
    for (const Tag& tag : stored.tags) tags.push_back(json{{"id", tag.id}, {"description", tag.description}});
    json item = stored.message;
    item["tags"] = std::move(tags);
    item["index"] = i;
    out.push_back(std::move(item));
  }
  return out;
}

json Conversation::model_messages() const {
  json out = json::array();
  for (const StoredMessage& stored : messages_) out.push_back(stored.message);
  return out;
}

std::optional<std::string> Conversation::pop_model(std::uint64_t handle) {
  auto it = std::find_if(models_.begin(), models_.end(), [&](const ModelPush& p) { return p.handle == handle; });
  if (it == models_.end()) return std::nullopt;
  std::string key = it->key;
  models_.erase(it);
  return key;
}

void Conversation::enable_tool(agent::ToolSpec tool) {
  for (auto& existing : tools_)
    if (existing.name == tool.name) {
      existing = std::move(tool);
      return;
    }
  tools_.push_back(std::move(tool));
}

bool Conversation::disable_tool(const std::string& name) {
  auto it = std::find_if(tools_.begin(), tools_.end(), [&](const agent::ToolSpec& t) { return t.name == name; });
  if (it == tools_.end()) return false;
  tools_.erase(it);
  return true;
}

std::vector<const agent::ToolSpec*> Conversation::tools() const {
  std::vector<const agent::ToolSpec*> out;
  for (const auto& tool : tools_) out.push_back(&tool);
  return out;
}

}  // namespace lmthing::directive
