# Benchmarks and measurements (bench/README.md).
if(NOT EMSCRIPTEN)
  # Native boundary benchmark; the wasm side is measured from Node.
  add_executable(bench_boundary ${CMAKE_SOURCE_DIR}/bench/native_boundary.cpp)
  target_link_libraries(bench_boundary PRIVATE lmthing_core)
  target_include_directories(bench_boundary PRIVATE ${CMAKE_SOURCE_DIR}/tests/native)
  target_compile_options(bench_boundary PRIVATE ${LMTHING_WARNINGS} -O2)

  # LRU cache hit latency (bench/storage.mjs compares it with lru-cache in JS).
  add_executable(bench_lru ${CMAKE_SOURCE_DIR}/bench/native_lru.cpp)
  target_link_libraries(bench_lru PRIVATE lmthing_core)
  target_compile_options(bench_lru PRIVATE ${LMTHING_WARNINGS} -O2)
else()
  # How deep values can be before the engine's recursion overflows the stack (bench/depth-limit.mjs);
  # linked like the package's module, built on demand.
  add_executable(depth_probe ${CMAKE_SOURCE_DIR}/bench/depth_probe.cpp)
  target_link_libraries(depth_probe PRIVATE lmthing_core)
  target_compile_options(depth_probe PRIVATE ${LMTHING_WARNINGS})
  target_link_options(depth_probe PRIVATE -sMODULARIZE=1 -sEXPORT_NAME=createDepthProbe -sALLOW_MEMORY_GROWTH=1 -sFILESYSTEM=0
    -sENVIRONMENT=node "-sEXPORTED_FUNCTIONS=['_probe','_probe_unlimited']")
  set_target_properties(depth_probe PROPERTIES EXCLUDE_FROM_ALL TRUE)
endif()
