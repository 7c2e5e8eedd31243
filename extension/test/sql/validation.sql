-- What the worker would refuse on every row is refused when the vectorizer
-- is created: separator regexes compiled as the worker's splitter compiles
-- them (core/text), and configurations no deeper than the worker's JSON
-- reader allows (core/json). Each refusal is shown with its SQLSTATE, its
-- message and its hint.
\set VERBOSITY default

CREATE FUNCTION pg_temp.refused(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text;
  msg text;
  hint text;
  detail text;
BEGIN
  EXECUTE stmt;
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
    detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || coalesce(E'\nDETAIL: ' || nullif(detail, ''), '') || E'\nHINT: ' || hint;
END $$;

-- 1. separators that do not compile, in either splitter
SELECT pg_temp.refused($$SELECT ai.chunking_character_text_splitter('body', separator => '(', is_separator_regex => true)$$);
SELECT pg_temp.refused($$SELECT ai.chunking_recursive_character_text_splitter('body', separators => array[E'\n', '['], is_separator_regex => true)$$);
SELECT pg_temp.refused($$SELECT ai.chunking_recursive_character_text_splitter('body', separators => array['\'], is_separator_regex => true)$$);

-- 2. the recursive splitter keeps separators, so it compiles each one
-- wrapped in a group, as LangChain does (re.split(f"({sep})", text)): a
-- global flag then no longer stands at the start, which Python refuses
SELECT pg_temp.refused($$SELECT ai.chunking_recursive_character_text_splitter('body', separators => array['(?i)x'], is_separator_regex => true)$$);
-- the character splitter does not wrap it: there it is a valid separator
SELECT ai.chunking_character_text_splitter('body', separator => '(?i)x', is_separator_regex => true)->>'separator' AS accepted;

-- 3. the separator quoted in the message is cut to 64 bytes
SELECT pg_temp.refused(format($$SELECT ai.chunking_character_text_splitter('body', separator => %L, is_separator_regex => true)$$,
                              '(' || repeat('é', 200)));

-- 4. the same check for a hand-written configuration
SELECT pg_temp.refused($$SELECT ai._vectorizer_config('chunking', '{"implementation": "recursive_character_text_splitter", "chunk_column": "body", "separators": ["a", "(?x"], "is_separator_regex": true}')$$);
-- literal separators are never compiled
SELECT ai.chunking_recursive_character_text_splitter('body', separators => array['(', '['])->'separators' AS literal;
SELECT ai.chunking_recursive_character_text_splitter('body', separators => array['\s+', '(?<=\.) ', ''], is_separator_regex => true)->'separators' AS valid;

-- 5. nesting: the stored vectorizer config (one level above each section)
-- must parse with the worker's reader, whose limit is 256 levels
CREATE FUNCTION pg_temp.nested(levels int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT (repeat('{"a": ', levels) || '1' || repeat('}', levels))::jsonb
$$;
-- options of 254 levels: the embedding config has 255, the stored one 256
SELECT length(ai.embedding_ollama('m', 8, options => pg_temp.nested(254))::text) AS at_the_limit;
SELECT pg_temp.refused($$SELECT ai.embedding_ollama('m', 8, options => pg_temp.nested(255))$$);
SELECT pg_temp.refused($$SELECT ai.embedding_ollama('m', 8, options => pg_temp.nested(1000))$$);
SELECT pg_temp.refused($$SELECT ai._vectorizer_config('embedding', jsonb_build_object('implementation', 'ollama', 'model', 'm', 'dimensions', 8, 'options', pg_temp.nested(300)))$$);

-- 6. create_vectorizer refuses them before creating anything
CREATE TABLE val_docs (id int PRIMARY KEY, body text);
SELECT pg_temp.refused($$SELECT ai.create_vectorizer('val_docs'::regclass,
    embedding => '{"implementation": "ollama", "model": "m", "dimensions": 8, "options": {"a": {"a": {"a": 1}}}}'::jsonb || jsonb_build_object('options', pg_temp.nested(400)),
    chunking => ai.chunking_character_text_splitter('body'))$$);
SELECT pg_temp.refused($$SELECT ai.create_vectorizer('val_docs'::regclass,
    embedding => ai.embedding_ollama('m', 8),
    chunking => '{"implementation": "recursive_character_text_splitter", "chunk_column": "body", "separators": ["(?s)."], "is_separator_regex": true}')$$);
SELECT count(*) AS vectorizers FROM ai.vectorizer;
SELECT count(*) AS stores FROM pg_class WHERE relname = 'val_docs_embedding_store';
DROP TABLE val_docs;
