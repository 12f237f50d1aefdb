#include "agent/content.hpp"

namespace lmthing::agent {

std::string text_of(const lmthing::Json& content, std::string_view type) {
  if (content.is_string()) return type == "text" ? content.get<std::string>() : std::string();
  std::string text;
  if (content.is_array())
    for (const auto& part : content)
      if (part.is_object() && part.value("type", "") == type)
        if (auto it = part.find("text"); it != part.end()) text += it->get_ref<const std::string&>();  // no copy of a long text
  return text;
}

std::string json_body(std::string text) {
  auto start = text.find("```");
  if (start == std::string::npos) return text;
  auto body = text.find('\n', start);
  auto end = text.rfind("```");
  if (body != std::string::npos && end > body) return text.substr(body + 1, end - body - 1);
  return text;
}

}  // namespace lmthing::agent
