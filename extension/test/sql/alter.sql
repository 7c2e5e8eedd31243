-- ai.alter_vectorizer: in-place changes (processing, scheduling, indexing,
-- grant_to) apply at once with no re-embedding and no queue change; a
-- change of embedding, chunking or formatting is refused for now.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset

CREATE ROLE ai_alter_owner;
CREATE ROLE ai_alter_other;
CREATE ROLE ai_alter_reader;
CREATE ROLE ai_alter_worker;
GRANT CREATE ON SCHEMA public TO ai_alter_owner;

SET ROLE ai_alter_owner;
CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
INSERT INTO docs VALUES (1, 't1', 'a'), (2, 't2', 'b'), (3, 't3', 'c');
SELECT ai.create_vectorizer('docs', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none(),
    name => 'docs') AS id \gset
-- a stored embedding and the queue, which no in-place change may touch
INSERT INTO docs_embedding_store (id, chunk_seq, chunk, embedding) VALUES (1, 0, 'a', '[1,2,3]');
SELECT embedding_uuid AS uuid FROM docs_embedding_store \gset
RESET ROLE;
SELECT config AS config0, updated_at AS updated0 FROM ai._vectorizer WHERE id = :id \gset
SELECT count(*) AS queued0 FROM ai._vectorizer_q_1 \gset

-- processing: only that key of the config changes
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer(:id, processing => ai.processing_default(batch_size => 10, concurrency => 2));
RESET ROLE;
SELECT config->'processing' AS processing FROM ai.vectorizer WHERE id = :id;
SELECT config - 'processing' = :'config0'::jsonb - 'processing' AS rest_unchanged,
       updated_at > :'updated0'::timestamptz OR updated_at = :'updated0'::timestamptz AS updated
FROM ai.vectorizer WHERE id = :id;

-- scheduling: the default resolves as in create, to "none"; a schedule
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer('docs', scheduling => ai.scheduling_timescaledb(interval '10 minutes'));
RESET ROLE;
SELECT config->'scheduling'->>'implementation' AS impl, config->'scheduling'->>'schedule_interval' AS every
FROM ai.vectorizer WHERE id = :id;
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer('docs', scheduling => ai.scheduling_default());
RESET ROLE;
SELECT config->'scheduling' AS scheduling FROM ai.vectorizer WHERE id = :id;

-- indexing: the default resolves as in create (HNSW without DiskANN)
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer('docs', indexing => ai.indexing_default());
RESET ROLE;
SELECT config->'indexing'->>'implementation' AS impl, config->'indexing'->>'min_rows' AS min_rows
FROM ai.vectorizer WHERE id = :id;
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer('docs', indexing => ai.indexing_hnsw(min_rows => 5, m => 8));
RESET ROLE;
SELECT config->'indexing'->>'min_rows' AS min_rows, config->'indexing'->>'m' AS m
FROM ai.vectorizer WHERE id = :id;

-- no re-embedding and no queue change after all of that
SELECT count(*) AS store_rows, bool_and(embedding_uuid = :'uuid') AS same_row FROM docs_embedding_store;
SELECT count(*) = :queued0 AS queue_unchanged FROM ai._vectorizer_q_1;
SELECT count(*) AS errors FROM ai.vectorizer_errors;

-- nothing given: nothing changes
SELECT config AS config1 FROM ai._vectorizer WHERE id = :id \gset
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer(:id);
SELECT ai.alter_vectorizer(:id, embedding => NULL, chunking => NULL);
RESET ROLE;
SELECT config = :'config1'::jsonb AS unchanged FROM ai._vectorizer WHERE id = :id;

-- embedding, chunking, formatting: the same configuration is no change
-- (defaults filled in), a different one is refused with nothing changed
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer('docs', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'),
    formatting => ai.formatting_python_template(), processing => ai.processing_default(batch_size => 11));
SELECT ai.alter_vectorizer('docs', embedding => '{"implementation": "openai", "model": "m", "dimensions": 3}');
SELECT ai.alter_vectorizer('docs', embedding => ai.embedding_openai('m', 4));
SELECT ai.alter_vectorizer('docs', embedding => ai.embedding_openai('m2', 3), processing => ai.processing_default(batch_size => 99));
SELECT ai.alter_vectorizer('docs', chunking => ai.chunking_character_text_splitter('body', chunk_size => 100, chunk_overlap => 10));
SELECT ai.alter_vectorizer('docs', chunking => ai.chunking_character_text_splitter('title'));
SELECT ai.alter_vectorizer('docs', formatting => ai.formatting_python_template('$title: $chunk'));
RESET ROLE;
SELECT config->'processing'->>'batch_size' AS batch_size, config->'embedding'->>'model' AS model
FROM ai.vectorizer WHERE id = :id;

-- every configuration gets create's checks
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer('docs', processing => '{"implementation": "default", "batch_size": 0}');
SELECT ai.alter_vectorizer('docs', processing => ai.indexing_none());
SELECT ai.alter_vectorizer('docs', indexing => '{"implementation": "ivfflat"}');
SELECT ai.alter_vectorizer('docs', scheduling => '{"implementation": "none", "extra": 1}');
SELECT ai.alter_vectorizer('docs', embedding => '{"implementation": "openai", "model": "m"}');
SELECT ai.alter_vectorizer('docs', indexing => '[]');
RESET ROLE;

-- the HNSW dimension limit, against the stored embedding
SET ROLE ai_alter_owner;
CREATE TABLE wide (id int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('wide', embedding => ai.embedding_openai('m', 3072),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS wide \gset
SELECT ai.alter_vectorizer(:wide, indexing => ai.indexing_hnsw());
SELECT ai.alter_vectorizer(:wide, indexing => ai.indexing_none());
RESET ROLE;
SELECT config->'indexing'->>'implementation' AS impl FROM ai.vectorizer WHERE id = :wide;

-- grant_to: the new roles get what create grants, the worker's functions too
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer('docs', grant_to => ai.grant_to('ai_alter_reader', 'ai_alter_worker'));
RESET ROLE;
SELECT r, has_table_privilege(r, 'docs_embedding_store', 'select, insert, update, delete') AS store,
       has_table_privilege(r, 'docs_embedding', 'select') AS view,
       has_table_privilege(r, 'docs', 'select') AS source,
       has_table_privilege(r, 'ai._vectorizer_q_1', 'select, insert, update, delete') AS queue,
       has_table_privilege(r, 'ai._vectorizer_q_lease_1', 'select, insert, update, delete') AS lease,
       has_table_privilege(r, 'ai._vectorizer_q_failed_1', 'select, insert, update, delete') AS failed,
       has_function_privilege(r, 'ai._vectorizer_store_replace(int, text[], bytea, boolean)', 'execute') AS replace,
       has_function_privilege(r, 'ai._vectorizer_record_error(int, text, jsonb)', 'execute') AS record
FROM unnest(ARRAY['ai_alter_reader', 'ai_alter_worker', 'ai_alter_other']) AS r;
-- a grant_to role that does not exist changes nothing
SELECT config AS config2 FROM ai._vectorizer WHERE id = :id \gset
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer('docs', processing => ai.processing_default(batch_size => 3),
    grant_to => ai.grant_to('ai_alter_nobody'));
RESET ROLE;
SELECT config = :'config2'::jsonb AS unchanged FROM ai._vectorizer WHERE id = :id;
-- an empty grant_to is no change
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer('docs', grant_to => ai.grant_to());
RESET ROLE;

-- only the source's owner may alter, by id or by name
SET ROLE ai_alter_other;
SELECT ai.alter_vectorizer(:id, processing => ai.processing_default(batch_size => 1));
SELECT ai.alter_vectorizer('docs', grant_to => ai.grant_to('ai_alter_other'));
RESET ROLE;
SET ROLE ai_alter_reader;
SELECT ai.alter_vectorizer('docs', scheduling => ai.scheduling_none());
RESET ROLE;
SELECT has_table_privilege('ai_alter_other', 'docs_embedding_store', 'select') AS other_store;

-- the search path of the caller plays no part
CREATE SCHEMA evil;
CREATE FUNCTION evil.jsonb_concat(jsonb, jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$;
CREATE OPERATOR evil.|| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = evil.jsonb_concat);
GRANT USAGE ON SCHEMA evil TO ai_alter_owner;
SET ROLE ai_alter_owner;
SET search_path = evil, pg_catalog, public;
SELECT ai.alter_vectorizer('docs', processing => ai.processing_default(batch_size => 12));
RESET search_path;
RESET ROLE;
SELECT config->'processing'->>'batch_size' AS batch_size, config ? 'embedding' AS whole
FROM ai.vectorizer WHERE id = :id;
DROP SCHEMA evil CASCADE;

-- the first argument may be named, with an id or a name
SET ROLE ai_alter_owner;
SELECT ai.alter_vectorizer(vectorizer => 'docs', processing => ai.processing_default(batch_size => 12));
SELECT ai.alter_vectorizer(vectorizer => :id, processing => ai.processing_default(batch_size => 12));
RESET ROLE;

-- errors
SELECT ai.alter_vectorizer(NULL::int, processing => ai.processing_default());
SELECT ai.alter_vectorizer(NULL::text);
SELECT ai.alter_vectorizer(424242, processing => ai.processing_default());

-- a transaction that rolls back undoes the change
BEGIN;
SELECT ai.alter_vectorizer('docs', processing => ai.processing_default(batch_size => 500));
ROLLBACK;
SELECT config->'processing'->>'batch_size' AS batch_size FROM ai.vectorizer WHERE id = :id;

SELECT ai.drop_vectorizer('docs', true);
SELECT ai.drop_vectorizer(:wide, true);
DROP TABLE docs, wide;
REVOKE CREATE ON SCHEMA public FROM ai_alter_owner;
DROP OWNED BY ai_alter_owner, ai_alter_reader, ai_alter_worker, ai_alter_other;
DROP ROLE ai_alter_owner;
DROP ROLE ai_alter_other;
DROP ROLE ai_alter_reader;
DROP ROLE ai_alter_worker;
