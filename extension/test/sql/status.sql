-- Status, pending counts, schedules.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset

CREATE TABLE items (id int PRIMARY KEY, body text);
SELECT ai.create_vectorizer('items', embedding => ai.embedding_openai('m', 3),
    chunking => ai.chunking_character_text_splitter('body'), indexing => ai.indexing_none()) AS id \gset
\set q ai._vectorizer_q_:id

SELECT * FROM ai.vectorizer_status WHERE id = :id;
SELECT ai.vectorizer_queue_pending(:id), ai.vectorizer_queue_pending(:id, exact_count => true);

-- small queues are always counted exactly
INSERT INTO items SELECT g, 'body' FROM generate_series(1, 5000) g;
SELECT ai.vectorizer_queue_pending(:id), ai.vectorizer_queue_pending(:id, true);

-- a large queue: the exact count is exact, however large; the estimate is
-- never below what was seen
INSERT INTO items SELECT g, 'body' FROM generate_series(5001, 25000) g;
SELECT ai.vectorizer_queue_pending(:id, exact_count => true);
SELECT ai.vectorizer_queue_pending(:id) > 10000 AS estimated_large;
ANALYZE :q;
SELECT ai.vectorizer_queue_pending(:id) BETWEEN 20000 AND 30000 AS estimate_close;
SELECT pending_items BETWEEN 20000 AND 30000 AS status_close FROM ai.vectorizer_status WHERE id = :id;

-- failed rows and errors show in the status
INSERT INTO ai._vectorizer_q_failed_1 (id, attempts, last_error) VALUES (1, 6, 'boom');
INSERT INTO ai.vectorizer_errors (id, message, details) VALUES (:id, 'provider error', '{"status": 500}');
SELECT id, failed_items, errors, disabled FROM ai.vectorizer_status WHERE id = :id;
SELECT ai.vectorizer_queue_failed(:id);

-- schedules
SELECT ai.disable_vectorizer_schedule(:id);
SELECT disabled FROM ai.vectorizer WHERE id = :id;
SELECT ai.enable_vectorizer_schedule(:id);
SELECT disabled FROM ai.vectorizer WHERE id = :id;
SELECT ai.enable_vectorizer_schedule(424242);
SELECT ai.vectorizer_queue_pending(424242);

-- errors go with their vectorizer
SELECT ai.drop_vectorizer(:id, drop_all => true);
SELECT count(*) FROM ai.vectorizer_errors WHERE id = :id;
DROP TABLE items;
