-- Odd identifiers, key types, schemas and partitioned sources.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset

-- names that need quoting everywhere: spaces, keywords, quotes, unicode.
-- Python's string.Template takes ASCII names only, so $ünïcødé is refused.
CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Blog Posts" ("select" int PRIMARY KEY, "Body ""quoted""" text, "ünïcødé" text);
INSERT INTO "My Schema"."Blog Posts" VALUES (1, 'one', 'ü'), (2, 'two', 'ß');
SELECT ai.create_vectorizer('"My Schema"."Blog Posts"',
    embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('Body "quoted"', 10, 2),
    formatting => ai.formatting_python_template('$ünïcødé'),
    indexing => ai.indexing_none());
SELECT ai.create_vectorizer('"My Schema"."Blog Posts"',
    embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('Body "quoted"', 10, 2),
    indexing => ai.indexing_none()) AS id \gset
SELECT source_schema, source_table, target_schema, target_table, view_name, source_pk
FROM ai.vectorizer WHERE id = :id;
SELECT "select", chunk_seq FROM "My Schema"."Blog Posts_embedding" ORDER BY 1;
UPDATE "My Schema"."Blog Posts" SET "Body ""quoted""" = 'changed' WHERE "select" = 2;
SELECT "select", count(*) FROM ai._vectorizer_q_1 GROUP BY 1 ORDER BY 1;

-- key types: int, bigint, text, uuid, composite (int, text)
CREATE TABLE k_bigint (id bigint PRIMARY KEY, body text);
CREATE TABLE k_text (id text COLLATE "C" PRIMARY KEY, body varchar(100));
CREATE TABLE k_uuid (id uuid PRIMARY KEY, body text);
CREATE TABLE k_comp (a int, b text, body text, PRIMARY KEY (b, a));
INSERT INTO k_bigint VALUES (9000000000, 'big');
INSERT INTO k_text VALUES ('key one', 'text key');
INSERT INTO k_uuid VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'uuid key');
INSERT INTO k_comp VALUES (1, 'x', 'comp'), (2, 'x', 'comp 2');
SELECT ai.create_vectorizer(t, embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none())
FROM unnest(array['k_bigint', 'k_text', 'k_uuid', 'k_comp']::regclass[]) AS t;
SELECT source_table, source_pk FROM ai.vectorizer WHERE source_table LIKE 'k\_%' ORDER BY id;
SELECT attname, format_type(atttypid, atttypmod), attcollation::regcollation
FROM pg_attribute WHERE attrelid = 'k_text_embedding_store'::regclass AND attnum > 0 ORDER BY attnum;
SELECT pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'k_comp_embedding_store'::regclass AND contype IN ('u', 'f') ORDER BY 1;
SELECT b, a FROM ai._vectorizer_q_5 ORDER BY b, a;
SELECT id FROM ai._vectorizer_q_2;
SELECT id FROM ai._vectorizer_q_4;

-- a schema other than public, with the store in a third schema
CREATE SCHEMA content;
CREATE SCHEMA vectors;
CREATE TABLE content.docs (id int PRIMARY KEY, body text);
INSERT INTO content.docs VALUES (1, 'doc');
SELECT ai.create_vectorizer('content.docs', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    target_schema => 'vectors', view_schema => 'vectors', queue_schema => 'vectors') AS id \gset
SELECT target_schema, target_table, view_schema, view_name, queue_schema, queue_table
FROM ai.vectorizer WHERE id = :id;
SELECT count(*) FROM vectors._vectorizer_q_6;

-- a partitioned source: capture sees rows of every partition
CREATE TABLE events (id int, region text, body text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
INSERT INTO events VALUES (1, 'eu', 'a'), (2, 'us', 'b');
SELECT ai.create_vectorizer('events', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
INSERT INTO events VALUES (3, 'us', 'c');
UPDATE events SET region = 'us' WHERE id = 1;
SELECT id, region FROM ai._vectorizer_q_7 ORDER BY id, region;
INSERT INTO events_embedding_store (id, region, chunk_seq, chunk, embedding) VALUES (2, 'us', 0, 'b', '[1,2,3]');
DELETE FROM events WHERE id = 2;
SELECT count(*) FROM events_embedding_store;

SELECT ai.drop_vectorizer(id, drop_all => true) FROM ai.vectorizer ORDER BY id;
DROP SCHEMA "My Schema", content, vectors CASCADE;
DROP TABLE k_bigint, k_text, k_uuid, k_comp, events;
