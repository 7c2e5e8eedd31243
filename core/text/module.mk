# core/text: UTF-8 helpers, string.Template formatting, LangChain-compatible
# chunkers (public header include/pgai_text.h; errors come from core/common).

# Keep `all` the default goal and build the differential-test CLI with it.
all: $(BUILD)/text/chunk_cli

CORE_SRCS += text/utf8.c text/arena.c text/template.c \
             text/chunk.c text/chunk_regex.c
CORE_TESTS += text/test/test_utf8.c text/test/test_template.c \
              text/test/test_chunk.c
CORE_LIBS += -lpcre2-8

# Reads length-prefixed requests on stdin, writes chunks (see the file).
$(BUILD)/text/chunk_cli: text/tools/chunk_cli.c $(BUILD)/libpgaicore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_OPT) $< $(BUILD)/libpgaicore.a -o $@ $(CORE_LIBS) -lm
