#include "directive/conversation.hpp"

#include <algorithm>

namespace lmthing::directive {

std::shared_ptr<Conversation> Conversation::branch(std::uint64_t child_id, const std::string& segment, bool fresh) const {
  json path = path_;
  path.push_back(segment);
  auto child = std::make_shared<Conversation>(child_id, std::move(path));
  if (!fresh) {
    child->model_messages_ = model_messages_;
    child->tags_ = tags_;
  }
  child->models_ = models_;
  child->tools_ = tools_;
  return child;
}

std::size_t Conversation::append(json message, std::vector<Tag> tags) {
  tags_.push_back(std::move(tags));
  try {
    model_messages_.push_back(std::move(message));
  } catch (...) {
    tags_.pop_back();  // out of memory: the conversation stays as it was
    throw;
  }
  return tags_.size() - 1;
}

json Conversation::messages(const MessageFilter& filter) const {
  json out = json::array();
  const std::size_t end = std::min(filter.to, tags_.size());
  for (std::size_t i = filter.from; i < end; ++i) {
    const std::vector<Tag>& applied = tags_[i];
    if (!filter.tag.empty() && std::none_of(applied.begin(), applied.end(), [&](const Tag& t) { return t.id == filter.tag; })) continue;
    json tags = json::array();
    for (const Tag& tag : applied) tags.push_back(json{{"id", tag.id}, {"description", tag.description}});
    json item = model_messages_[i];
    item["tags"] = std::move(tags);
    item["index"] = i;
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<std::string> Conversation::pop_model(std::uint64_t handle) {
  auto it = std::find_if(models_.begin(), models_.end(), [&](const ModelPush& p) { return p.handle == handle; });
  if (it == models_.end()) return std::nullopt;
  std::string key = it->key;
  models_.erase(it);
  return key;
}

void Conversation::enable_tool(pipeline::ToolBox::Entry tool) {
  auto tools = std::make_shared<pipeline::ToolBox>(*tools_);
  tools->put(std::move(tool));
  tools_ = std::move(tools);
}

bool Conversation::disable_tool(const std::string& name) {
  auto tools = std::make_shared<pipeline::ToolBox>(*tools_);
  if (!tools->remove(name)) return false;
  tools_ = std::move(tools);
  return true;
}

}  // namespace lmthing::directive
