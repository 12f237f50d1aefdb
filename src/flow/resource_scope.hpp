// The lifetime of a run's resources and pools: they belong to the run whose definitions hold them
// and are ended when its body ends — normally, with an error, or cancelled — newest setup first,
// before the run's reply (so a host sees every cleanup done when the run settles).
#pragma once

#include "pipeline/call.hpp"

namespace lmthing::flow {

// Runs `body` (the run `owner.run`), then ends the resources, pools and batchers its tree defined
// itself, in the reverse order of their setup; rethrows what `body` threw.
Task<json> with_resources(pipeline::CallEnv owner, Task<json> body);

}  // namespace lmthing::flow
