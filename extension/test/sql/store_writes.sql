-- The worker's two writing functions and ai.vectorizer_errors (issue 9,
-- items 8 and 14): who may call them, for which vectorizer, and who sees
-- which errors.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset
CREATE ROLE sw_alice;
CREATE ROLE sw_bob;
CREATE ROLE sw_worker;
CREATE ROLE sw_nobody;
GRANT CREATE ON SCHEMA public TO sw_alice, sw_bob;

SET ROLE sw_alice;
CREATE TABLE alice_docs (id int PRIMARY KEY, body text);
INSERT INTO alice_docs VALUES (1, 'one'), (2, 'two');
SELECT ai.create_vectorizer('alice_docs', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    grant_to => ai.grant_to('sw_worker')) AS alice_id \gset
SET ROLE sw_bob;
CREATE TABLE bob_docs (id text PRIMARY KEY, body text);
SELECT ai.create_vectorizer('bob_docs', embedding => ai.embedding_sentence_transformers(),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    grant_to => ai.grant_to()) AS bob_id \gset
RESET ROLE;

-- nobody may write the error table directly, not even a grant_to role
SET ROLE sw_worker;
INSERT INTO ai.vectorizer_errors (id, message) VALUES (:alice_id, 'forged');
-- a grant_to role records errors of its own vectorizers only
SELECT ai._vectorizer_record_error(:alice_id, 'provider down', '{"rows": 2}');
SELECT ai._vectorizer_record_error(:bob_id, 'forged for bob', NULL);
SELECT ai._vectorizer_record_error(NULL, 'x', NULL);
-- and replaces the embeddings of its own vectorizers' stores only
SELECT ai._vectorizer_store_replace(:bob_id, '{a}', '', false);
-- a text-format row for key 1: id, chunk_seq, chunk, embedding (384 dims)
SELECT ai._vectorizer_store_replace(:alice_id, '{1,2}',
    pg_catalog.convert_to('1' || E'\t0\tone\t' || (SELECT '[' || string_agg('0.5', ',') || ']' FROM generate_series(1, 384)) || E'\n', 'UTF8'),
    false) AS inserted;
SELECT ai._vectorizer_store_replace(:alice_id, '{1,2}', '', NULL);
SELECT ai._vectorizer_store_replace(:alice_id, '{{1},{2}}', '', false);
RESET ROLE;
SELECT id, chunk_seq, chunk FROM alice_docs_embedding_store;
-- replacing with no rows deletes the keys' embeddings
SET ROLE sw_worker;
SELECT ai._vectorizer_store_replace(:alice_id, '{1}', '', true) AS inserted;
RESET ROLE;
SELECT count(*) AS left_in_store FROM alice_docs_embedding_store;

-- a role with no vectorizer may not call them at all
SET ROLE sw_nobody;
SELECT ai._vectorizer_store_replace(:alice_id, '{1}', '', false);
SELECT ai._vectorizer_record_error(:alice_id, 'forged', NULL);
-- bob, who owns another vectorizer, may not write alice's
SET ROLE sw_bob;
SELECT ai._vectorizer_store_replace(:alice_id, '{1}', '', false);
SELECT ai._vectorizer_record_error(:alice_id, 'forged for alice', NULL);
-- each role sees the errors of the stores it may read
SELECT ai._vectorizer_record_error(:bob_id, 'bob''s own', NULL);
SELECT id = :bob_id AS bobs, message FROM ai.vectorizer_errors ORDER BY message;
SET ROLE sw_worker;
SELECT id = :alice_id AS alices, message FROM ai.vectorizer_errors ORDER BY message;
SET ROLE sw_alice;
SELECT id = :alice_id AS alices, message FROM ai.vectorizer_errors ORDER BY message;
RESET ROLE;
-- the status view still counts every vectorizer's errors
SELECT id = :alice_id AS alices, errors FROM ai.vectorizer_status ORDER BY id;

SELECT ai.drop_vectorizer(:alice_id, drop_all => true);
SELECT ai.drop_vectorizer(:bob_id, drop_all => true);
DROP TABLE alice_docs, bob_docs;
DROP OWNED BY sw_alice, sw_bob, sw_worker CASCADE;
DROP ROLE sw_alice, sw_bob, sw_worker, sw_nobody;
