# libFuzzer targets for the engine's boundary parsers (tests/fuzz/README.md). Built by clang only,
# in the sanitizer build (build/sanitize, scripts/build.sh), with ASan and UBSan.
set(LMTHING_FUZZ_TARGETS fuzz_json_text fuzz_inbox fuzz_schema fuzz_yaml fuzz_prompt)
foreach(target ${LMTHING_FUZZ_TARGETS})
  add_executable(${target} ${CMAKE_SOURCE_DIR}/tests/fuzz/${target}.cpp)
  target_link_libraries(${target} PRIVATE lmthing_core)
  target_compile_options(${target} PRIVATE ${LMTHING_WARNINGS} ${LMTHING_FUZZ_COVERAGE})
  target_link_options(${target} PRIVATE -fsanitize=fuzzer)
endforeach()
# The sanitized suite as one target (scripts/build.sh): `cmake --build --target a b …` builds its
# targets one after the other, while make builds the parts of one target side by side.
add_custom_target(sanitize_suite)
add_dependencies(sanitize_suite native_tests ${LMTHING_FUZZ_TARGETS})
