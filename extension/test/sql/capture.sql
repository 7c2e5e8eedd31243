-- Change capture: what inserts, updates, deletes and truncates do to the
-- queue and the store. The worker's write is simulated in SQL.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset

CREATE TABLE posts (id int PRIMARY KEY, title text, body text, meta json, views int DEFAULT 0);
SELECT ai.create_vectorizer('posts', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'),
    formatting => ai.formatting_python_template('$title / $meta: $chunk'),
    indexing => ai.indexing_none()) AS id \gset
\set q ai._vectorizer_q_:id
\set f ai._vectorizer_q_failed_:id
\set l ai._vectorizer_q_lease_:id

-- insert enqueues every row, single and bulk
INSERT INTO posts (id, title, body) VALUES (1, 'one', 'first body');
INSERT INTO posts (id, title, body) SELECT g, 'title ' || g, 'body ' || g FROM generate_series(2, 1000) g;
SELECT count(*), min(id), max(id) FROM :q;

-- the worker takes the queue
DELETE FROM :q;
INSERT INTO posts_embedding_store (id, chunk_seq, chunk, embedding)
SELECT id, 0, body, '[1,0,0]' FROM posts;

-- an update of a column that feeds neither chunk nor template enqueues nothing
UPDATE posts SET views = views + 1;
SELECT count(*) FROM :q;
-- an update that sets the same values enqueues nothing
UPDATE posts SET body = body, title = title WHERE id <= 10;
SELECT count(*) FROM :q;
-- the chunk column, a template column, a json template column each enqueue
UPDATE posts SET body = 'new body' WHERE id = 1;
UPDATE posts SET title = 'new title' WHERE id = 2;
UPDATE posts SET meta = '{"a": 1}' WHERE id = 3;
UPDATE posts SET title = NULL WHERE id = 4;
SELECT id FROM :q ORDER BY id;
-- the queue is append-only: enqueueing a queued key again adds a row,
-- which the worker collapses when it claims the key
UPDATE posts SET body = 'newer body' WHERE id = 1;
UPDATE posts SET body = 'newest body' WHERE id IN (1, 2);
SELECT id, count(*) FROM :q GROUP BY id ORDER BY id;

-- a key update moves the key: the old key has no embeddings left, the new
-- key is queued
DELETE FROM :q;
UPDATE posts SET id = 5000 WHERE id = 5;
SELECT id FROM :q;
SELECT count(*) FROM posts_embedding_store WHERE id = 5;

-- delete cascades to the store
SELECT count(*) FROM posts_embedding_store WHERE id = 6;
DELETE FROM posts WHERE id = 6;
SELECT count(*) FROM posts_embedding_store WHERE id = 6;

-- INSERT ... ON CONFLICT DO UPDATE enqueues through the update trigger
DELETE FROM :q;
INSERT INTO posts (id, title, body) VALUES (7, 'x', 'conflicting body'), (2001, 'y', 'fresh')
ON CONFLICT (id) DO UPDATE SET body = excluded.body;
SELECT id FROM :q ORDER BY id;

-- a failed key whose row changes is queued again; an operator's retry
-- puts every failed key back and forgets its attempts
DELETE FROM :q;
INSERT INTO :f (id, attempts, last_error) VALUES (8, 5, 'provider said no'), (9, 5, 'provider said no');
INSERT INTO :l (id, attempts, retry_after, last_error) VALUES (9, 5, now() + interval '1 h', 'provider said no');
UPDATE posts SET body = 'fixed body' WHERE id = 8;
SELECT id FROM :q;
SELECT ai.vectorizer_retry_failed(:id);
SELECT id, count(*) FROM :q GROUP BY id ORDER BY id;
SELECT count(*) AS failed FROM :f;
SELECT count(*) AS leases FROM :l;

-- a lease does not stop capture: a leased key changed again is queued
-- again, and the worker sees the new row when it writes its result
DELETE FROM :q;
INSERT INTO posts (id, title, body) VALUES (3000, 't', 'b');
INSERT INTO :l (id, lease_token, lease_until, attempts) VALUES (3000, gen_random_uuid(), now() + interval '5 min', 1);
UPDATE posts SET body = 'changed while leased' WHERE id = 3000;
SELECT id, count(*) FROM :q GROUP BY id;

-- truncate (CASCADE, because the store references the source) empties
-- store, queue, leases and failed queue
INSERT INTO :f (id, attempts) VALUES (10, 1);
TRUNCATE posts CASCADE;
SELECT (SELECT count(*) FROM posts_embedding_store) AS store, (SELECT count(*) FROM :q) AS queue,
       (SELECT count(*) FROM :l) AS leases, (SELECT count(*) FROM :f) AS failed;
-- plain TRUNCATE is refused by the foreign key, as for any referenced table
TRUNCATE posts;

-- two vectorizers on one table each get their own queue
INSERT INTO posts (id, title, body) VALUES (1, 'a', 'b');
SELECT ai.create_vectorizer('posts', embedding => ai.embedding_openai('m2', 3),
    chunking => ai.chunking_character_text_splitter('title'),
    indexing => ai.indexing_none(), target_table => 'posts_titles_store',
    view_name => 'posts_titles', enqueue_existing => false) AS id2 \gset
\set q2 ai._vectorizer_q_:id2
DELETE FROM :q;
UPDATE posts SET title = 'c' WHERE id = 1;
UPDATE posts SET body = 'd' WHERE id = 1;
SELECT 'first' AS vectorizer, id FROM :q UNION ALL SELECT 'second', id FROM :q2 ORDER BY 1;

-- capture only runs as a statement trigger with the vectorizer id
SELECT ai._vectorizer_capture();
CREATE TABLE other (id int PRIMARY KEY);
CREATE TRIGGER wrong AFTER INSERT ON other FOR EACH ROW EXECUTE FUNCTION ai._vectorizer_capture('1');
INSERT INTO other VALUES (1);

SELECT ai.drop_vectorizer(:id, drop_all => true);
SELECT ai.drop_vectorizer(:id2, drop_all => true);
DROP TABLE posts, other;
