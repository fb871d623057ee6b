# es_bench_server: the C++ bulk endpoint for tests/bench/ship (test-only, not installed).
# Included from tests/ship/tests.cmake; its test is tests/servers/es/test_es_bench_server.py.
add_executable(es_bench_server ${CMAKE_CURRENT_LIST_DIR}/es_bench_server.cpp ${CMAKE_CURRENT_LIST_DIR}/es_bench_bulk.cpp)
target_link_libraries(es_bench_server PRIVATE simdjson::simdjson ZLIB::ZLIB Threads::Threads sds_warnings)
set_target_properties(es_bench_server PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
