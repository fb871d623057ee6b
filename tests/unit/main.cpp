// The one doctest main of sds_unit_tests; the test cases live beside it, mirroring lib/sds.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
