-- Attacks by an ordinary role (issue 9): each must fail, and no code of
-- the attacker's may run with another role's rights.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset
CREATE ROLE sec_mallory;
CREATE ROLE sec_victim;
GRANT CREATE ON SCHEMA public TO sec_mallory, sec_victim;
SELECT current_database() AS db \gset
GRANT CREATE ON DATABASE :"db" TO sec_mallory;

-- 1. NULL arguments never crash the backend
SELECT ai.openai_embed(NULL, 'x');
SELECT ai.openai_embed('m', NULL::text, api_key => 'k', dimensions => 3) IS NULL AS null_in_null_out;
SELECT count(*) FROM ai.openai_embed('m', NULL::text[], api_key => 'k', dimensions => 3);
SELECT ai.ollama_embed(NULL, 'x');
SELECT ai.voyageai_embed(NULL, 'x');
SELECT count(*) FROM ai.voyageai_embed('m', NULL::text[], api_key => 'k', dimensions => 3);
SELECT ai.drop_vectorizer(NULL);
SELECT ai.vectorizer_queue_pending(NULL);

-- 2. an operator of the attacker's, first on its search_path, never runs
--    as the extension's owner: not from capture, not from the schedule
--    functions, not from the drop trigger
SET ROLE sec_mallory;
CREATE SCHEMA evil;
CREATE TABLE evil.ran_as (who name);
GRANT INSERT ON evil.ran_as TO PUBLIC;
CREATE FUNCTION evil.text_eq(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO evil.ran_as VALUES (current_user);
  RETURN a OPERATOR(pg_catalog.=) b;
END $$;
CREATE FUNCTION evil.int_eq(a int, b int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO evil.ran_as VALUES (current_user);
  RETURN a OPERATOR(pg_catalog.=) b;
END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
CREATE OPERATOR evil.= (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.int_eq);
CREATE TABLE evil.docs (id int PRIMARY KEY, body text);
INSERT INTO evil.docs VALUES (1, 'a'), (2, 'b');
SELECT ai.create_vectorizer('evil.docs', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS mid \gset
SET search_path = evil, pg_catalog, public;
UPDATE evil.docs SET body = 'changed' WHERE id OPERATOR(pg_catalog.=) 1;
SELECT ai.disable_vectorizer_schedule(:mid);
SELECT ai.enable_vectorizer_schedule(:mid);
SELECT ai.vectorizer_queue_pending(:mid) OPERATOR(pg_catalog.>) 0 AS queued;
SELECT ai.vectorizer_retry_failed(:mid);
RESET search_path;
SELECT count(*) AS ran_as_someone_else FROM evil.ran_as WHERE who <> 'sec_mallory';
SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_mallory';
RESET ROLE;

-- 3. the capture trigger function is not for attaching elsewhere
SET ROLE sec_victim;
CREATE TABLE victim_docs (id int PRIMARY KEY, body text);
INSERT INTO victim_docs VALUES (1, 'v');
SELECT ai.create_vectorizer('victim_docs', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS vid \gset
RESET ROLE;
SET ROLE sec_mallory;
CREATE TABLE evil.other (id int PRIMARY KEY, body text);
CREATE TRIGGER steal AFTER TRUNCATE ON evil.other FOR EACH STATEMENT
  EXECUTE FUNCTION ai._vectorizer_capture(:'vid');
RESET ROLE;
-- even a trigger a superuser attaches by mistake refuses to act
CREATE TRIGGER _vectorizer_src_trg_x AFTER TRUNCATE ON evil.other FOR EACH STATEMENT
  EXECUTE FUNCTION ai._vectorizer_capture(:'vid');
TRUNCATE evil.other;
DROP TRIGGER _vectorizer_src_trg_x ON evil.other;
SELECT ai.vectorizer_queue_pending(:vid) AS victim_queue_intact;

-- 4. queues only where the caller may create, never in system schemas
CREATE SCHEMA locked;
SET ROLE sec_mallory;
CREATE TABLE evil.t4 (id int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('evil.t4', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    queue_schema => 'information_schema');
SELECT ai.create_vectorizer('evil.t4', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    queue_schema => 'locked');
SELECT ai.create_vectorizer('evil.t4', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    target_schema => 'pg_catalog');

RESET ROLE;
-- 5. no vectorizer on a temporary table
CREATE TEMP TABLE scratch (id int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('scratch', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none());

DROP TABLE scratch;
-- 6. no URL of the caller's choosing, no secret of the server's
SET ROLE sec_mallory;
SET ai.openai_base_url = 'http://127.0.0.1:9/v1';
SELECT ai.openai_embed('text-embedding-3-small', 'x', base_url => 'http://127.0.0.1:9/v1');
SELECT ai.openai_embed('text-embedding-3-small', 'x', api_key => 'mine', base_url => 'https://api.openai.com.evil.example/v1');
SELECT ai.ollama_embed('all-minilm', 'x', host => '127.0.0.1:9');
SELECT ai.openai_embed('text-embedding-3-small', 'x', api_key_name => 'PGDATA');
SELECT ai.voyageai_embed('voyage-3', 'x', api_key_name => 'AWS_SECRET_ACCESS_KEY');
SHOW ai.allowed_base_urls;
SET ai.allowed_base_urls = 'http://127.0.0.1:9';
RESET ROLE;

-- 6b. messages never repeat a whole input
DO $$
BEGIN
  PERFORM ai._vectorizer_config('embedding',
    pg_catalog.jsonb_build_object('implementation', pg_catalog.repeat('x', 10000000)));
EXCEPTION WHEN invalid_parameter_value THEN
  RAISE WARNING 'message of % bytes', pg_catalog.octet_length(SQLERRM);
END $$;

-- 6c. the status view works for a role that may not see every queue:
--     sec_victim's queues live in a schema sec_mallory has no USAGE on
SET ROLE sec_victim;
CREATE TABLE victim_notes (id int PRIMARY KEY, body text);
RESET ROLE;
CREATE SCHEMA victim_queues;
GRANT CREATE, USAGE ON SCHEMA victim_queues TO sec_victim;
SET ROLE sec_victim;
SELECT ai.create_vectorizer('victim_notes', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    queue_schema => 'victim_queues') AS nid \gset
RESET ROLE;
SET ROLE sec_mallory;
SELECT source_table, pending_items FROM ai.vectorizer_status WHERE id = :nid;
RESET ROLE;
SELECT ai.drop_vectorizer(:nid, drop_all => true);
DROP TABLE victim_notes;
DROP SCHEMA victim_queues;

-- 6d. what would fail every row later is refused at creation
SELECT ai.chunking_character_text_splitter('body', separator => '(', is_separator_regex => true);
SELECT ai.chunking_recursive_character_text_splitter('body',
    separators => array[E'\n', '['], is_separator_regex => true);
SELECT ai.chunking_character_text_splitter('body', separator => '\s+',
    is_separator_regex => true)->>'separator' AS valid_regex;

-- 7. dropping the table runs nothing of the attacker's as the owner
SET ROLE sec_mallory;
SET search_path = evil, pg_catalog, public;
DROP TABLE evil.docs CASCADE;
RESET search_path;
SELECT count(*) AS ran_as_someone_else FROM evil.ran_as WHERE who <> 'sec_mallory';
RESET ROLE;

-- 8. capture follows changes to its table within one session: a template
--    column dropped with CASCADE leaves updates working
CREATE TABLE posts (id int PRIMARY KEY, title text, body text);
INSERT INTO posts VALUES (1, 't', 'b');
SELECT ai.create_vectorizer('posts', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    formatting => ai.formatting_python_template('$title: $chunk')) AS pid \gset
UPDATE posts SET title = 'u';
ALTER TABLE posts DROP COLUMN title CASCADE;
UPDATE posts SET body = 'changed';
SELECT ai.vectorizer_queue_pending(:pid) AS queued_after_drop;
SELECT ai.drop_vectorizer(:pid, drop_all => true);
DROP TABLE posts;

SELECT ai.drop_vectorizer(:vid, drop_all => true);
DROP SCHEMA evil CASCADE;
DROP SCHEMA locked;
DROP TABLE victim_docs;
REVOKE CREATE ON SCHEMA public FROM sec_mallory, sec_victim;
REVOKE CREATE ON DATABASE :"db" FROM sec_mallory;
DROP OWNED BY sec_mallory, sec_victim;
DROP ROLE sec_mallory;
DROP ROLE sec_victim;
