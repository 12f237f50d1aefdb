# Native boundary benchmark (bench/README.md). Native only: the wasm side is measured from Node.
add_executable(bench_boundary ${CMAKE_SOURCE_DIR}/bench/native_boundary.cpp)
target_link_libraries(bench_boundary PRIVATE lmthing_core)
target_include_directories(bench_boundary PRIVATE ${CMAKE_SOURCE_DIR}/tests/native)
target_compile_options(bench_boundary PRIVATE ${LMTHING_WARNINGS} -O2)

# LRU cache hit latency (bench/storage.mjs compares it with lru-cache in JS).
add_executable(bench_lru ${CMAKE_SOURCE_DIR}/bench/native_lru.cpp)
target_link_libraries(bench_lru PRIVATE lmthing_core)
target_compile_options(bench_lru PRIVATE ${LMTHING_WARNINGS} -O2)
