// The single Catch2 main; compiled once for the native and once for the wasm test binary.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
