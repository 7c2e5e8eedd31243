# core/common: what every core module shares: the status codes and the
# caller-owned error record (public header include/pgai_error.h).
CORE_SRCS += common/error.c
CORE_TESTS += common/test/test_error.c
