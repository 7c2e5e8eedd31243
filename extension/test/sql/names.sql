-- Vectorizer names (pgai 0.12's): unique, defaulting to
-- <target_schema>_<target_table>; every management function takes the id
-- or the name.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset

CREATE TABLE notes (id int PRIMARY KEY, body text);
INSERT INTO notes VALUES (1, 'a'), (2, 'b');
CREATE SCHEMA other;
CREATE ROLE ai_names_other;
CREATE ROLE ai_names_reader;

-- the default name, shown by the catalog view and the status view
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
SELECT id = :id AS same_id, name FROM ai.vectorizer;
SELECT id = :id AS same_id, name FROM ai.vectorizer_status;
SELECT name FROM ai._vectorizer;
-- name is the last column of both views and of the catalog table
SELECT attname FROM pg_attribute WHERE attrelid = 'ai.vectorizer'::regclass AND attnum > 0
ORDER BY attnum DESC LIMIT 2;
SELECT attname FROM pg_attribute WHERE attrelid = 'ai.vectorizer_status'::regclass AND attnum > 0
ORDER BY attnum DESC LIMIT 2;
SELECT attname FROM pg_attribute WHERE attrelid = 'ai._vectorizer'::regclass AND attnum > 0
ORDER BY attnum DESC LIMIT 2;

-- a chosen name; the default follows target_schema and target_table
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    target_table => 'notes_b_store', view_name => 'notes_b', name => 'notes b') AS id_b \gset
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    target_schema => 'other', view_schema => 'other') AS id_c \gset
SELECT name FROM ai.vectorizer ORDER BY id;

-- a name is unique: an error, or with if_not_exists the existing id and a notice
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    target_table => 'notes_d_store', view_name => 'notes_d', name => 'notes b');
SET client_min_messages = notice;
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    target_table => 'notes_d_store', view_name => 'notes_d', name => 'notes b',
    if_not_exists => true) = :id_b AS existing_id;
-- the default name of a vectorizer that exists, with its store
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    if_not_exists => true) = :id AS existing_id;
SET client_min_messages = warning;
-- nothing was created by those calls
SELECT count(*) FROM ai.vectorizer;
SELECT to_regclass('notes_d_store') AS store;
-- without if_not_exists the name is checked first, then the store's name
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none());
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    name => 'fresh');
-- bad names
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), name => '');
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), name => repeat('n', 200));

-- every management function by name, as by id
SELECT ai.vectorizer_queue_pending('notes b') AS pending, ai.vectorizer_queue_pending(:id_b) AS by_id;
SELECT ai.vectorizer_queue_pending('notes b', exact_count => true) AS pending;
SELECT ai.vectorizer_queue_failed('notes b') AS failed;
SELECT ai.disable_vectorizer_schedule('notes b');
SELECT disabled FROM ai.vectorizer WHERE id = :id_b;
SELECT ai.enable_vectorizer_schedule('notes b');
SELECT disabled FROM ai.vectorizer WHERE id = :id_b;
SELECT ai.vectorizer_retry_failed('notes b') AS retried;
SELECT ai.alter_vectorizer('notes b', processing => ai.processing_default(batch_size => 7));
SELECT config->'processing'->>'batch_size' AS batch_size FROM ai.vectorizer WHERE id = :id_b;
-- the int signatures are unchanged
SELECT ai.disable_vectorizer_schedule(:id_b);
SELECT ai.enable_vectorizer_schedule(:id_b);
SELECT ai.vectorizer_retry_failed(:id_b) AS retried;
SELECT ai.vectorizer_queue_failed(:id_b) AS failed;

-- an unknown name, for each function
SELECT ai.drop_vectorizer('nope');
SELECT ai.vectorizer_queue_pending('nope');
SELECT ai.vectorizer_queue_failed('nope');
SELECT ai.vectorizer_retry_failed('nope');
SELECT ai.enable_vectorizer_schedule('nope');
SELECT ai.disable_vectorizer_schedule('nope');
SELECT ai.alter_vectorizer('nope');
-- the name is the whole key: no pattern, no case folding
SELECT ai.drop_vectorizer('notes%');
SELECT ai.drop_vectorizer('NOTES B');

-- by name, another role's vectorizer is still not another role's to change
GRANT USAGE ON SCHEMA other TO ai_names_other;
SET ROLE ai_names_other;
SELECT ai.drop_vectorizer('notes b');
SELECT ai.disable_vectorizer_schedule('notes b');
SELECT ai.vectorizer_retry_failed('notes b');
SELECT ai.alter_vectorizer('notes b', processing => ai.processing_default(batch_size => 1));
RESET ROLE;

-- a rename keeps the name: it is the vectorizer's, not the store's
ALTER TABLE notes_b_store RENAME TO notes_b_renamed;
SELECT name, target_table FROM ai.vectorizer WHERE id = :id_b;

-- drop by name
SELECT ai.drop_vectorizer('notes b', drop_all => true);
SELECT ai.drop_vectorizer('other_notes_embedding_store', true);
SELECT name FROM ai.vectorizer ORDER BY id;
SELECT to_regclass('notes_b_renamed') AS store, to_regclass('other.notes_embedding_store') AS other_store;
-- the name is free again
SELECT ai.create_vectorizer('notes', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    target_table => 'notes_b_store', view_name => 'notes_b', name => 'notes b') > :id_c AS created;
SELECT ai.drop_vectorizer('notes b', true);
SELECT ai.drop_vectorizer(:id, true);

DROP TABLE notes;
DROP SCHEMA other;
DROP ROLE ai_names_other;
DROP ROLE ai_names_reader;
