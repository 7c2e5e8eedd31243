# core/provider: embedding provider clients over libcurl (OpenAI and
# compatible servers, Ollama, Voyage AI); public header
# include/pgai_provider.h.  Needs core/json and core/text (UTF-8).
CORE_SRCS  += provider/providers.c provider/util.c provider/http.c provider/wire.c provider/client.c provider/policy.c
CORE_TESTS += provider/test/test_provider_util.c provider/test/test_provider_wire.c provider/test/test_provider_policy.c provider/test/test_provider_http.c provider/test/test_provider_table.c
CORE_LIBS  += -lcurl

# embed_http_cli: texts on stdin -> vectors on stdout (tests, benchmarks).
all: $(BUILD)/embed_http_cli

$(BUILD)/embed_http_cli: provider/tools/embed_http_cli.c $(BUILD)/libpgaicore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_OPT) $< -o $@ $(BUILD)/libpgaicore.a $(CORE_LIBS) -lm
