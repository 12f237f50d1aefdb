# The npm package's wasm module: one .wasm with two glues, CommonJS for Node (Emscripten 3.1.6
# cannot run its ES-module glue under Node) and an ES module for browsers.
set(LMTHING_WASM_LINK_FLAGS
  -sMODULARIZE=1
  -sEXPORT_NAME=createLmthingCore
  -sALLOW_MEMORY_GROWTH=1
  # Out of memory is fatal to the engine (a trap: ENGINE_FAULT): `new` aborts (bindings/wasm_main.cpp)
  # and so does malloc when the memory cannot grow, including the host's _malloc of a batch.
  -sABORTING_MALLOC=1
  -sFILESYSTEM=0
  -sDYNAMIC_EXECUTION=0
  # A library must not install process-wide handlers that turn any unhandled rejection into a crash.
  -sNODEJS_CATCH_EXIT=0
  -sNODEJS_CATCH_REJECTION=0
  "-sEXPORTED_FUNCTIONS=['_lmthing_run_turn','_malloc','_free']"
  --js-library ${CMAKE_SOURCE_DIR}/bindings/host.js
)

function(lmthing_wasm_module target environment)
  add_executable(${target} ${CMAKE_SOURCE_DIR}/bindings/wasm_main.cpp)
  target_link_libraries(${target} PRIVATE lmthing_core)
  target_compile_options(${target} PRIVATE ${LMTHING_WARNINGS})
  target_link_options(${target} PRIVATE ${LMTHING_WASM_LINK_FLAGS} -sENVIRONMENT=${environment})
  set_target_properties(${target} PROPERTIES LINK_DEPENDS ${CMAKE_SOURCE_DIR}/bindings/host.js)
endfunction()

lmthing_wasm_module(lmthing_core_node node)
lmthing_wasm_module(lmthing_core_web web,worker)
# No import.meta in the ES-module glue: the package always passes the wasm bytes, and bundlers
# (Vite, webpack) would otherwise try to resolve its `new URL("lmthing_core_web.wasm", import.meta.url)`,
# a file the package does not ship (docs/bundlers.md).
target_link_options(lmthing_core_web PRIVATE -sEXPORT_ES6=1 -sUSE_ES6_IMPORT_META=0)

# What scripts/build.sh builds, each as one target so that make links the two glues (and compiles
# the test suite) side by side; `cmake --build --target a b …` would build them one after the other.
add_custom_target(wasm_package)
add_dependencies(wasm_package lmthing_core_node lmthing_core_web)
add_custom_target(wasm_suite)
add_dependencies(wasm_suite wasm_package native_tests)
