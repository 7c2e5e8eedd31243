-- Who may create, use and drop vectorizers.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset

CREATE ROLE ai_test_owner;
CREATE ROLE ai_test_other;
CREATE ROLE ai_test_reader;
CREATE ROLE ai_test_writer;
GRANT CREATE ON SCHEMA public TO ai_test_owner, ai_test_other;

SET ROLE ai_test_owner;
CREATE TABLE owned (id int PRIMARY KEY, body text);
INSERT INTO owned VALUES (1, 'x');
GRANT SELECT, INSERT, UPDATE ON owned TO ai_test_writer;
RESET ROLE;

-- a role that does not own the table cannot create a vectorizer on it
SET ROLE ai_test_other;
SELECT ai.create_vectorizer('owned', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none());
RESET ROLE;

-- the owner can, without any right on schema ai; grant_to roles can read
SET ROLE ai_test_owner;
SELECT ai.create_vectorizer('owned', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    grant_to => ai.grant_to('ai_test_reader')) AS id \gset
SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid IN ('owned_embedding_store'::regclass, 'owned_embedding'::regclass);
INSERT INTO owned_embedding_store (id, chunk_seq, chunk, embedding) VALUES (1, 0, 'x', '[1,2,3]');
SELECT count(*) FROM ai._vectorizer_q_1;
RESET ROLE;

SET ROLE ai_test_reader;
SELECT id, chunk, embedding FROM owned_embedding_store;
SELECT id, chunk, body FROM owned_embedding;
SELECT count(*) FROM ai._vectorizer_q_1;
SELECT id, pending_items, failed_items FROM ai.vectorizer_status;
RESET ROLE;

-- roles without a grant see the status but not the queue's contents
SET ROLE ai_test_other;
SELECT * FROM owned_embedding_store;
SELECT id, pending_items, failed_items FROM ai.vectorizer_status;
SELECT ai.vectorizer_queue_pending(:id);
RESET ROLE;

-- anyone who may write the source enqueues, without rights on the queue
SET ROLE ai_test_writer;
INSERT INTO owned VALUES (2, 'y');
UPDATE owned SET body = 'z' WHERE id = 1;
RESET ROLE;
SELECT id, count(*) FROM ai._vectorizer_q_1 GROUP BY id ORDER BY id;

-- only the owner changes or drops it
SET ROLE ai_test_other;
SELECT ai.drop_vectorizer(:id);
SELECT ai.disable_vectorizer_schedule(:id);
SELECT ai.vectorizer_retry_failed(:id);
RESET ROLE;
SET ROLE ai_test_owner;
SELECT ai.disable_vectorizer_schedule(:id);
SELECT ai.drop_vectorizer(:id, drop_all => true);
DROP TABLE owned;
RESET ROLE;

REVOKE CREATE ON SCHEMA public FROM ai_test_owner, ai_test_other;
REVOKE ALL ON FUNCTION ai._vectorizer_store_replace(int, text[], bytea, boolean),
    ai._vectorizer_record_error(int, text, jsonb) FROM ai_test_owner, ai_test_reader;
DROP ROLE ai_test_owner, ai_test_other, ai_test_reader, ai_test_writer;
