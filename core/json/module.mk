# core/json: a small JSON writer and validating reader for provider
# requests and responses (public header include/pgai_json.h).
CORE_SRCS  += json/json_write.c json/json_read.c
CORE_TESTS += json/test/test_json.c
