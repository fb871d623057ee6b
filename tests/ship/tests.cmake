# sds-ship: the S3 sink test needs the Swift+s3api fixture (tests/servers/tests.cmake). The
# Elasticsearch tests start tests/servers/es/es_server.py themselves (or use SDS_TEST_ES_URL).
if(TEST ship/test_ship_sinks)
  set_tests_properties(ship/test_ship_sinks PROPERTIES FIXTURES_REQUIRED swift)
endif()

# The C++ bench server (tests/servers/es/es_bench_server.cpp) that tests/bench/ship loads into.
include(${PROJECT_SOURCE_DIR}/tests/servers/es/es_bench_server.cmake)
