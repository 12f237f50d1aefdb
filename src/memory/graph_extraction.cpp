// A graph memory's `store({text})` (docs/memory.md, "Extraction"): one model call reads the text
// and answers the entities and relations in it as JSON; the answer is checked against a schema and
// then stored exactly as if the caller had given it (store_graph: the batch is checked whole, so a
// relation to an unknown entity stores nothing either). A malformed answer is a MemoryError
// INVALID_EXTRACTION naming the memory, with nothing stored.
#include "memory/embed.hpp"
#include "memory/memory_model.hpp"
#include "memory/memory_store.hpp"
#include "schema/validator.hpp"
#include "state/state_error.hpp"

namespace lmthing::memory {

namespace {

const char* const kExtractionSystem =
    "You extract a knowledge graph from text. Answer with one JSON object and nothing else:\n"
    "{\"entities\": [{\"name\": string, \"type\": string, \"description\": string, \"properties\": object}],\n"
    " \"relations\": [{\"from\": string, \"relation\": string, \"to\": string}]}\n"
    "Entities are the people, places, organizations, things and concepts the text names; use each entity's most complete name, once. "
    "`type` is a short lower-case kind (person, place, organization ...), `description` one sentence from the text, `properties` "
    "facts about it as JSON values (may be {}). Relations are short verb phrases (\"works at\", \"wrote\") between entities you list; "
    "`from` and `to` are their names exactly.";

const json& extraction_schema() {
  static const json schema = json::parse(R"({
    "type": "object",
    "required": ["entities", "relations"],
    "properties": {
      "entities": {"type": "array", "items": {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1}, "type": {"type": "string"}, "description": {"type": "string"},
                       "properties": {"type": "object"}}}},
      "relations": {"type": "array", "items": {
        "type": "object", "required": ["from", "relation", "to"],
        "properties": {"from": {"type": "string", "minLength": 1}, "relation": {"type": "string", "minLength": 1},
                       "to": {"type": "string", "minLength": 1}}}}
    }
  })");
  return schema;
}

// The JSON of an answer, allowing the ```json fence models often put around it.
json parse_answer(std::string text) {
  const auto open = text.find("```");
  if (open != std::string::npos) {
    const auto start = text.find('\n', open);
    const auto close = text.rfind("```");
    if (start != std::string::npos && close > start) text = text.substr(start + 1, close - start - 1);
  }
  return json::parse(text, nullptr, false);
}

}  // namespace

Task<json> store_extracted(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, std::string text,
                           std::string instructions, ModelAccess access) {
  const MemorySpec& spec = *instance->spec;
  const std::string where = "memory \"" + spec.name + "\"";
  const std::string model = model_for(spec.summary_model, access, spec.name, "extracting entities from text");
  std::string ask = instructions.empty() ? "" : instructions + "\n\n";
  ask += "Text:\n" + text;
  json input{{"system", kExtractionSystem}, {"messages", json::array({json{{"role", "user"}, {"content", std::move(ask)}}})}};
  const std::string answer = co_await memory_model_text(loop, run, tree, access, model, std::move(input), "extraction");
  const json value = parse_answer(answer);
  auto invalid = [&](const std::string& problem) {
    return OpFailed(memory_error("INVALID_EXTRACTION",
                                 where + ": the extraction by model \"" + model + "\" " + problem +
                                     "; nothing was stored (answer: " + answer.substr(0, 200) + (answer.size() > 200 ? "…" : "") + ")",
                                 spec.name));
  };
  if (value.is_discarded()) throw invalid("is not JSON");
  const schema::ValidationResult checked = schema::validate(extraction_schema(), value);
  if (!checked.valid)
    throw invalid("is not {entities: [{name, type?, description?, properties?}], relations: [{from, relation, to}]}: " + schema::describe(checked));
  GraphBatch batch;
  for (const json& e : value["entities"]) {
    state::Entity entity;
    entity.name = e["name"].get<std::string>();
    entity.type = e.value("type", std::string());
    entity.description = e.value("description", std::string());
    if (e.contains("properties")) entity.metadata = e["properties"];
    batch.entities.push_back(std::move(entity));
    batch.vectors.emplace_back(std::nullopt);
  }
  for (const json& r : value["relations"])
    batch.relations.push_back(
        state::Relation{r["from"].get<std::string>(), r["relation"].get<std::string>(), r["to"].get<std::string>(), json::object()});
  json stored = co_await store_graph(loop, run, std::move(tree), std::move(instance), std::move(batch));
  json relations = json::array();
  for (const json& r : value["relations"]) relations.push_back(json{{"from", r["from"]}, {"relation", r["relation"]}, {"to", r["to"]}});
  json entities = json::array();
  for (const json& e : value["entities"]) entities.push_back(e);
  stored["extracted"] = json{{"entities", std::move(entities)}, {"relations", std::move(relations)}};
  co_return stored;
}

}  // namespace lmthing::memory
