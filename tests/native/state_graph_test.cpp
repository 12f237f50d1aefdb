// Entities and relations of graph memories (src/state/entity_graph.*): whole-batch checks,
// breadth-first neighbourhoods by depth, relation name and direction, removal, save/load.
#include <catch2/catch.hpp>

#include "state/entity_graph.hpp"
#include "state/state_error.hpp"
#include "state_errors.hpp"

using lmthing::testing::state_error_code;

using namespace lmthing::state;
using json = lmthing::Json;

namespace {

// a -knows-> b -knows-> c -knows-> d, a -employs-> e, f alone
Entity ent(std::string name, std::string type = "", std::string description = "", json metadata = json::object()) {
  return Entity{std::move(name), std::move(type), std::move(description), std::move(metadata)};
}
Relation rel(std::string from, std::string relation, std::string to, json metadata = json::object()) {
  return Relation{std::move(from), std::move(relation), std::move(to), std::move(metadata)};
}

EntityGraph chain() {
  EntityGraph g("people");
  g.add({ent("a", "person", "first"), ent("b"), ent("c"), ent("d"), ent("e", "company", "", json{{"size", 3}}), ent("f")},
        {rel("a", "knows", "b"), rel("b", "knows", "c"), rel("c", "knows", "d"), rel("a", "employs", "e", json{{"since", 2020}})});
  return g;
}

std::vector<std::pair<std::string, std::size_t>> reached(const Neighborhood& n) { return n.entities; }

WalkOptions walk(std::size_t depth, std::optional<std::set<std::string>> relations = std::nullopt, Direction direction = Direction::both) {
  WalkOptions o;
  o.depth = depth;
  o.relations = std::move(relations);
  o.direction = direction;
  return o;
}

}  // namespace

TEST_CASE("neighbourhoods grow one hop per depth, breadth first, each relation once", "[state][graph]") {
  EntityGraph g = chain();
  CHECK(g.size() == 6);
  CHECK(g.relation_count() == 4);
  using R = std::vector<std::pair<std::string, std::size_t>>;
  CHECK(reached(g.neighborhood({"b"}, walk(0))) == R{{"b", 0}});
  CHECK(g.neighborhood({"b"}, walk(0)).relations.empty());
  Neighborhood one = g.neighborhood({"b"}, walk(1));
  CHECK(reached(one) == R{{"b", 0}, {"c", 1}, {"a", 1}});  // out-edges first, then in-edges
  REQUIRE(one.relations.size() == 2);
  CHECK(one.relations[0].from == "b");
  CHECK(one.relations[0].to == "c");
  Neighborhood two = g.neighborhood({"b"}, walk(2));
  CHECK(reached(two) == R{{"b", 0}, {"c", 1}, {"a", 1}, {"d", 2}, {"e", 2}});
  CHECK(two.relations.size() == 4);
  // Starting from two entities: both at depth 0, nothing twice.
  Neighborhood both = g.neighborhood({"a", "b"}, walk(1));
  CHECK(reached(both) == R{{"a", 0}, {"b", 0}, {"e", 1}, {"c", 1}});
  CHECK(both.relations.size() == 3);  // a-employs-e, a-knows-b (once), b-knows-c
  CHECK(reached(g.neighborhood({"f"}, walk(5))) == R{{"f", 0}});
}

TEST_CASE("walks follow only the given relations and direction", "[state][graph]") {
  EntityGraph g = chain();
  using R = std::vector<std::pair<std::string, std::size_t>>;
  WalkOptions knows = walk(3, std::set<std::string>{"knows"});
  CHECK(reached(g.neighborhood({"a"}, knows)) == R{{"a", 0}, {"b", 1}, {"c", 2}, {"d", 3}});
  WalkOptions in = walk(3, std::nullopt, Direction::in);
  CHECK(reached(g.neighborhood({"c"}, in)) == R{{"c", 0}, {"b", 1}, {"a", 2}});
  WalkOptions out = walk(1, std::nullopt, Direction::out);
  Neighborhood n = g.neighborhood({"a"}, out);
  CHECK(reached(n) == R{{"a", 0}, {"e", 1}, {"b", 1}});
  REQUIRE(n.relations.size() == 2);
  CHECK(n.relations[0].relation == "employs");
  CHECK(n.relations[0].metadata == json{{"since", 2020}});
}

TEST_CASE("a bad batch changes nothing: unknown ends, duplicates, empty names", "[state][graph]") {
  EntityGraph g = chain();
  const json before = g.to_json();
  CHECK(state_error_code([&] { g.add({ent("x")}, {rel("x", "likes", "nobody")}); }) == error_code::kUnknownEntity);
  CHECK(state_error_code([&] { g.add({ent("x"), ent("x")}, {}); }) == error_code::kDuplicateId);
  CHECK(state_error_code([&] { g.add({ent("")}, {}); }) == error_code::kInvalidConfig);
  CHECK(state_error_code([&] { g.add({}, {rel("a", "", "b")}); }) == error_code::kInvalidConfig);
  CHECK(state_error_code([&] { g.add({ent("y", "", "", json::array())}, {}); }) == error_code::kInvalidConfig);
  CHECK(state_error_code([&] { g.remove({"a", "missing"}); }) == error_code::kUnknownId);
  CHECK(state_error_code([&] { g.neighborhood({"missing"}, walk(1)); }) == error_code::kUnknownId);
  CHECK(g.to_json() == before);
  try {
    g.add({}, {rel("a", "likes", "zed")});
    FAIL("no error");
  } catch (const StateError& e) {
    CHECK(std::string(e.what()) ==
          "memory \"people\": relations[0] (a -likes-> zed): no entity named \"zed\" in the memory or in this batch (store the entity first or with "
          "it)");
  }
  // A relation to an entity of the same batch is fine; a relation stored again replaces its metadata.
  CHECK(g.add({ent("z")}, {rel("a", "likes", "z"), rel("a", "knows", "b", json{{"w", 1}})}) == 2);
  CHECK(g.relation_count() == 5);
  CHECK(g.neighborhood({"b"}, walk(1, std::set<std::string>{"knows"}, Direction::in)).relations[0].metadata == json{{"w", 1}});
}

TEST_CASE("replacing an entity keeps its relations; removing one drops every relation touching it", "[state][graph]") {
  EntityGraph g = chain();
  g.add({ent("b", "person", "now described")}, {});
  CHECK(g.entity("b").description == "now described");
  CHECK(g.relation_count() == 4);
  g.remove({"b"});
  CHECK(!g.contains("b"));
  CHECK(g.relation_count() == 2);  // a-employs-e, c-knows-d
  using R = std::vector<std::pair<std::string, std::size_t>>;
  CHECK(reached(g.neighborhood({"a"}, walk(5))) == R{{"a", 0}, {"e", 1}});
  g.clear();
  CHECK(g.size() == 0);
  CHECK(g.relation_count() == 0);
}

TEST_CASE("to_json / from_json round-trips; damaged records are CORRUPT_DATA", "[state][graph]") {
  EntityGraph g = chain();
  const json saved = g.to_json();
  EntityGraph back = EntityGraph::from_json("people", saved);
  CHECK(back.to_json() == saved);
  CHECK(back.entity("e").metadata == json{{"size", 3}});
  CHECK(back.entity("a").type == "person");
  CHECK(back.neighborhood({"b"}, walk(2)).entities == g.neighborhood({"b"}, walk(2)).entities);
  CHECK(EntityGraph::embedding_text(back.entity("a")) == "a: first");
  CHECK(EntityGraph::embedding_text(back.entity("b")) == "b");
  json dangling = saved;
  dangling["entities"].erase(0);  // "a", still the end of two relations
  CHECK(state_error_code([&] { EntityGraph::from_json("people", dangling); }) == error_code::kCorruptData);
  CHECK(state_error_code([&] { EntityGraph::from_json("people", json::array()); }) == error_code::kCorruptData);
  json unnamed = saved;
  unnamed["entities"][1].erase("name");
  CHECK(state_error_code([&] { EntityGraph::from_json("people", unnamed); }) == error_code::kCorruptData);
}
