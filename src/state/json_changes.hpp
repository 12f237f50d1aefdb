// Changes to a JSON value, as the host records them from a state's live object: {op: "set", path,
// value} (the value at `path` becomes `value`; an empty path replaces the whole value) and
// {op: "delete", path}. A path is a list of object keys (strings) and array indices (integers).
//
// Applying is lenient so that changes recorded against one value can be applied to another (a state
// defined with changes in the prompt function is loaded later, from storage): missing or non-object
// parents are created as objects, setting an index past an array's end pads it with nulls, `length`
// on an array resizes it, and deleting what is not there does nothing. Both sides apply changes the
// same way (js/state/changes.ts); every change is an absolute write, so applying a list again over a
// value that already has a prefix of it gives the same result.
#pragma once

#include <string>

#include "protocol/json.hpp"

namespace lmthing::state {

using json = lmthing::Json;

// Checks the shape of a list of changes; throws protocol::ProtocolError naming `where` and the change.
void check_changes(const json& changes, const std::string& where);

// Applies checked `changes` to `value`, in order.
void apply_changes(json& value, const json& changes);

}  // namespace lmthing::state
