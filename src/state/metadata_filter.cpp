#include "state/metadata_filter.hpp"

#include "state/state_error.hpp"

namespace lmthing::state {

using json = lmthing::Json;

struct MetadataFilter::Node {
  enum Kind { all_of, any_of, eq, ne, gt, gte, lt, lte, in, nin, exists } kind;
  std::string field;              // as written ("user.tier")
  std::vector<std::string> path;  // split at dots
  json operand;
  std::vector<Node> children;  // for all_of / any_of
};

namespace {

using Node = MetadataFilter::Node;

std::vector<std::string> split_path(const std::string& field) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = field.find('.', start)) != std::string::npos; start = dot + 1) parts.push_back(field.substr(start, dot - start));
  parts.push_back(field.substr(start));
  return parts;
}

// The value at `path` (a literal key with dots wins over the nested reading), or nullptr.
const json* lookup(const json& metadata, const std::vector<std::string>& path, const std::string& joined) {
  if (!metadata.is_object()) return nullptr;
  if (path.size() > 1)
    if (auto it = metadata.find(joined); it != metadata.end()) return &*it;
  const json* at = &metadata;
  for (const std::string& key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

class Parser {
 public:
  explicit Parser(std::string where) : where_(std::move(where)) {}

  Node filter(const json& f, const std::string& at) {
    if (!f.is_object()) fail(at, "a filter must be an object, got " + std::string(f.type_name()));
    Node node{Node::all_of, {}, {}, {}, {}};
    for (const auto& [key, value] : f.items()) {
      const std::string here = at.empty() ? key : at + "." + key;
      if (key == "$and" || key == "$or") {
        if (!value.is_array() || value.empty()) fail(here, key + " takes a non-empty array of filters");
        Node group{key == "$and" ? Node::all_of : Node::any_of, {}, {}, {}, {}};
        for (std::size_t i = 0; i < value.size(); ++i) group.children.push_back(filter(value[i], here + "[" + std::to_string(i) + "]"));
        node.children.push_back(std::move(group));
      } else if (!key.empty() && key[0] == '$') {
        fail(here, "unknown combinator (expected $and or $or, or a field name)");
      } else {
        field(node, key, value);
      }
    }
    return node;
  }

 private:
  void field(Node& parent, const std::string& name, const json& condition) {
    if (name.empty()) fail(name, "empty field name");
    const bool operators = condition.is_object() && !condition.empty() && condition.begin().key().rfind('$', 0) == 0;
    if (!operators) {
      parent.children.push_back(Node{Node::eq, name, split_path(name), condition, {}});
      return;
    }
    for (const auto& [op, operand] : condition.items()) {
      const std::string here = name + "." + op;
      Node::Kind kind;
      if (op == "$eq")
        kind = Node::eq;
      else if (op == "$ne")
        kind = Node::ne;
      else if (op == "$gt")
        kind = Node::gt;
      else if (op == "$gte")
        kind = Node::gte;
      else if (op == "$lt")
        kind = Node::lt;
      else if (op == "$lte")
        kind = Node::lte;
      else if (op == "$in")
        kind = Node::in;
      else if (op == "$nin")
        kind = Node::nin;
      else if (op == "$exists")
        kind = Node::exists;
      else
        fail(here, "unknown operator (expected one of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists)");
      if ((kind == Node::in || kind == Node::nin) && !operand.is_array()) fail(here, op + " takes an array, got " + operand.type_name());
      if (kind == Node::exists && !operand.is_boolean()) fail(here, "$exists takes true or false, got " + std::string(operand.type_name()));
      if ((kind == Node::gt || kind == Node::gte || kind == Node::lt || kind == Node::lte) && !operand.is_number() && !operand.is_string())
        fail(here, op + " takes a number or a string, got " + operand.type_name());
      parent.children.push_back(Node{kind, name, split_path(name), operand, {}});
    }
  }

  [[noreturn]] void fail(const std::string& at, const std::string& problem) const {
    throw StateError(error_code::kInvalidFilter, where_ + ": invalid filter at \"" + at + "\": " + problem);
  }

  std::string where_;
};

// -1, 0, 1, or 2 when the two cannot be ordered (different kinds).
int order(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const auto& x = a.get_ref<const std::string&>();
    const auto& y = b.get_ref<const std::string&>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  return 2;
}

bool equal(const json& a, const json& b) { return order(a, b) == 0 || (order(a, b) == 2 && a == b); }

bool contains(const json& array, const json& v) {
  for (const auto& x : array)
    if (equal(x, v)) return true;
  return false;
}

bool evaluate(const Node& n, const json& metadata) {
  switch (n.kind) {
    case Node::all_of:
      for (const auto& c : n.children)
        if (!evaluate(c, metadata)) return false;
      return true;
    case Node::any_of:
      for (const auto& c : n.children)
        if (evaluate(c, metadata)) return true;
      return false;
    default: break;
  }
  const json* v = lookup(metadata, n.path, n.field);
  switch (n.kind) {
    case Node::eq: return v && equal(*v, n.operand);
    case Node::ne: return !v || !equal(*v, n.operand);
    case Node::gt: return v && order(*v, n.operand) == 1;
    case Node::gte: return v && (order(*v, n.operand) == 1 || order(*v, n.operand) == 0);
    case Node::lt: return v && order(*v, n.operand) == -1;
    case Node::lte: return v && (order(*v, n.operand) == -1 || order(*v, n.operand) == 0);
    case Node::in: return v && contains(n.operand, *v);
    case Node::nin: return !v || !contains(n.operand, *v);
    case Node::exists: return (v != nullptr) == n.operand.get<bool>();
    default: return false;
  }
}

}  // namespace

MetadataFilter MetadataFilter::parse(const json& filter, const std::string& where) {
  MetadataFilter f;
  if (filter.is_null() || (filter.is_object() && filter.empty())) return f;
  f.root_ = std::make_shared<const Node>(Parser(where).filter(filter, ""));
  return f;
}

bool MetadataFilter::matches(const json& metadata) const { return !root_ || evaluate(*root_, metadata); }

}  // namespace lmthing::state
