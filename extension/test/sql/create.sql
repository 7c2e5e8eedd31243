-- create_vectorizer: the objects it makes and every check it does first.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset

CREATE TABLE blog_posts (id int PRIMARY KEY, title text NOT NULL, content text NOT NULL, published date);
INSERT INTO blog_posts VALUES (1, 'First', 'Hello world'), (2, 'Second', 'More text');

SELECT ai.create_vectorizer('blog_posts',
    embedding => ai.embedding_openai('text-embedding-3-small', 768),
    chunking => ai.chunking_character_text_splitter('content', 500),
    formatting => ai.formatting_python_template(E'Title: $title\nContent: $chunk')) AS id \gset

-- the catalog row, with every config completed and the defaults resolved
SELECT source_schema, source_table, source_pk, target_schema, target_table,
       view_schema, view_name, trigger_name, queue_schema, queue_table,
       queue_lease_table, queue_failed_table, disabled
FROM ai.vectorizer WHERE id = :id;
SELECT jsonb_pretty(config) FROM ai.vectorizer WHERE id = :id;

-- the store: uuid key, the source key, chunk_seq, chunk, embedding kept inline
SELECT attname, format_type(atttypid, atttypmod), attnotnull, attstorage
FROM pg_attribute WHERE attrelid = 'blog_posts_embedding_store'::regclass AND attnum > 0
ORDER BY attnum;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'blog_posts_embedding_store'::regclass ORDER BY conname;

-- the view joins store and source
SELECT attname FROM pg_attribute WHERE attrelid = 'blog_posts_embedding'::regclass ORDER BY attnum;

-- the queue holds the existing rows; the triggers are statement-level
SELECT id FROM ai._vectorizer_q_1 ORDER BY id;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'ai._vectorizer_q_lease_1'::regclass AND attnum > 0 ORDER BY attnum;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'ai._vectorizer_q_failed_1'::regclass AND attnum > 0 ORDER BY attnum;
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
WHERE tgrelid = 'blog_posts'::regclass AND NOT tgisinternal ORDER BY tgname;

-- enqueue_existing => false leaves the queue empty; named objects
SELECT ai.create_vectorizer('blog_posts',
    embedding => ai.embedding_ollama('nomic-embed-text', 3),
    chunking => ai.chunking_recursive_character_text_splitter('title', 100, 10),
    indexing => ai.indexing_none(),
    scheduling => ai.scheduling_timescaledb('1h'),
    processing => ai.processing_default(10, 2),
    target_table => 'titles_store', view_name => 'titles',
    queue_table => 'titles_q', enqueue_existing => false) AS id2 \gset
SELECT queue_table, queue_lease_table, queue_failed_table, config->'indexing' AS indexing,
       config->'scheduling' AS scheduling, config->'processing' AS processing
FROM ai.vectorizer WHERE id = :id2;
SELECT count(*) FROM ai.titles_q;

-- defaults: a hand-written chunking config is completed
SELECT ai.create_vectorizer('blog_posts',
    embedding => ai.embedding_openai('m', 3),
    chunking => '{"implementation": "character_text_splitter", "chunk_column": "content"}',
    indexing => ai.indexing_none(),
    target_table => 'hand_store', view_name => 'hand') AS id3 \gset
SELECT config->'chunking' FROM ai.vectorizer WHERE id = :id3;

-- errors, each before anything is created
SELECT ai.create_vectorizer(NULL, embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'));
SELECT ai.create_vectorizer('blog_posts', chunking => ai.chunking_character_text_splitter('content'));
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3));
SELECT ai.create_vectorizer('no_such_table', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'));
SELECT ai.create_vectorizer('blog_posts', embedding => ai.chunking_character_text_splitter('content'), chunking => ai.chunking_character_text_splitter('content'));
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('body'), target_table => 'x1');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('published'), target_table => 'x1');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'), formatting => ai.formatting_python_template('$author: $chunk'), target_table => 'x1');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'), formatting => ai.formatting_python_template('costs 5$ $chunk'), target_table => 'x1');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'), formatting => ai.formatting_python_template('${chunk'), target_table => 'x1');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3000), chunking => ai.chunking_character_text_splitter('content'), indexing => ai.indexing_hnsw(), target_table => 'x1');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'));
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'), target_table => 'x1', view_name => 'blog_posts_embedding');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'), target_table => 'x1', view_name => 'x1');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'), target_schema => 'nowhere');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'), target_table => 'x1', view_name => 'x2', queue_table => 'titles_q');
SELECT ai.create_vectorizer('blog_posts', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('content'), target_table => 'x1', view_name => 'x2', grant_to => ai.grant_to('no_such_role'));
CREATE TABLE a_table_whose_name_is_long_enough_to_overflow_derived_names (id int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('a_table_whose_name_is_long_enough_to_overflow_derived_names', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('body'));
DROP TABLE a_table_whose_name_is_long_enough_to_overflow_derived_names;

CREATE TABLE no_pk (body text);
SELECT ai.create_vectorizer('no_pk', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('body'));
CREATE VIEW a_view AS SELECT 1 AS id, 'x'::text AS body;
SELECT ai.create_vectorizer('a_view', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('body'));
CREATE TABLE chunk_key (chunk int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('chunk_key', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('body'));

-- nothing was left behind by the failures
SELECT count(*) FROM ai.vectorizer;
SELECT relname FROM pg_class WHERE relname IN ('x1', 'x2') OR relname LIKE '%no_pk_embedding%';

-- a source column that clashes with a store column stays out of the view
CREATE TABLE clash (id int PRIMARY KEY, chunk text, embedding text);
SELECT ai.create_vectorizer('clash', embedding => ai.embedding_openai('m', 3), chunking => ai.chunking_character_text_splitter('chunk')) AS id4 \gset
SELECT attname FROM pg_attribute WHERE attrelid = 'clash_embedding'::regclass ORDER BY attnum;

SELECT ai.drop_vectorizer(id, drop_all => true) FROM ai.vectorizer ORDER BY id;
DROP TABLE blog_posts, no_pk, chunk_key, clash;
DROP VIEW a_view;
