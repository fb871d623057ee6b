# Test servers on 127.0.0.1 as CTest fixtures (see tests/servers/README.md):
#   swift  OpenStack Swift + s3api: the S3 API, SigV4 and payload hashes checked
#   moto   moto_server: SQS, STS
# A test that needs one declares it, e.g.
#   set_tests_properties(cli/test_s3cat PROPERTIES FIXTURES_REQUIRED swift)
# and finds endpoint and keys in ${PROJECT_BINARY_DIR}/servers/<name>/<name>.env
# (Python: tests/lib/sds_servers.py reads it through SDS_BIN_DIR).
# Ports: free ones, picked at start (so several build trees can run their
# fixtures at once), unless SDS_SWIFT_PORT / SDS_MOTO_PORT are set in the
# environment ctest runs in. The env files say which were taken.

set(SDS_SERVERS_DIR ${PROJECT_BINARY_DIR}/servers)
file(MAKE_DIRECTORY ${SDS_SERVERS_DIR})

foreach(server swift moto)
  set(script_dir ${CMAKE_CURRENT_LIST_DIR}/${server})
  add_test(NAME servers/${server}_start
    COMMAND bash ${script_dir}/start.sh ${SDS_SERVERS_DIR}/${server}
    WORKING_DIRECTORY ${SDS_SERVERS_DIR})
  string(TOUPPER ${server} SERVER)
  set_tests_properties(servers/${server}_start PROPERTIES
    FIXTURES_SETUP ${server} LABELS servers TIMEOUT 150
    ENVIRONMENT "SDS_${SERVER}_DEFAULT_PORT=0")
  add_test(NAME servers/${server}_stop
    COMMAND bash ${script_dir}/stop.sh ${SDS_SERVERS_DIR}/${server}
    WORKING_DIRECTORY ${SDS_SERVERS_DIR})
  set_tests_properties(servers/${server}_stop PROPERTIES
    FIXTURES_CLEANUP ${server} LABELS servers TIMEOUT 60)
endforeach()

# The smoke test (registered by tests/CMakeLists.txt as servers/test_servers).
if(TEST servers/test_servers)
  set_tests_properties(servers/test_servers PROPERTIES
    FIXTURES_REQUIRED "swift;moto" TIMEOUT 300)
endif()
