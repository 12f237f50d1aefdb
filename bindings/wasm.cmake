# The npm package's wasm module: one .wasm with two glues, CommonJS for Node (Emscripten 3.1.6
# cannot run its ES-module glue under Node) and an ES module for browsers.
set(LMTHING_WASM_LINK_FLAGS
  -sMODULARIZE=1
  -sEXPORT_NAME=createLmthingCore
  -sALLOW_MEMORY_GROWTH=1
  -sFILESYSTEM=0
  -sDYNAMIC_EXECUTION=0
  # A library must not install process-wide handlers that turn any unhandled rejection into a crash.
  -sNODEJS_CATCH_EXIT=0
  -sNODEJS_CATCH_REJECTION=0
  -sASYNCIFY=1
  "-sASYNCIFY_IMPORTS=['host_wait']"
  -sASYNCIFY_STACK_SIZE=16384
  "-sEXPORTED_FUNCTIONS=['_lmthing_run_loop','_malloc','_free']"
  "-sEXPORTED_RUNTIME_METHODS=['ccall']"
  --js-library ${CMAKE_SOURCE_DIR}/bindings/host.js
)

# Asyncify only on the direct call path to host_wait (run_loop -> drive -> host_wait): the rest
# of the engine is not instrumented. The unrestricted variant exists to measure what this saves.
function(lmthing_wasm_module target environment restrict_asyncify)
  add_executable(${target} ${CMAKE_SOURCE_DIR}/bindings/wasm_main.cpp)
  target_link_libraries(${target} PRIVATE lmthing_core)
  target_compile_options(${target} PRIVATE ${LMTHING_WARNINGS})
  target_link_options(${target} PRIVATE ${LMTHING_WASM_LINK_FLAGS} -sENVIRONMENT=${environment}
    -sASYNCIFY_IGNORE_INDIRECT=${restrict_asyncify})
  set_target_properties(${target} PROPERTIES LINK_DEPENDS ${CMAKE_SOURCE_DIR}/bindings/host.js)
endfunction()

lmthing_wasm_module(lmthing_core_node node 1)
lmthing_wasm_module(lmthing_core_web web,worker 1)
# No import.meta in the ES-module glue: the package always passes the wasm bytes, and bundlers
# (Vite, webpack) would otherwise try to resolve its `new URL("lmthing_core_web.wasm", import.meta.url)`,
# a file the package does not ship (docs/bundlers.md).
target_link_options(lmthing_core_web PRIVATE -sEXPORT_ES6=1 -sUSE_ES6_IMPORT_META=0)
lmthing_wasm_module(lmthing_core_unrestricted node 0)
set_target_properties(lmthing_core_unrestricted PROPERTIES EXCLUDE_FROM_ALL TRUE)
