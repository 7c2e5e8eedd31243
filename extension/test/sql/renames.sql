-- The catalog follows its tables by OID (issue 9, item 9): renaming or
-- moving a source, store, view or queue keeps the vectorizer working,
-- drop_vectorizer finds what it created under its new names, and a table
-- another role creates under an old name is nothing to the vectorizer.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset
CREATE ROLE ren_alice;
CREATE ROLE ren_mallory;
GRANT CREATE ON SCHEMA public TO ren_alice, ren_mallory;
SELECT current_database() AS db \gset
GRANT CREATE ON DATABASE :"db" TO ren_alice;

-- 1. renaming the source: capture goes on, the names shown follow
SET ROLE ren_alice;
CREATE TABLE docs (id int PRIMARY KEY, body text);
INSERT INTO docs VALUES (1, 'a');
SELECT ai.create_vectorizer('docs', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
ALTER TABLE docs RENAME TO docs_v2;
INSERT INTO docs_v2 VALUES (2, 'b');
UPDATE docs_v2 SET body = 'bb' WHERE id = 2;
SELECT ai.vectorizer_queue_pending(:id, true) AS pending;
SELECT source_schema, source_table, target_schema, target_table, view_schema, view_name
FROM ai.vectorizer WHERE id = :id;
SELECT source_table, target_table, "view", pending_items FROM ai.vectorizer_status WHERE id = :id;

-- 2. moving it to another schema, and renaming that schema
CREATE SCHEMA moved;
ALTER TABLE docs_v2 SET SCHEMA moved;
INSERT INTO moved.docs_v2 VALUES (3, 'c');
ALTER SCHEMA moved RENAME TO moved2;
INSERT INTO moved2.docs_v2 VALUES (4, 'd');
TRUNCATE moved2.docs_v2 CASCADE;
INSERT INTO moved2.docs_v2 VALUES (5, 'e');
SELECT ai.vectorizer_queue_pending(:id, true) AS pending;
SELECT source_schema, source_table FROM ai.vectorizer WHERE id = :id;

-- 3. renaming the store and the view: the names shown follow
ALTER TABLE docs_embedding_store RENAME TO docs_store_v2;
ALTER VIEW docs_embedding RENAME TO docs_view_v2;
SELECT target_schema, target_table, view_schema, view_name FROM ai.vectorizer WHERE id = :id;
RESET ROLE;

-- 4. renaming the queues (the extension owner's): capture and counts go on
ALTER TABLE ai._vectorizer_q_1 RENAME TO q_renamed;
ALTER TABLE ai._vectorizer_q_failed_1 RENAME TO q_failed_renamed;
INSERT INTO moved2.docs_v2 VALUES (6, 'f');
SELECT queue_schema, queue_table, queue_failed_table FROM ai.vectorizer WHERE id = :id;
SELECT ai.vectorizer_queue_pending(:id, true) AS pending, ai.vectorizer_queue_failed(:id) AS failed;
SELECT pending_items, failed_items FROM ai.vectorizer_status WHERE id = :id;

-- 5. another role takes the old names: it cannot drop, disable or retry the
--    vectorizer, and dropping its own table leaves the vectorizer alone
SET ROLE ren_mallory;
CREATE TABLE docs (id int PRIMARY KEY, body text);
CREATE TABLE docs_embedding_store (id int);
SELECT ai.drop_vectorizer(:id, drop_all => true);
SELECT ai.disable_vectorizer_schedule(:id);
SELECT ai.vectorizer_retry_failed(:id);
SELECT source_table, target_table FROM ai.vectorizer WHERE id = :id;
DROP TABLE docs;
RESET ROLE;
SELECT count(*) AS still_there FROM ai.vectorizer WHERE id = :id;
SELECT disabled FROM ai.vectorizer WHERE id = :id;

-- 6. drop_vectorizer finds the renamed objects: triggers, queues, store and
--    view all go, and writes to the source go on without error
SET ROLE ren_alice;
SELECT ai.drop_vectorizer(:id, drop_all => true);
INSERT INTO moved2.docs_v2 VALUES (7, 'g');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'moved2.docs_v2'::regclass AND NOT tgisinternal;
SELECT to_regclass('docs_store_v2') AS store, to_regclass('docs_view_v2') AS view;
SELECT count(*) AS queues FROM pg_class
WHERE relname IN ('q_renamed', '_vectorizer_q_lease_1', 'q_failed_renamed');
SELECT count(*) AS catalog_rows FROM ai.vectorizer;
-- and the table another role made under the store's old name is not touched
SELECT to_regclass('docs_embedding_store') IS NOT NULL AS others_table_kept;
SET ROLE ren_mallory;
DROP TABLE docs_embedding_store;
SET ROLE ren_alice;

-- 7. without drop_all, a renamed source loses its triggers too
SELECT ai.create_vectorizer('moved2.docs_v2', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
ALTER TABLE moved2.docs_v2 RENAME TO docs_v3;
-- a renamed capture trigger still captures, and is still found
SELECT '_vectorizer_src_trg_' || :id || '_ins' AS trg \gset
ALTER TRIGGER :"trg" ON moved2.docs_v3 RENAME TO my_insert_trigger;
INSERT INTO moved2.docs_v3 VALUES (70, 'renamed trigger');
SELECT ai.vectorizer_queue_pending(:id, true) AS pending;
SELECT ai.drop_vectorizer(:id);
INSERT INTO moved2.docs_v3 VALUES (8, 'h');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'moved2.docs_v3'::regclass AND NOT tgisinternal;
DROP VIEW moved2.docs_v2_embedding;
DROP TABLE moved2.docs_v2_embedding_store;

-- 8. dropping a renamed source removes the catalog row and the queues
SELECT ai.create_vectorizer('moved2.docs_v3', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
ALTER TABLE moved2.docs_v3 RENAME TO docs_v4;
DROP TABLE moved2.docs_v4 CASCADE;
SELECT count(*) AS catalog_rows FROM ai.vectorizer WHERE id = :id;
SELECT to_regclass('ai._vectorizer_q_' || :id) AS queue;
DROP TABLE moved2.docs_v3_embedding_store;

-- 9. a store that is gone shows as NULL; status and drop still work
CREATE TABLE notes (id int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
DROP VIEW notes_embedding;
DROP TABLE notes_embedding_store;
CREATE TABLE notes_embedding_store (id int);
SELECT target_schema, target_table, view_name FROM ai.vectorizer WHERE id = :id;
-- the dropped objects' OIDs are forgotten, never to name a table created later
SELECT target IS NULL AS target_forgotten, "view" IS NULL AS view_forgotten, queue IS NOT NULL AS queue_kept
FROM ai._vectorizer WHERE id = :id;
SELECT source_table, target_table, "view" FROM ai.vectorizer_status WHERE id = :id;
SELECT ai.drop_vectorizer(:id, drop_all => true);
SELECT to_regclass('notes_embedding_store') IS NOT NULL AS new_table_kept;
DROP TABLE notes, notes_embedding_store;
RESET ROLE;

-- 10. the catalog holds OIDs, which pg_dump writes as names
SELECT atttypid::regtype, count(*) FROM pg_attribute
WHERE attrelid = 'ai._vectorizer'::regclass AND attnum > 0 AND atttypid = 'regclass'::regtype
GROUP BY 1;

-- 11. the worker's writes and the error rows follow the store by OID too:
--     a table under the store's old name gets no embeddings, and its owner
--     neither forges nor reads the vectorizer's errors
CREATE ROLE ren_worker;
SET ROLE ren_alice;
CREATE TABLE posts (id int PRIMARY KEY, body text);
INSERT INTO posts VALUES (1, 'one');
SELECT ai.create_vectorizer('posts', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    grant_to => ai.grant_to('ren_worker')) AS pid \gset
ALTER TABLE posts_embedding_store RENAME TO posts_store_v2;
SET ROLE ren_mallory;
-- a vectorizer of her own gives her EXECUTE on the worker's functions
CREATE TABLE mine (id int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('mine', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS mid \gset
CREATE TABLE posts_embedding_store (id int, chunk_seq int, chunk text, embedding vector(3));
GRANT ALL ON posts_embedding_store TO PUBLIC;
SELECT ai._vectorizer_record_error(:pid, 'forged for alice', NULL);
SET ROLE ren_worker;
SELECT ai._vectorizer_store_replace(:pid, '{1}',
    pg_catalog.convert_to(E'1\t0\tone\t[0.5,0.5,0.5]\n', 'UTF8'), false) AS inserted;
SELECT ai._vectorizer_record_error(:pid, 'provider down', NULL);
RESET ROLE;
SELECT id, chunk FROM posts_store_v2;
SELECT count(*) AS in_the_old_names_table FROM posts_embedding_store;
SET ROLE ren_mallory;
SELECT count(*) AS errors_mallory_sees FROM ai.vectorizer_errors WHERE id = :pid;
SELECT ai.drop_vectorizer(:mid, drop_all => true);
DROP TABLE mine, posts_embedding_store;
RESET ROLE;
SELECT message FROM ai.vectorizer_errors WHERE id = :pid;
SET ROLE ren_alice;
SELECT ai.drop_vectorizer(:pid, drop_all => true);
DROP TABLE posts;
RESET ROLE;

DROP SCHEMA moved2 CASCADE;
REVOKE CREATE ON SCHEMA public FROM ren_alice, ren_mallory;
REVOKE CREATE ON DATABASE :"db" FROM ren_alice;
DROP OWNED BY ren_alice, ren_mallory, ren_worker;
DROP ROLE ren_alice;
DROP ROLE ren_mallory;
DROP ROLE ren_worker;
