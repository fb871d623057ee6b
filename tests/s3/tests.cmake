# S3 and SQS sources of sds-fetch, against the Swift (S3) and moto (SQS) test servers.
foreach(t test_fetch_s3 test_fetch_state test_fetch_jobs test_cron_example)
  if(TEST s3/${t})
    set_tests_properties(s3/${t} PROPERTIES FIXTURES_REQUIRED swift)
  endif()
endforeach()
if(TEST s3/test_fetch_sqs)
  set_tests_properties(s3/test_fetch_sqs PROPERTIES FIXTURES_REQUIRED "swift;moto")
endif()
