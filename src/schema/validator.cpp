#include "schema/validator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string_view>
#include <utility>

#include "protocol/json_text.hpp"
#include "schema/format.hpp"
#include "schema/metaschema.hpp"
#include "schema/regex.hpp"
#include "schema/uri.hpp"

namespace lmthing::schema {

using json = lmthing::Json;

namespace detail {

// Bit per JSON Schema type; an integral number carries both kInteger and kNumber.
enum TypeBits : unsigned {
  kNull = 1u << 0,
  kBoolean = 1u << 1,
  kInteger = 1u << 2,
  kNumber = 1u << 3,
  kString = 1u << 4,
  kArray = 1u << 5,
  kObject = 1u << 6,
};

// A numeric keyword value, with its JSON text for messages ("must be <= 10").
struct Bound {
  double value = 0;
  std::string text;
};

struct Node;

struct PatternProperty {
  const EcmaRegex* regex = nullptr;
  const Node* schema = nullptr;
};

// One compiled (sub)schema. Absent keywords are null pointers / empty optionals.
struct Node {
  enum class Kind { kAcceptAll, kRejectAll, kKeywords };
  Kind kind = Kind::kKeywords;
  std::string path;  // schema location for error reports, e.g. "#/properties/a"

  const Node* ref = nullptr;  // draft-07: a $ref replaces every sibling keyword

  unsigned types = 0;  // 0: no "type" keyword
  std::string typeNames;
  std::optional<json> enumValues;
  std::optional<json> constValue;

  std::optional<json> multipleOf;
  std::optional<Bound> maximum, minimum, exclusiveMaximum, exclusiveMinimum;

  std::optional<std::size_t> maxLength, minLength;
  const EcmaRegex* pattern = nullptr;
  std::string patternSource;
  std::string formatName;
  format::Checker formatChecker = nullptr;

  const Node* items = nullptr;           // "items" as one schema for every element
  std::vector<const Node*> itemSchemas;  // "items" as an array (tuple form)
  bool itemsIsArray = false;
  const Node* additionalItems = nullptr;  // only meaningful in tuple form
  std::optional<std::size_t> maxItems, minItems;
  bool uniqueItems = false;
  const Node* contains = nullptr;

  std::optional<std::size_t> maxProperties, minProperties;
  std::vector<std::string> required;
  std::map<std::string, const Node*, std::less<>> properties;
  std::vector<PatternProperty> patternProperties;
  const Node* additionalProperties = nullptr;
  std::map<std::string, std::vector<std::string>> propertyDependencies;
  std::map<std::string, const Node*> schemaDependencies;
  const Node* propertyNames = nullptr;

  const Node* ifSchema = nullptr;
  const Node* thenSchema = nullptr;
  const Node* elseSchema = nullptr;
  std::vector<const Node*> allOf, anyOf, oneOf;
  const Node* notSchema = nullptr;
};

struct Document {
  json value;
  std::string uri;  // retrieval URI; "" for the root schema
};

struct CompiledSchema {
  std::vector<std::unique_ptr<Document>> documents;
  std::vector<std::unique_ptr<Node>> nodes;
  std::map<std::string, std::unique_ptr<EcmaRegex>, std::less<>> regexes;  // by source, shared
  const Node* root = nullptr;
};

}  // namespace detail

namespace {

using detail::Bound;
using detail::CompiledSchema;
using detail::Document;
using detail::Node;

// ---------------------------------------------------------------------------------------------
// JSON helpers

std::string escapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

// Array index token: digits without leading zeros.
std::optional<std::size_t> parseIndex(std::string_view token) {
  if (token.empty() || token.size() > 18 || (token.size() > 1 && token[0] == '0')) return std::nullopt;
  std::size_t index = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  return index;
}

// Follows an (escaped) JSON pointer; nullptr when it leads nowhere.
const json* followPointer(const json& root, std::string_view pointer) {
  const json* current = &root;
  while (!pointer.empty()) {
    if (pointer.front() != '/') return nullptr;
    pointer.remove_prefix(1);
    const std::size_t end = std::min(pointer.find('/'), pointer.size());
    const std::string token = unescapePointerToken(pointer.substr(0, end));
    pointer.remove_prefix(end);
    if (current->is_object()) {
      const auto it = current->find(token);
      if (it == current->end()) return nullptr;
      current = &*it;
    } else if (current->is_array()) {
      const auto index = parseIndex(token);
      if (!index || *index >= current->size()) return nullptr;
      current = &(*current)[*index];
    } else {
      return nullptr;
    }
  }
  return current;
}

bool isIntegral(const json& value) {
  if (value.is_number_integer()) return true;  // also true for unsigned
  if (!value.is_number_float()) return false;
  const double d = value.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

unsigned typeBitsOf(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return detail::kNull;
    case json::value_t::boolean: return detail::kBoolean;
    case json::value_t::string: return detail::kString;
    case json::value_t::array: return detail::kArray;
    case json::value_t::object: return detail::kObject;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return detail::kNumber | (isIntegral(value) ? detail::kInteger : 0u);
    default: return 0;
  }
}

int typeRank(const json& value) {
  if (value.is_null()) return 0;
  if (value.is_boolean()) return 1;
  if (value.is_number()) return 2;
  if (value.is_string()) return 3;
  if (value.is_array()) return 4;
  return 5;
}

template <typename T>
int threeWay(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Exact for integers of any sign/width, by value otherwise, so that 1 == 1.0.
int compareNumbers(const json& a, const json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    const bool aNegative = !a.is_number_unsigned() && a.get<std::int64_t>() < 0;
    const bool bNegative = !b.is_number_unsigned() && b.get<std::int64_t>() < 0;
    if (aNegative != bNegative) return aNegative ? -1 : 1;
    if (aNegative) return threeWay(a.get<std::int64_t>(), b.get<std::int64_t>());
    return threeWay(a.get<std::uint64_t>(), b.get<std::uint64_t>());
  }
  return threeWay(a.get<double>(), b.get<double>());
}

// A total order on JSON values whose equivalence is JSON Schema equality.
int compareJson(const json& a, const json& b) {
  const int rankOrder = threeWay(typeRank(a), typeRank(b));
  if (rankOrder != 0) return rankOrder;
  switch (typeRank(a)) {
    case 0: return 0;
    case 1: return threeWay(a.get<bool>(), b.get<bool>());
    case 2: return compareNumbers(a, b);
    case 3: return a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    case 4: {
      if (a.size() != b.size()) return threeWay(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (const int order = compareJson(a[i], b[i]); order != 0) return order;
      }
      return 0;
    }
    default: {
      if (a.size() != b.size()) return threeWay(a.size(), b.size());
      // Objects keep their written key order; equality ignores it, so members line up by sorted key.
      const auto a_members = protocol::members_by_key(a), b_members = protocol::members_by_key(b);
      for (std::size_t i = 0; i < a_members.size(); ++i) {
        if (const int order = a_members[i]->first.compare(b_members[i]->first); order != 0) return order;
        if (const int order = compareJson(a_members[i]->second, b_members[i]->second); order != 0) return order;
      }
      return 0;
    }
  }
}

bool jsonEqual(const json& a, const json& b) { return compareJson(a, b) == 0; }

std::size_t codePointCount(const std::string& utf8) {
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // skip continuation bytes
  }));
}

// Floating point safe: exact for integers, otherwise the quotient must be (nearly) whole.
bool isMultipleOf(const json& value, const json& divisor) {
  if (value.is_number_integer() && divisor.is_number_integer()) {
    const std::uint64_t d = divisor.get<std::uint64_t>();  // > 0, checked at compile time
    const std::uint64_t magnitude =
        value.is_number_unsigned() ? value.get<std::uint64_t>() : static_cast<std::uint64_t>(std::llabs(value.get<std::int64_t>()));
    return magnitude % d == 0;
  }
  const double quotient = value.get<double>() / divisor.get<double>();
  if (!std::isfinite(quotient)) return false;
  return std::fabs(quotient - std::nearbyint(quotient)) < 1e-9;
}

// Short JSON text for messages; long values are elided.
std::string brief(const json& value) {
  std::string text = value.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

// ---------------------------------------------------------------------------------------------
// Compilation

struct Location {
  std::size_t doc = 0;
  std::string pointer;  // escaped JSON pointer inside the document
};

// Calls f(pointerSuffix, subschema) for every subschema position of `schema` (not recursive).
template <typename F>
void forEachSubschema(const json& schema, F&& f) {
  if (!schema.is_object()) return;
  for (const char* keyword : {"additionalItems", "additionalProperties", "contains", "propertyNames", "if", "then", "else", "not"}) {
    if (const auto it = schema.find(keyword); it != schema.end()) f(std::string("/") + keyword, *it);
  }
  if (const auto it = schema.find("items"); it != schema.end()) {
    if (it->is_array()) {
      for (std::size_t i = 0; i < it->size(); ++i) f("/items/" + std::to_string(i), (*it)[i]);
    } else {
      f("/items", *it);
    }
  }
  for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
    const auto it = schema.find(keyword);
    if (it == schema.end() || !it->is_array()) continue;
    for (std::size_t i = 0; i < it->size(); ++i) f(std::string("/") + keyword + "/" + std::to_string(i), (*it)[i]);
  }
  // "$defs" is not a draft-07 keyword, but newer documents use it as "definitions".
  for (const char* keyword : {"properties", "patternProperties", "definitions", "$defs", "dependencies"}) {
    const auto it = schema.find(keyword);
    if (it == schema.end() || !it->is_object()) continue;
    for (const auto& [name, sub] : it->items()) {
      if (sub.is_object() || sub.is_boolean()) f(std::string("/") + keyword + "/" + escapePointerToken(name), sub);
    }
  }
}

// The $id of a schema object, unless a $ref makes every sibling (including $id) ignored.
std::optional<std::string> ownId(const json& schema) {
  if (!schema.is_object() || schema.contains("$ref")) return std::nullopt;
  const auto it = schema.find("$id");
  if (it == schema.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The base URI inside `schema`, given the base URI around it.
std::string applyId(const std::string& base, const json& schema) {
  const auto id = ownId(schema);
  if (!id) return base;
  return uri::splitFragment(uri::resolve(base, *id)).first;
}

// Everything needed while compiling the keywords of one schema object.
struct NodeContext {
  Node& node;
  const json& schema;
  const Location& loc;
  const std::string& base;
};

class Compiler {
 public:
  Compiler(CompiledSchema& out, RemoteResolver resolver) : out_(out), resolver_(std::move(resolver)) {}

  const Node* compileRoot(json schema) {
    const std::size_t doc = addDocument(std::move(schema), "");
    const Location root{doc, ""};
    const Node* node = nodeAt(root, applyId("", out_.documents[doc]->value));
    // Keywords are compiled from a work list, not recursively: however deeply a schema nests, the
    // stack does not grow with it (in wasm, recursion runs on V8's ~1 MB native stack).
    while (!pending_.empty()) {
      Pending next = std::move(pending_.back());
      pending_.pop_back();
      compileKeywords(*next.node, next.loc, next.base);
    }
    rejectRefCycles();
    return node;
  }

 private:
  std::size_t addDocument(json value, const std::string& uri) {
    const std::size_t doc = out_.documents.size();
    out_.documents.push_back(std::make_unique<Document>(Document{std::move(value), uri}));
    resources_.emplace(uri, Location{doc, ""});
    indexIds(doc, out_.documents[doc]->value, "", uri);
    return doc;
  }

  // Registers every $id of a document: full URIs as resources, "#name" as plain-name anchors.
  // Walks the subschemas in document order with an explicit stack (no recursion).
  void indexIds(std::size_t doc, const json& root, const std::string& pointer, const std::string& base) {
    struct Visit {
      const json* schema;
      std::string pointer;
      std::string base;
    };
    std::vector<Visit> stack{{&root, pointer, base}};
    std::vector<Visit> children;
    while (!stack.empty()) {
      Visit visit = std::move(stack.back());
      stack.pop_back();
      if (!visit.schema->is_object()) continue;
      std::string innerBase = visit.base;
      if (const auto id = ownId(*visit.schema)) {
        auto [resource, fragment] = uri::splitFragment(uri::resolve(visit.base, *id));
        if (!id->starts_with("#")) resources_.emplace(resource, Location{doc, visit.pointer});
        if (!fragment.empty() && fragment.front() != '/') anchors_.emplace(resource + "#" + fragment, Location{doc, visit.pointer});
        innerBase = resource;
      }
      children.clear();
      forEachSubschema(*visit.schema, [&](const std::string& suffix, const json& sub) {
        children.push_back({&sub, visit.pointer + suffix, innerBase});
      });
      for (auto child = children.rbegin(); child != children.rend(); ++child) stack.push_back(std::move(*child));  // first child on top
    }
  }

  const json* lookup(const Location& loc) const { return followPointer(out_.documents[loc.doc]->value, loc.pointer); }

  // The base URI in effect inside the value at `loc` (every $id on the way applies).
  std::string baseAt(const Location& loc) const {
    const json* current = &out_.documents[loc.doc]->value;
    std::string base = applyId(out_.documents[loc.doc]->uri, *current);
    std::string_view rest = loc.pointer;
    std::string prefix;
    while (!rest.empty()) {
      const std::size_t end = std::min(rest.find('/', 1), rest.size());
      prefix += rest.substr(0, end);
      rest.remove_prefix(end);
      current = followPointer(out_.documents[loc.doc]->value, prefix);
      if (current == nullptr) break;
      base = applyId(base, *current);
    }
    return base;
  }

  std::string displayPath(const Location& loc) const {
    const std::string& docUri = out_.documents[loc.doc]->uri;
    return (loc.doc == 0 ? std::string() : docUri) + "#" + loc.pointer;
  }

  // ---- $ref resolution ----

  Location findResource(const std::string& resource, const std::string& ref) {
    if (const auto it = resources_.find(resource); it != resources_.end()) return it->second;
    loadRemote(resource, ref);
    return resources_.at(resource);
  }

  void loadRemote(const std::string& resource, const std::string& ref) {
    if (resource == kDraft07MetaSchemaUri) {
      addDocument(json::parse(draft07MetaSchemaText()), resource);
      return;
    }
    std::optional<json> document = resolver_ ? resolver_(resource) : std::nullopt;
    if (!document) throw SchemaError("cannot resolve $ref \"" + ref + "\": unknown schema \"" + resource + "\"");
    addDocument(std::move(*document), resource);
  }

  Location resolveRef(const std::string& ref, const std::string& base) {
    const std::string absolute = uri::resolve(base, ref);
    auto [resource, fragment] = uri::splitFragment(absolute);
    fragment = uri::percentDecode(fragment);
    if (fragment.empty() || fragment.front() == '/') {
      const Location root = findResource(resource, ref);
      Location target{root.doc, root.pointer + fragment};
      if (lookup(target) == nullptr) throw SchemaError("cannot resolve $ref \"" + ref + "\": no such location");
      return target;
    }
    const std::string anchor = resource + "#" + fragment;
    if (!anchors_.contains(anchor)) findResource(resource, ref);  // may load the document
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw SchemaError("cannot resolve $ref \"" + ref + "\": no schema with $id \"#" + fragment + "\"");
    return it->second;
  }

  // A chain of $refs that leads back to itself would never reach a keyword.
  void rejectRefCycles() const {
    for (const auto& node : out_.nodes) {
      std::set<const Node*> seen;
      for (const Node* current = node.get(); current->ref != nullptr; current = current->ref) {
        if (!seen.insert(current).second) throw SchemaError("circular $ref at " + current->path);
      }
    }
  }

  // ---- schema nodes ----

  // The node of the schema at `loc`: an existing one, or a new one whose keywords wait in pending_.
  Node* nodeAt(const Location& loc, const std::string& base) {
    const std::string key = std::to_string(loc.doc) + "#" + loc.pointer;
    if (const auto it = compiled_.find(key); it != compiled_.end()) return it->second;
    Node* node = out_.nodes.emplace_back(std::make_unique<Node>()).get();
    compiled_.emplace(key, node);  // before the keywords, so recursive refs find it
    node->path = displayPath(loc);
    pending_.push_back({node, loc, base});
    return node;
  }

  void compileKeywords(Node& node, const Location& loc, const std::string& base) {
    const json& schema = *lookup(loc);
    if (schema.is_boolean()) {
      node.kind = schema.get<bool>() ? Node::Kind::kAcceptAll : Node::Kind::kRejectAll;
      return;
    }
    if (!schema.is_object()) {
      throw SchemaError("invalid schema at " + node.path + ": a schema must be an object or a boolean, not " + std::string(schema.type_name()));
    }
    const NodeContext ctx{node, schema, loc, base};
    if (schema.contains("$ref")) {
      compileRef(ctx);
      return;
    }
    compileType(ctx);
    compileValueKeywords(ctx);
    compileNumberKeywords(ctx);
    compileStringKeywords(ctx);
    compileArrayKeywords(ctx);
    compileObjectKeywords(ctx);
    compileCombinators(ctx);
    compileDefinitions(ctx);
  }

  Node* child(const NodeContext& ctx, const std::string& suffix) {
    const Location loc{ctx.loc.doc, ctx.loc.pointer + suffix};
    return nodeAt(loc, applyId(ctx.base, *lookup(loc)));
  }

  [[noreturn]] static void invalid(const NodeContext& ctx, std::string_view keyword, std::string_view problem) {
    throw SchemaError("invalid schema at " + ctx.node.path + ": \"" + std::string(keyword) + "\" " + std::string(problem));
  }

  static const json* find(const NodeContext& ctx, const char* keyword) {
    const auto it = ctx.schema.find(keyword);
    return it == ctx.schema.end() ? nullptr : &*it;
  }

  void compileRef(const NodeContext& ctx) {
    const json& ref = ctx.schema.at("$ref");
    if (!ref.is_string()) invalid(ctx, "$ref", "must be a string");
    const Location target = resolveRef(ref.get<std::string>(), ctx.base);
    ctx.node.ref = nodeAt(target, baseAt(target));
  }

  static unsigned typeBitFor(const NodeContext& ctx, const json& name) {
    static constexpr std::pair<std::string_view, unsigned> kTypes[] = {
        {"null", detail::kNull},     {"boolean", detail::kBoolean}, {"integer", detail::kInteger}, {"number", detail::kNumber},
        {"string", detail::kString}, {"array", detail::kArray},     {"object", detail::kObject},
    };
    if (name.is_string()) {
      for (const auto& [typeName, bit] : kTypes) {
        if (typeName == name.get_ref<const std::string&>()) return bit;
      }
    }
    invalid(ctx, "type",
            "must be a type name (null, boolean, integer, number, string, array, object) or an array of them, "
            "not " +
                brief(name));
  }

  void compileType(const NodeContext& ctx) {
    const json* type = find(ctx, "type");
    if (type == nullptr) return;
    const json names = type->is_array() ? *type : json::array({*type});
    if (names.empty()) invalid(ctx, "type", "must not be an empty array");
    for (const json& name : names) {
      ctx.node.types |= typeBitFor(ctx, name);
      ctx.node.typeNames += (ctx.node.typeNames.empty() ? "" : ",") + name.get<std::string>();
    }
  }

  static void compileValueKeywords(const NodeContext& ctx) {
    if (const json* values = find(ctx, "enum")) {
      if (!values->is_array()) invalid(ctx, "enum", "must be an array");
      ctx.node.enumValues = *values;
    }
    if (const json* value = find(ctx, "const")) ctx.node.constValue = *value;
  }

  static std::optional<Bound> readBound(const NodeContext& ctx, const char* keyword) {
    const json* value = find(ctx, keyword);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number()) invalid(ctx, keyword, "must be a number");
    return Bound{value->get<double>(), value->dump()};
  }

  static std::optional<std::size_t> readCount(const NodeContext& ctx, const char* keyword) {
    const json* value = find(ctx, keyword);
    if (value == nullptr) return std::nullopt;
    if (!isIntegral(*value) || value->get<double>() < 0) invalid(ctx, keyword, "must be a non-negative integer");
    if (value->is_number_unsigned()) return static_cast<std::size_t>(value->get<std::uint64_t>());
    const double d = value->get<double>();
    return d >= static_cast<double>(std::numeric_limits<std::size_t>::max()) ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(d);
  }

  static void compileNumberKeywords(const NodeContext& ctx) {
    if (const json* divisor = find(ctx, "multipleOf")) {
      if (!divisor->is_number() || divisor->get<double>() <= 0) invalid(ctx, "multipleOf", "must be a number > 0");
      ctx.node.multipleOf = *divisor;
    }
    ctx.node.maximum = readBound(ctx, "maximum");
    ctx.node.minimum = readBound(ctx, "minimum");
    ctx.node.exclusiveMaximum = readBound(ctx, "exclusiveMaximum");
    ctx.node.exclusiveMinimum = readBound(ctx, "exclusiveMinimum");
  }

  // Compiled regexes are shared by source text across the whole Validator.
  const EcmaRegex* regexFor(const NodeContext& ctx, std::string_view keyword, const std::string& source) {
    if (const auto it = out_.regexes.find(source); it != out_.regexes.end()) return it->second.get();
    std::string error;
    auto regex = EcmaRegex::compile(source, &error);
    if (!regex) invalid(ctx, keyword, "has an invalid regular expression \"" + source + "\": " + error);
    return out_.regexes.emplace(source, std::move(regex)).first->second.get();
  }

  void compileStringKeywords(const NodeContext& ctx) {
    ctx.node.maxLength = readCount(ctx, "maxLength");
    ctx.node.minLength = readCount(ctx, "minLength");
    if (const json* pattern = find(ctx, "pattern")) {
      if (!pattern->is_string()) invalid(ctx, "pattern", "must be a string");
      ctx.node.patternSource = pattern->get<std::string>();
      ctx.node.pattern = regexFor(ctx, "pattern", ctx.node.patternSource);
    }
    if (const json* formatName = find(ctx, "format")) {
      if (!formatName->is_string()) invalid(ctx, "format", "must be a string");
      ctx.node.formatName = formatName->get<std::string>();
      ctx.node.formatChecker = format::findChecker(ctx.node.formatName);
    }
  }

  void compileArrayKeywords(const NodeContext& ctx) {
    if (const json* items = find(ctx, "items")) {
      if (items->is_array()) {
        ctx.node.itemsIsArray = true;
        for (std::size_t i = 0; i < items->size(); ++i) ctx.node.itemSchemas.push_back(child(ctx, "/items/" + std::to_string(i)));
      } else {
        ctx.node.items = child(ctx, "/items");
      }
    }
    if (find(ctx, "additionalItems") != nullptr) ctx.node.additionalItems = child(ctx, "/additionalItems");
    ctx.node.maxItems = readCount(ctx, "maxItems");
    ctx.node.minItems = readCount(ctx, "minItems");
    if (const json* unique = find(ctx, "uniqueItems")) {
      if (!unique->is_boolean()) invalid(ctx, "uniqueItems", "must be a boolean");
      ctx.node.uniqueItems = unique->get<bool>();
    }
    if (find(ctx, "contains") != nullptr) ctx.node.contains = child(ctx, "/contains");
  }

  static std::vector<std::string> readStringArray(const NodeContext& ctx, std::string_view keyword, const json& value) {
    if (!value.is_array()) invalid(ctx, keyword, "must be an array of strings");
    std::vector<std::string> out;
    for (const json& item : value) {
      if (!item.is_string()) invalid(ctx, keyword, "must be an array of strings, found " + brief(item));
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  // Calls f(name) for each member of an object-valued keyword (properties, definitions, ...).
  template <typename F>
  static void forEachMember(const NodeContext& ctx, const char* keyword, F&& f) {
    const json* members = find(ctx, keyword);
    if (members == nullptr) return;
    if (!members->is_object()) invalid(ctx, keyword, "must be an object");
    for (const auto& [name, value] : members->items()) f(name, value);
  }

  void compileObjectKeywords(const NodeContext& ctx) {
    Node& node = ctx.node;
    node.maxProperties = readCount(ctx, "maxProperties");
    node.minProperties = readCount(ctx, "minProperties");
    if (const json* required = find(ctx, "required")) node.required = readStringArray(ctx, "required", *required);
    forEachMember(ctx, "properties", [&](const std::string& name, const json&) {
      node.properties.emplace(name, child(ctx, "/properties/" + escapePointerToken(name)));
    });
    forEachMember(ctx, "patternProperties", [&](const std::string& name, const json&) {
      node.patternProperties.push_back({regexFor(ctx, "patternProperties", name), child(ctx, "/patternProperties/" + escapePointerToken(name))});
    });
    if (find(ctx, "additionalProperties") != nullptr) node.additionalProperties = child(ctx, "/additionalProperties");
    forEachMember(ctx, "dependencies", [&](const std::string& name, const json& value) {
      if (value.is_array()) {
        node.propertyDependencies.emplace(name, readStringArray(ctx, "dependencies", value));
      } else {
        node.schemaDependencies.emplace(name, child(ctx, "/dependencies/" + escapePointerToken(name)));
      }
    });
    if (find(ctx, "propertyNames") != nullptr) node.propertyNames = child(ctx, "/propertyNames");
  }

  std::vector<const Node*> schemaList(const NodeContext& ctx, const char* keyword) {
    const json* list = find(ctx, keyword);
    if (list == nullptr) return {};
    if (!list->is_array() || list->empty()) invalid(ctx, keyword, "must be a non-empty array of schemas");
    std::vector<const Node*> out;
    for (std::size_t i = 0; i < list->size(); ++i) out.push_back(child(ctx, "/" + std::string(keyword) + "/" + std::to_string(i)));
    return out;
  }

  const Node* optionalChild(const NodeContext& ctx, const char* keyword) {
    return find(ctx, keyword) == nullptr ? nullptr : child(ctx, "/" + std::string(keyword));
  }

  void compileCombinators(const NodeContext& ctx) {
    ctx.node.allOf = schemaList(ctx, "allOf");
    ctx.node.anyOf = schemaList(ctx, "anyOf");
    ctx.node.oneOf = schemaList(ctx, "oneOf");
    ctx.node.notSchema = optionalChild(ctx, "not");
    ctx.node.ifSchema = optionalChild(ctx, "if");
    ctx.node.thenSchema = optionalChild(ctx, "then");
    ctx.node.elseSchema = optionalChild(ctx, "else");
  }

  // Definitions are not applied, but compiling them reports broken ones early.
  void compileDefinitions(const NodeContext& ctx) {
    forEachMember(ctx, "definitions", [&](const std::string& name, const json&) { child(ctx, "/definitions/" + escapePointerToken(name)); });
  }

  CompiledSchema& out_;
  RemoteResolver resolver_;
  std::map<std::string, Location> resources_;  // absolute URI without fragment -> schema
  std::map<std::string, Location> anchors_;    // "uri#name" -> schema with that plain-name $id
  std::map<std::string, Node*> compiled_;      // "doc#pointer" -> node
  struct Pending {
    Node* node;
    Location loc;
    std::string base;
  };
  std::vector<Pending> pending_;  // nodes created, keywords not compiled yet
};

// ---------------------------------------------------------------------------------------------
// Validation

// Nested schema applications allowed before giving up on a (legal but) endlessly recursive schema;
// sized for the 1 MiB stack of the wasm build.
constexpr int kMaxDepth = 400;

class Evaluator {
 public:
  explicit Evaluator(std::vector<ValidationIssue>* sink) : sink_(sink) {}

  bool validate(const Node& node, const json& instance) {
    if (node.kind == Node::Kind::kAcceptAll) return true;
    if (node.kind == Node::Kind::kRejectAll) {
      reportAt(node.path, "boolean schema is false");
      return false;
    }
    if (depth_ >= kMaxDepth) {
      reportAt(node.path, "schema nesting is too deep (recursive $ref?)");
      return false;
    }
    ++depth_;
    const bool valid = node.ref != nullptr ? validate(*node.ref, instance) : validateKeywords(node, instance);
    --depth_;
    return valid;
  }

 private:
  using Check = bool (Evaluator::*)(const Node&, const json&);

  bool validateKeywords(const Node& node, const json& instance) {
    static constexpr Check kChecks[] = {
        &Evaluator::checkType,         &Evaluator::checkEnum,          &Evaluator::checkConst,       &Evaluator::checkNumber,
        &Evaluator::checkString,       &Evaluator::checkArrayBounds,   &Evaluator::checkItems,       &Evaluator::checkUniqueItems,
        &Evaluator::checkContains,     &Evaluator::checkObjectBounds,  &Evaluator::checkRequired,    &Evaluator::checkProperties,
        &Evaluator::checkDependencies, &Evaluator::checkPropertyNames, &Evaluator::checkAllOf,       &Evaluator::checkAnyOf,
        &Evaluator::checkOneOf,        &Evaluator::checkNot,           &Evaluator::checkConditional,
    };
    bool valid = true;
    for (const Check check : kChecks) {
      valid = (this->*check)(node, instance) && valid;
      if (stopEarly(valid)) return false;
    }
    return valid;
  }

  // Without a sink only the verdict matters, so the first failure ends the evaluation.
  bool stopEarly(bool valid) const { return !valid && sink_ == nullptr; }

  void reportAt(const std::string& schemaPath, std::string message) {
    if (sink_ == nullptr) return;
    std::string instancePath;
    for (const std::string& token : instancePath_) instancePath += "/" + token;
    sink_->push_back({std::move(instancePath), schemaPath, std::move(message)});
  }

  bool fail(const Node& node, std::string_view keyword, std::string message) {
    reportAt(node.path + "/" + std::string(keyword), std::move(message));
    return false;
  }

  // Validates a member or element, with its key appended to the instance path.
  bool validateAt(const Node& node, const json& instance, const std::string& token) {
    instancePath_.push_back(escapePointerToken(token));
    const bool valid = validate(node, instance);
    instancePath_.pop_back();
    return valid;
  }

  // The verdict alone; errors of the subschema are not part of the result.
  bool probe(const Node& node, const json& instance) {
    std::vector<ValidationIssue>* saved = std::exchange(sink_, nullptr);
    const bool valid = validate(node, instance);
    sink_ = saved;
    return valid;
  }

  // ---- any type ----

  bool checkType(const Node& node, const json& instance) {
    if (node.types == 0 || (node.types & typeBitsOf(instance)) != 0) return true;
    return fail(node, "type", "must be " + node.typeNames);
  }

  bool checkEnum(const Node& node, const json& instance) {
    if (!node.enumValues) return true;
    for (const json& allowed : *node.enumValues) {
      if (jsonEqual(allowed, instance)) return true;
    }
    std::string allowedText;
    for (const json& allowed : *node.enumValues) allowedText += (allowedText.empty() ? "" : ", ") + allowed.dump();
    std::string message = "must be equal to one of the allowed values";
    if (allowedText.size() <= 200) message += " (" + allowedText + ")";
    return fail(node, "enum", message);
  }

  bool checkConst(const Node& node, const json& instance) {
    if (!node.constValue || jsonEqual(*node.constValue, instance)) return true;
    return fail(node, "const", "must be equal to constant " + brief(*node.constValue));
  }

  // ---- numbers ----

  bool checkNumber(const Node& node, const json& instance) {
    if (!instance.is_number()) return true;
    const double value = instance.get<double>();
    bool valid = true;
    if (node.multipleOf && !isMultipleOf(instance, *node.multipleOf)) {
      valid = fail(node, "multipleOf", "must be multiple of " + node.multipleOf->dump());
    }
    if (node.maximum && !(value <= node.maximum->value)) valid = fail(node, "maximum", "must be <= " + node.maximum->text);
    if (node.minimum && !(value >= node.minimum->value)) valid = fail(node, "minimum", "must be >= " + node.minimum->text);
    if (node.exclusiveMaximum && !(value < node.exclusiveMaximum->value)) {
      valid = fail(node, "exclusiveMaximum", "must be < " + node.exclusiveMaximum->text);
    }
    if (node.exclusiveMinimum && !(value > node.exclusiveMinimum->value)) {
      valid = fail(node, "exclusiveMinimum", "must be > " + node.exclusiveMinimum->text);
    }
    return valid;
  }

  // ---- strings ----

  bool checkString(const Node& node, const json& instance) {
    if (!instance.is_string()) return true;
    const std::string& text = instance.get_ref<const std::string&>();
    bool valid = true;
    if (node.maxLength || node.minLength) {
      const std::size_t length = codePointCount(text);
      if (node.maxLength && length > *node.maxLength) {
        valid = fail(node, "maxLength", "must NOT have more than " + std::to_string(*node.maxLength) + " characters");
      }
      if (node.minLength && length < *node.minLength) {
        valid = fail(node, "minLength", "must NOT have fewer than " + std::to_string(*node.minLength) + " characters");
      }
    }
    if (node.pattern && !node.pattern->search(text)) {
      valid = fail(node, "pattern", "must match pattern \"" + node.patternSource + "\"");
    }
    if (node.formatChecker && !node.formatChecker(text)) {
      valid = fail(node, "format", "must match format \"" + node.formatName + "\"");
    }
    return valid;
  }

  // ---- arrays ----

  bool checkArrayBounds(const Node& node, const json& instance) {
    if (!instance.is_array()) return true;
    bool valid = true;
    if (node.maxItems && instance.size() > *node.maxItems) {
      valid = fail(node, "maxItems", "must NOT have more than " + std::to_string(*node.maxItems) + " items");
    }
    if (node.minItems && instance.size() < *node.minItems) {
      valid = fail(node, "minItems", "must NOT have fewer than " + std::to_string(*node.minItems) + " items");
    }
    return valid;
  }

  bool checkItems(const Node& node, const json& instance) {
    if (!instance.is_array()) return true;
    if (!node.itemsIsArray) {
      if (node.items == nullptr) return true;
      return validateElements(*node.items, instance, 0);
    }
    bool valid = true;
    const std::size_t tupleSize = std::min(node.itemSchemas.size(), instance.size());
    for (std::size_t i = 0; i < tupleSize && !stopEarly(valid); ++i) {
      valid = validateAt(*node.itemSchemas[i], instance[i], std::to_string(i)) && valid;
    }
    if (stopEarly(valid) || node.additionalItems == nullptr || instance.size() <= node.itemSchemas.size()) return valid;
    if (node.additionalItems->kind == Node::Kind::kRejectAll) {
      return fail(node, "additionalItems", "must NOT have more than " + std::to_string(node.itemSchemas.size()) + " items");
    }
    return validateElements(*node.additionalItems, instance, node.itemSchemas.size()) && valid;
  }

  // Applies `schema` to every element from index `first` on.
  bool validateElements(const Node& schema, const json& array, std::size_t first) {
    bool valid = true;
    for (std::size_t i = first; i < array.size() && !stopEarly(valid); ++i) {
      valid = validateAt(schema, array[i], std::to_string(i)) && valid;
    }
    return valid;
  }

  bool checkUniqueItems(const Node& node, const json& instance) {
    if (!node.uniqueItems || !instance.is_array() || instance.size() < 2) return true;
    // Sorting makes duplicates neighbours: O(n log n) instead of comparing every pair.
    std::vector<std::size_t> order(instance.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return compareJson(instance[a], instance[b]) < 0; });
    for (std::size_t k = 1; k < order.size(); ++k) {
      if (jsonEqual(instance[order[k - 1]], instance[order[k]])) {
        const auto [first, second] = std::minmax(order[k - 1], order[k]);
        return fail(node, "uniqueItems",
                    "must NOT have duplicate items (items ## " + std::to_string(second) + " and " + std::to_string(first) + " are identical)");
      }
    }
    return true;
  }

  bool checkContains(const Node& node, const json& instance) {
    if (node.contains == nullptr || !instance.is_array()) return true;
    for (const json& element : instance) {
      if (probe(*node.contains, element)) return true;
    }
    return fail(node, "contains", "must contain at least 1 valid item(s)");
  }

  // ---- objects ----

  bool checkObjectBounds(const Node& node, const json& instance) {
    if (!instance.is_object()) return true;
    bool valid = true;
    if (node.maxProperties && instance.size() > *node.maxProperties) {
      valid = fail(node, "maxProperties", "must NOT have more than " + std::to_string(*node.maxProperties) + " properties");
    }
    if (node.minProperties && instance.size() < *node.minProperties) {
      valid = fail(node, "minProperties", "must NOT have fewer than " + std::to_string(*node.minProperties) + " properties");
    }
    return valid;
  }

  bool checkRequired(const Node& node, const json& instance) {
    if (!instance.is_object()) return true;
    bool valid = true;
    for (const std::string& name : node.required) {
      if (instance.contains(name)) continue;
      valid = fail(node, "required", "must have required property '" + name + "'");
      if (stopEarly(valid)) break;
    }
    return valid;
  }

  // properties, patternProperties and additionalProperties, member by member.
  bool checkProperties(const Node& node, const json& instance) {
    if (!instance.is_object()) return true;
    if (node.properties.empty() && node.patternProperties.empty() && node.additionalProperties == nullptr) return true;
    bool valid = true;
    for (const auto& [name, value] : instance.items()) {
      valid = validateMember(node, name, value) && valid;
      if (stopEarly(valid)) break;
    }
    return valid;
  }

  bool validateMember(const Node& node, const std::string& name, const json& value) {
    bool valid = true;
    bool declared = false;
    if (const auto it = node.properties.find(name); it != node.properties.end()) {
      declared = true;
      valid = validateAt(*it->second, value, name);
    }
    for (const auto& patternProperty : node.patternProperties) {
      if (stopEarly(valid)) return false;
      if (!patternProperty.regex->search(name)) continue;
      declared = true;
      valid = validateAt(*patternProperty.schema, value, name) && valid;
    }
    if (declared || node.additionalProperties == nullptr || stopEarly(valid)) return valid;
    if (node.additionalProperties->kind == Node::Kind::kRejectAll) {
      return fail(node, "additionalProperties", "must NOT have additional properties ('" + name + "')");
    }
    return validateAt(*node.additionalProperties, value, name) && valid;
  }

  bool checkDependencies(const Node& node, const json& instance) {
    if (!instance.is_object()) return true;
    bool valid = true;
    for (const auto& [trigger, needed] : node.propertyDependencies) {
      if (!instance.contains(trigger)) continue;
      for (const std::string& name : needed) {
        if (instance.contains(name)) continue;
        valid = fail(node, "dependencies", "must have property '" + name + "' when property '" + trigger + "' is present");
        if (stopEarly(valid)) return false;
      }
    }
    for (const auto& [trigger, schema] : node.schemaDependencies) {
      if (instance.contains(trigger)) valid = validate(*schema, instance) && valid;
      if (stopEarly(valid)) return false;
    }
    return valid;
  }

  bool checkPropertyNames(const Node& node, const json& instance) {
    if (node.propertyNames == nullptr || !instance.is_object()) return true;
    bool valid = true;
    for (const auto& member : instance.items()) {
      // The name's own errors are folded into one message: a name has no instance path.
      std::vector<ValidationIssue> nameErrors;
      std::vector<ValidationIssue>* saved = std::exchange(sink_, sink_ != nullptr ? &nameErrors : nullptr);
      const bool nameValid = validate(*node.propertyNames, json(member.key()));
      sink_ = saved;
      if (nameValid) continue;
      std::string message = "property name '" + member.key() + "' is invalid";
      if (!nameErrors.empty()) message += ": " + nameErrors.front().message;
      valid = fail(node, "propertyNames", message);
      if (stopEarly(valid)) break;
    }
    return valid;
  }

  // ---- combinators ----

  bool checkAllOf(const Node& node, const json& instance) {
    bool valid = true;
    for (const Node* schema : node.allOf) {
      valid = validate(*schema, instance) && valid;
      if (stopEarly(valid)) break;
    }
    return valid;
  }

  // Reports why each alternative failed, so the caller can pick the one it meant.
  void reportAlternatives(const std::vector<const Node*>& schemas, const json& instance) {
    if (sink_ == nullptr) return;
    for (const Node* schema : schemas) validate(*schema, instance);
  }

  bool checkAnyOf(const Node& node, const json& instance) {
    if (node.anyOf.empty()) return true;
    for (const Node* schema : node.anyOf) {
      if (probe(*schema, instance)) return true;
    }
    reportAlternatives(node.anyOf, instance);
    return fail(node, "anyOf", "must match a schema in anyOf");
  }

  bool checkOneOf(const Node& node, const json& instance) {
    if (node.oneOf.empty()) return true;
    std::vector<std::size_t> passing;
    for (std::size_t i = 0; i < node.oneOf.size() && passing.size() < 2; ++i) {
      if (probe(*node.oneOf[i], instance)) passing.push_back(i);
    }
    if (passing.size() == 1) return true;
    if (passing.empty()) {
      reportAlternatives(node.oneOf, instance);
      return fail(node, "oneOf", "must match exactly one schema in oneOf");
    }
    return fail(
        node, "oneOf",
        "must match exactly one schema in oneOf (schemas " + std::to_string(passing[0]) + " and " + std::to_string(passing[1]) + " both match)");
  }

  bool checkNot(const Node& node, const json& instance) {
    if (node.notSchema == nullptr || !probe(*node.notSchema, instance)) return true;
    return fail(node, "not", "must NOT be valid");
  }

  bool checkConditional(const Node& node, const json& instance) {
    if (node.ifSchema == nullptr) return true;
    const bool condition = probe(*node.ifSchema, instance);
    const Node* branch = condition ? node.thenSchema : node.elseSchema;
    if (branch == nullptr || validate(*branch, instance)) return true;
    return fail(node, "if", condition ? "must match \"then\" schema" : "must match \"else\" schema");
  }

  std::vector<ValidationIssue>* sink_;
  std::vector<std::string> instancePath_;  // escaped tokens
  int depth_ = 0;
};

}  // namespace

Validator::Validator(json schema, RemoteResolver resolver) {
  // Checking a schema and applying it recurse along its nesting with several frames per level, so
  // schemas get a quarter of the engine's depth limit (docs/limits.md: 800 levels trapped the wasm
  // build under Node, 600 did not).
  const std::size_t limit = std::max<std::size_t>(protocol::limits().json_depth / 4, 1);
  if (protocol::json_depth(schema, limit) > limit)
    throw SchemaError("the schema is nested deeper than the limit of " + std::to_string(limit) + " levels");
  auto compiled = std::make_shared<CompiledSchema>();
  Compiler compiler(*compiled, std::move(resolver));
  compiled->root = compiler.compileRoot(std::move(schema));
  compiled_ = std::move(compiled);
}

ValidationResult Validator::validate(const json& instance) const {
  ValidationResult result;
  // Comparisons (enum, const, uniqueItems) recurse along the instance's nesting: a value deeper than
  // the engine's limit is invalid as a whole (a model that sent it reads why).
  const std::size_t limit = protocol::limits().json_depth;
  if (protocol::json_depth(instance, limit) > limit) {
    result.valid = false;
    result.errors.push_back({"", "#", "is nested deeper than the limit of " + std::to_string(limit) + " levels"});
    return result;
  }
  Evaluator evaluator(&result.errors);
  result.valid = evaluator.validate(*compiled_->root, instance);
  if (!result.valid && result.errors.empty()) {
    result.errors.push_back({"", compiled_->root->path, "is invalid"});  // defensive: never silent
  }
  return result;
}

ValidationResult validate(const json& schema, const json& instance) { return Validator(schema).validate(instance); }

std::string describe(const ValidationResult& result) {
  std::string text;
  for (const auto& issue : result.errors)
    text += (text.empty() ? "" : "; ") + (issue.instancePath.empty() ? std::string("(root)") : issue.instancePath) + ": " + issue.message;
  return text;
}

lmthing::Json issues_json(const ValidationResult& result) {
  lmthing::Json errors = lmthing::Json::array();
  for (const auto& issue : result.errors)
    errors.push_back({{"instancePath", issue.instancePath}, {"schemaPath", issue.schemaPath}, {"message", issue.message}});
  return errors;
}

}  // namespace lmthing::schema
