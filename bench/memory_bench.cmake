# The memory benchmark (bench/memory_bench.cpp): natively with hnswlib as the reference, and as wasm
# for Node with and without -msimd128 (the src/state sources are compiled into each target with its
# own flags; the package's .wasm compiles them with -msimd128, see CMakeLists.txt). Not built by default:
# bench/memory.mjs builds these targets.
set(LMTHING_STATE_SOURCES
  ${CMAKE_SOURCE_DIR}/src/state/vector_distance.cpp
  ${CMAKE_SOURCE_DIR}/src/state/hnsw.cpp
  ${CMAKE_SOURCE_DIR}/src/state/metadata_filter.cpp
  ${CMAKE_SOURCE_DIR}/src/state/vector_memory.cpp
  ${CMAKE_SOURCE_DIR}/src/state/temporal.cpp
  ${CMAKE_SOURCE_DIR}/src/state/pretokenize.cpp
  ${CMAKE_SOURCE_DIR}/src/state/bpe.cpp
)
function(lmthing_memory_bench target)
  add_executable(${target} ${CMAKE_SOURCE_DIR}/bench/memory_bench.cpp ${LMTHING_STATE_SOURCES})
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_include_directories(${target} SYSTEM PRIVATE ${LMTHING_DEPS_INCLUDE})
  target_compile_options(${target} PRIVATE ${LMTHING_WARNINGS} ${ARGN})
  target_compile_definitions(${target} PRIVATE LMTHING_BENCH_HNSWLIB)
  set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL TRUE)
  if(EMSCRIPTEN)
    target_link_options(${target} PRIVATE -fexceptions -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sNODERAWFS=1 -sENVIRONMENT=node -sEXIT_RUNTIME=1 ${ARGN})
    target_compile_options(${target} PRIVATE -fexceptions)
  endif()
endfunction()

if(EMSCRIPTEN)
  lmthing_memory_bench(bench_memory_wasm)
  lmthing_memory_bench(bench_memory_wasm_simd -msimd128)
else()
  lmthing_memory_bench(bench_memory)
endif()
