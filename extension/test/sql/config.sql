-- Configuration builders: defaults, completion of hand-written configs, and
-- every error path of the checks behind them.
\set VERBOSITY default

-- embedding
SELECT ai.embedding_openai('text-embedding-3-small', 768);
SELECT ai.embedding_openai('text-embedding-3-small', 768, chat_user => 'bob', api_key_name => 'MY_KEY', base_url => 'http://127.0.0.1:8000/v1');
SELECT ai.embedding_ollama('nomic-embed-text', 768);
SELECT ai.embedding_ollama('nomic-embed-text', 768, base_url => 'http://127.0.0.1:11434', options => '{"num_ctx": 1024}', keep_alive => '10m');
SELECT ai.embedding_voyageai('voyage-3', 1024);
SELECT ai.embedding_voyageai('voyage-3', 1024, input_type => 'query', api_key_name => 'VK');
SELECT ai.embedding_sentence_transformers();
SELECT ai.embedding_sentence_transformers('sentence-transformers/all-MiniLM-L6-v2', 384);
SELECT ai.embedding_openai('text-embedding-3-small', 0);
SELECT ai.embedding_openai('text-embedding-3-small', 16001);
SELECT ai.embedding_openai('', 768);
SELECT ai.embedding_openai(NULL, 768);
SELECT ai.embedding_openai('m', NULL);
SELECT ai.embedding_voyageai('voyage-3', 1024, input_type => 'passage');
SELECT ai.embedding_sentence_transformers('all-mpnet-base-v2');
SELECT ai.embedding_sentence_transformers(dimensions => 768);

-- chunking
SELECT ai.chunking_character_text_splitter('body');
SELECT ai.chunking_character_text_splitter('body', 128, 10, E'\n', true);
SELECT ai.chunking_recursive_character_text_splitter('body');
SELECT ai.chunking_recursive_character_text_splitter('body', 300, 30, array[E'\n\n', E'\n']);
SELECT ai.chunking_character_text_splitter('body', 0, 0);
SELECT ai.chunking_character_text_splitter('body', 100, -1);
SELECT ai.chunking_character_text_splitter('body', 100, 100);
SELECT ai.chunking_character_text_splitter('body', 300);
SELECT ai.chunking_character_text_splitter('');
SELECT ai.chunking_recursive_character_text_splitter('body', separators => '{}');

-- formatting
SELECT ai.formatting_python_template();
SELECT ai.formatting_python_template('Title: $title\nContent: $chunk');

-- indexing
SELECT ai.indexing_none();
SELECT ai.indexing_default();
SELECT ai.indexing_hnsw();
SELECT ai.indexing_hnsw(min_rows => 10, opclass => 'vector_l2_ops', m => 16, ef_construction => 64, create_when_queue_empty => false);
SELECT ai.indexing_hnsw(opclass => 'vector_foo_ops');
SELECT ai.indexing_hnsw(m => 1);
SELECT ai.indexing_hnsw(m => 32, ef_construction => 40);
SELECT ai.indexing_hnsw(min_rows => -1);
SELECT ai.indexing_diskann();
SELECT ai.indexing_diskann(min_rows => 10, storage_layout => 'memory_optimized', num_neighbors => 50, search_list_size => 100, max_alpha => 1.2, num_dimensions => 0, num_bits_per_dimension => 2);
SELECT ai.indexing_diskann(storage_layout => 'compressed');
SELECT ai.indexing_diskann(max_alpha => 0.5);

-- scheduling
SELECT ai.scheduling_none();
SELECT ai.scheduling_default();
SELECT ai.scheduling_timescaledb();
SELECT ai.scheduling_timescaledb('1h', '2025-01-01 00:00:00+00', true, 'UTC');
SELECT ai.scheduling_timescaledb('-5m');
SELECT ai.scheduling_timescaledb(timezone => 'Mars/Olympus_Mons');

-- processing
SELECT ai.processing_default();
SELECT ai.processing_default(batch_size => 100, concurrency => 4);
SELECT ai.processing_default(batch_size => 0);
SELECT ai.processing_default(batch_size => 2049);
SELECT ai.processing_default(concurrency => 51);

-- grant_to
SELECT ai.grant_to();
SELECT ai.grant_to('bob', 'alice', 'bob');

-- hand-written configs are completed, or rejected with a reason
SELECT ai._vectorizer_config('chunking', '{"implementation": "character_text_splitter", "chunk_column": "body"}');
SELECT ai._vectorizer_config('chunking', '{"implementation": "character_text_splitter"}');
SELECT ai._vectorizer_config('chunking', '{"implementation": "character_text_splitter", "chunk_column": "body", "chunk_sise": 10}');
SELECT ai._vectorizer_config('chunking', '{"implementation": "character_text_splitter", "chunk_column": "body", "chunk_size": "10"}');
SELECT ai._vectorizer_config('chunking', '{"implementation": "character_text_splitter", "chunk_column": "body", "chunk_size": 10.5}');
SELECT ai._vectorizer_config('chunking', '{"implementation": "sentence_splitter"}');
SELECT ai._vectorizer_config('chunking', '{"chunk_column": "body"}');
SELECT ai._vectorizer_config('chunking', '[1, 2]');
SELECT ai._vectorizer_config('chunking', ai.embedding_openai('m', 3));
SELECT ai._vectorizer_config('indexing', '{"implementation": "none", "min_rows": 3}');
SELECT ai._vectorizer_config('colour', '{"implementation": "none"}');
SELECT ai._vectorizer_config('embedding', '{"implementation": "ollama", "model": "m", "dimensions": 3, "options": [1]}');
SELECT ai._vectorizer_config('chunking', '{"implementation": "recursive_character_text_splitter", "chunk_column": "b", "separators": [" ", 3]}');
SELECT ai._vectorizer_config('scheduling', '{"implementation": "timescaledb", "schedule_interval": "soon"}');
SELECT ai._vectorizer_config('scheduling', '{"implementation": "timescaledb", "initial_start": "yesterday-ish"}');
