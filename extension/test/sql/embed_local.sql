-- The built-in model inside the database: ai.sentence_transformers_embed.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT setval('ai.vectorizer_id_seq', 1, false) AS reset_ids \gset

-- a 384-dimension unit vector, the model's answer for a known text
SELECT vector_dims(e), round(vector_norm(e)::numeric, 4) AS norm,
       round((e::real[])[1]::numeric, 4) AS first
FROM ai.sentence_transformers_embed('all-MiniLM-L6-v2', 'hello world') AS e;
-- both names of the model give the same vector
SELECT ai.sentence_transformers_embed('all-MiniLM-L6-v2', 'same text')
     = ai.sentence_transformers_embed('sentence-transformers/all-MiniLM-L6-v2', 'same text') AS same;

-- meaning decides distance
WITH q AS (SELECT ai.sentence_transformers_embed('all-MiniLM-L6-v2', 'machine learning') AS e)
SELECT d.t FROM q, (VALUES ('deep neural networks learn from data'), ('a recipe for sourdough bread'),
                           ('the stock market fell today')) AS d(t)
ORDER BY ai.sentence_transformers_embed('all-MiniLM-L6-v2', d.t) <=> q.e;

-- the array form keeps positions; NULL inputs give NULL embeddings
SELECT index, vector_dims(embedding)
FROM ai.sentence_transformers_embed('all-MiniLM-L6-v2', array['one', NULL, 'three']);
SELECT count(*) FROM ai.sentence_transformers_embed('all-MiniLM-L6-v2', '{}'::text[]);
-- and agrees with the single form (to float rounding: batches pad)
SELECT bool_and((embedding <=> ai.sentence_transformers_embed('all-MiniLM-L6-v2', t)) < 1e-6) AS agrees
FROM unnest(array['one', 'two']) WITH ORDINALITY AS u(t, n)
JOIN ai.sentence_transformers_embed('all-MiniLM-L6-v2', array['one', 'two']) a ON a.index = u.n - 1;

-- empty text and long text (truncated at 256 tokens, as the model does)
SELECT vector_dims(ai.sentence_transformers_embed('all-MiniLM-L6-v2', ''));
SELECT ai.sentence_transformers_embed('all-MiniLM-L6-v2', repeat('word ', 300))
     = ai.sentence_transformers_embed('all-MiniLM-L6-v2', repeat('word ', 400)) AS truncated_alike;

-- errors
SELECT ai.sentence_transformers_embed('all-mpnet-base-v2', 'x');
SET ai.model_dir = '/nonexistent/model';
SELECT ai.sentence_transformers_embed('all-MiniLM-L6-v2', 'x');
RESET ai.model_dir;
SELECT vector_dims(ai.sentence_transformers_embed('all-MiniLM-L6-v2', 'back again'));

-- a statement timeout interrupts a long batch promptly
SET statement_timeout = '200ms';
SELECT count(*) FROM ai.sentence_transformers_embed('all-MiniLM-L6-v2',
    array(SELECT repeat('many words here ', 80) FROM generate_series(1, 2000)));
RESET statement_timeout;
