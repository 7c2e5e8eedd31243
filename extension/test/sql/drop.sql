-- drop_vectorizer, and what happens when a source table is dropped.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset

CREATE TABLE notes (id int PRIMARY KEY, body text);
INSERT INTO notes VALUES (1, 'a');

-- without drop_all: triggers, queues and catalog row go; store and view stay
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
SELECT ai.drop_vectorizer(:id);
SELECT count(*) FROM ai.vectorizer WHERE id = :id;
SELECT to_regclass('ai._vectorizer_q_' || :id) AS queue, to_regclass('ai._vectorizer_q_lease_' || :id) AS lease,
       to_regclass('ai._vectorizer_q_failed_' || :id) AS failed;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'notes'::regclass AND NOT tgisinternal;
SELECT to_regclass('notes_embedding_store') AS store, to_regclass('notes_embedding') AS view;
INSERT INTO notes VALUES (2, 'b');
DROP VIEW notes_embedding;
DROP TABLE notes_embedding_store;

-- with drop_all: store and view go too
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
SELECT ai.drop_vectorizer(:id, drop_all => true);
SELECT to_regclass('notes_embedding_store') AS store, to_regclass('notes_embedding') AS view,
       to_regclass('ai._vectorizer_q_' || :id) AS queue;

-- errors
SELECT ai.drop_vectorizer(424242);
SELECT ai.drop_vectorizer(:id);

-- dropping the source leaves no catalog row, queue or trigger behind;
-- the store keeps its rows, the view goes with the source
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    target_table => 'notes2_store', view_name => 'notes2') AS id2 \gset
INSERT INTO notes_embedding_store (id, chunk_seq, chunk, embedding) VALUES (1, 0, 'a', '[1,2,3]');
SET client_min_messages = notice;
DROP TABLE notes CASCADE;
SET client_min_messages = warning;
SELECT count(*) FROM ai.vectorizer WHERE id IN (:id, :id2);
SELECT count(*) FROM pg_class WHERE relname IN ('_vectorizer_q_' || :id, '_vectorizer_q_failed_' || :id,
                                                '_vectorizer_q_' || :id2, '_vectorizer_q_failed_' || :id2);
SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\_vectorizer\_src\_trg\_' || :id || '\_%';
SELECT count(*) FROM notes_embedding_store;
SELECT to_regclass('notes_embedding') AS view;
DROP TABLE notes_embedding_store, notes2_store;

-- dropping a schema with the source in it tidies up the same way
CREATE SCHEMA gone;
CREATE TABLE gone.t (id int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('gone.t', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
DROP SCHEMA gone CASCADE;
SELECT count(*) FROM ai.vectorizer WHERE id = :id;

-- drops of other tables are left alone
CREATE TABLE keep (id int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('keep', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
CREATE TABLE unrelated (id int);
DROP TABLE unrelated;
SELECT count(*) FROM ai.vectorizer WHERE id = :id;
SELECT ai.drop_vectorizer(:id, drop_all => true);
DROP TABLE keep;
