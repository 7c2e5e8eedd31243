# core/model: the built-in all-MiniLM-L6-v2 model (tokenizer, safetensors
# reader, encoder) and its tools. Included by core/Makefile.
CORE_SRCS  += model/safetensors.c model/tokenizer.c model/unicode_tables.c \
              model/minilm.c
CORE_TESTS += model/test/test_tokenizer.c model/test/test_safetensors.c \
              model/test/test_minilm.c
CORE_LIBS  += -lopenblas -lpthread

# embed_cli: run the model over texts (parity test, benchmark).
all: $(BUILD)/embed_cli

$(BUILD)/embed_cli: model/tools/embed_cli.c $(BUILD)/libpgaicore.a
	$(CC) $(CFLAGS_OPT) $< -o $@ $(BUILD)/libpgaicore.a $(CORE_LIBS) -lm

# Regenerate the Unicode tables (needs gen/unicode_overrides.txt, made by
# gen/probe_reference.py in a venv that has Hugging Face tokenizers).
.PHONY: model-unicode-tables
model-unicode-tables:
	cd model/gen && python3 gen_unicode.py unicode_overrides.txt ../unicode_tables.c
