"""Man-page retrieval benchmark: semantic search with the built-in
all-MiniLM-L6-v2 (through the real extension and worker) against PostgreSQL
full-text search, on the corpus corpus.py built.

Query = a page's NAME description; the right answer = that page. Reports
recall@10 and MRR (reciprocal rank of the right page, 0 when it is not
ranked at all) for each method, and writes results.json.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import psycopg

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", required=True)
ap.add_argument("--db", default="bench_retrieval")
ap.add_argument("--max-body", type=int, default=4000)
ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json"))
ap.add_argument("--pgai", default="/usr/local/bin/pgai")
args = ap.parse_args()

MODEL = "all-MiniLM-L6-v2"
K = 10
rows = [json.loads(line) for line in open(args.corpus)]


def cap(body, n):
    """The first n characters, cut back to the last whitespace."""
    if len(body) <= n:
        return body
    cut = body[:n]
    sp = max(cut.rfind(" "), cut.rfind("\n"))
    return cut[:sp] if sp > n // 2 else cut


with psycopg.connect(dbname="postgres", autocommit=True) as c:
    c.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
    c.execute(f'CREATE DATABASE "{args.db}"')

timings = {}
conn = psycopg.connect(dbname=args.db, autocommit=True)
conn.execute("CREATE EXTENSION ai CASCADE")
conn.execute("CREATE TABLE pages (id int PRIMARY KEY, name text NOT NULL, body text NOT NULL)")
conn.execute("CREATE TABLE pages_full (id int PRIMARY KEY, body text NOT NULL)")
conn.execute("CREATE TABLE queries (id int PRIMARY KEY, query text NOT NULL)")
with conn.cursor() as cur:
    with cur.copy("COPY pages (id, name, body) FROM STDIN") as cp:
        for r in rows:
            cp.write_row((r["id"], r["name"], cap(r["body"], args.max_body)))
    with cur.copy("COPY pages_full (id, body) FROM STDIN") as cp:
        for r in rows:
            cp.write_row((r["id"], r["body"]))
    with cur.copy("COPY queries (id, query) FROM STDIN") as cp:
        for r in rows:
            cp.write_row((r["id"], r["query"]))
n_chars = conn.execute("SELECT sum(length(body)) FROM pages").fetchone()[0]

# ---- semantic: vectorizer + one worker run -------------------------------
conn.execute("""
SELECT ai.create_vectorizer('pages',
    embedding => ai.embedding_sentence_transformers(),
    chunking  => ai.chunking_recursive_character_text_splitter('body', 800, 100),
    indexing  => ai.indexing_none())""")
t = time.perf_counter()
subprocess.run([args.pgai, "vectorizer", "worker", "--db-url", f"dbname={args.db}", "--once"], check=True)
timings["worker_embed_s"] = time.perf_counter() - t
pending = conn.execute("SELECT pending_items FROM ai.vectorizer_status").fetchone()[0]
n_chunks, n_pages_emb = conn.execute(
    "SELECT count(*), count(DISTINCT id) FROM pages_embedding_store").fetchone()
if pending or n_pages_emb != len(rows):
    sys.exit(f"worker left {pending} pending rows; {n_pages_emb} of {len(rows)} pages embedded")

conn.execute("CREATE TABLE query_emb (id int PRIMARY KEY, embedding vector(384))")
t = time.perf_counter()
for i in range(0, len(rows), 128):
    batch = rows[i:i + 128]
    got = conn.execute("SELECT index, embedding::text FROM ai.sentence_transformers_embed(%s, %s::text[])",
                       (MODEL, [r["query"] for r in batch])).fetchall()
    base = min(ix for ix, _ in got)        # the index is 0- or 1-based; map it back either way
    assert len(got) == len(batch)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO query_emb VALUES (%s, %s::vector)",
                        [(batch[ix - base]["id"], e) for ix, e in got])
timings["query_embed_s"] = time.perf_counter() - t

# Every method below is one SQL statement giving (qid, pid, score) for the
# pages it ranks, higher score first, ties broken by page id.
METHODS = {
    "semantic (MiniLM, min chunk distance)": """
        SELECT q.id AS qid, s.id AS pid, -min(s.embedding <=> q.embedding) AS score
        FROM query_emb q CROSS JOIN pages_embedding_store s GROUP BY q.id, s.id""",
}
# FTS on the same (capped) bodies, and, as a check that the cap does not
# hurt FTS, on the whole bodies.
for table in ("pages", "pages_full"):
    conn.execute(f"ALTER TABLE {table} ADD COLUMN tsv tsvector"
                 " GENERATED ALWAYS AS (to_tsvector('english', body)) STORED")
conn.execute("CREATE INDEX ON pages USING gin (tsv)")
conn.execute("CREATE INDEX ON pages_full USING gin (tsv)")
# OR of the description's lexemes (each lexeme quoted as tsquery text).
conn.execute("""
CREATE TABLE query_ts AS
SELECT id,
       (SELECT coalesce(string_agg('''' || replace(replace(l, '\\', '\\\\'), '''', '''''') || '''',
                                   ' | '), '')
        FROM unnest(tsvector_to_array(to_tsvector('english', query))) l)::tsquery AS q_or,
       plainto_tsquery('english', query) AS q_and,
       websearch_to_tsquery('english', query) AS q_web
FROM queries""")
for label, col, tbl, norm in [
        ("FTS OR of lexemes, ts_rank_cd", "q_or", "pages", 0),
        ("FTS OR of lexemes, ts_rank_cd / length", "q_or", "pages", 2),
        ("FTS AND plainto_tsquery, ts_rank_cd", "q_and", "pages", 0),
        ("FTS websearch_to_tsquery, ts_rank_cd", "q_web", "pages", 0),
        ("FTS OR, whole uncapped body, ts_rank_cd", "q_or", "pages_full", 0),
        ("FTS OR, whole uncapped body, / length", "q_or", "pages_full", 2)]:
    METHODS[label] = f"""
        SELECT q.id AS qid, p.id AS pid, ts_rank_cd(p.tsv, q.{col}, {norm}) AS score
        FROM query_ts q JOIN {tbl} p ON p.tsv @@ q.{col}"""

names = {r["id"]: r["name"] for r in rows}
queries = {r["id"]: r["query"] for r in rows}
results, ranks = {}, {}
for label, sql in METHODS.items():
    t = time.perf_counter()
    got = conn.execute(f"""
        WITH m AS ({sql}),
        r AS (SELECT qid, pid, row_number() OVER (PARTITION BY qid ORDER BY score DESC, pid) AS rk FROM m)
        SELECT qid, pid, rk FROM r WHERE rk <= {K} OR qid = pid""").fetchall()
    secs = time.perf_counter() - t
    rank = {q: None for q in names}
    top = {q: [] for q in names}
    for qid, pid, rk in got:
        if qid == pid:
            rank[qid] = rk
        if rk <= K:
            top[qid].append((rk, pid))
    n = len(names)
    hits = sum(1 for v in rank.values() if v is not None and v <= K)
    results[label] = {
        "recall_at_10": hits / n,
        "hits_at_1": sum(1 for v in rank.values() if v == 1) / n,
        "mrr": sum(1.0 / v for v in rank.values() if v) / n,
        "mrr_at_10": sum(1.0 / v for v in rank.values() if v and v <= K) / n,
        "unranked": sum(1 for v in rank.values() if v is None),
        "search_all_queries_s": secs,
    }
    ranks[label] = (rank, {q: [names[p] for _, p in sorted(v)] for q, v in top.items()})

# Per-query latency as a user would run it: embed the query and search in one statement.
t = time.perf_counter()
sample = rows[:: max(1, len(rows) // 50)]
for r in sample:
    conn.execute("""SELECT id, min(embedding <=> ai.sentence_transformers_embed(%s, %s)) d
                    FROM pages_embedding_store GROUP BY id ORDER BY d LIMIT 10""",
                 (MODEL, r["query"])).fetchall()
timings["single_semantic_query_ms"] = (time.perf_counter() - t) / len(sample) * 1000
t = time.perf_counter()
for r in sample:
    conn.execute("""SELECT id FROM pages p,
                    (SELECT replace(plainto_tsquery('english', %s)::text, '&', '|')::tsquery q) x
                    WHERE p.tsv @@ x.q ORDER BY ts_rank_cd(p.tsv, x.q, 2) DESC LIMIT 10""",
                 (r["query"],)).fetchall()
timings["single_fts_query_ms"] = (time.perf_counter() - t) / len(sample) * 1000

sem, fts = "semantic (MiniLM, min chunk distance)", "FTS OR of lexemes, ts_rank_cd / length"
srank, stop = ranks[sem]
frank, ftop = ranks[fts]
def ok(v): return v is not None and v <= K
both = sum(1 for q in names if ok(srank[q]) and ok(frank[q]))
only_sem = [q for q in names if ok(srank[q]) and not ok(frank[q])]
only_fts = [q for q in names if ok(frank[q]) and not ok(srank[q])]
neither = sum(1 for q in names if not ok(srank[q]) and not ok(frank[q]))
def ex(q): return {"page": names[q], "query": queries[q], "semantic_rank": srank[q], "fts_or_rank": frank[q],
                  "semantic_top3": stop[q][:3], "fts_or_top3": ftop[q][:3]}
# examples: the clearest wins (right page at 1 on one side, worst rank on the other), deterministic
only_sem.sort(key=lambda q: (srank[q], -(frank[q] or 10**6), names[q]))
only_fts.sort(key=lambda q: (frank[q], -(srank[q] or 10**6), names[q]))

out = {
    "corpus_pages": len(rows), "chunks": n_chunks, "body_chars_capped": n_chars,
    "max_body_chars": args.max_body,
    "chunking": "recursive_character_text_splitter(body, 800, 100)", "model": MODEL,
    "timings": timings, "embed_chunks_per_s": n_chunks / timings["worker_embed_s"],
    "methods": results,
    "overlap_semantic_vs_fts_or": {"both": both, "only_semantic": len(only_sem),
                                   "only_fts_or": len(only_fts), "neither": neither},
    "examples_semantic_wins": [ex(q) for q in only_sem[:8]],
    "examples_fts_wins": [ex(q) for q in only_fts[:8]],
}
json.dump(out, open(args.out, "w"), indent=1)
conn.close()

print(f"corpus {len(rows)} pages, {n_chunks} chunks ({n_chars} chars, bodies capped at {args.max_body})")
print(f"worker --once: {timings['worker_embed_s']:.1f} s ({out['embed_chunks_per_s']:.0f} chunks/s); "
      f"{len(rows)} query embeddings in SQL: {timings['query_embed_s']:.1f} s")
print(f"one query, embed+search: semantic {timings['single_semantic_query_ms']:.1f} ms, "
      f"FTS OR {timings['single_fts_query_ms']:.1f} ms")
print(f"{'method':44} {'recall@10':>9} {'hit@1':>6} {'MRR':>6} {'unranked':>8}")
for label, m in results.items():
    print(f"{label:44} {m['recall_at_10']:9.3f} {m['hits_at_1']:6.3f} {m['mrr']:6.3f} {m['unranked']:8d}")
print("semantic vs FTS OR, right page in top 10:", out["overlap_semantic_vs_fts_or"])
for title, key in [("semantic wins", "examples_semantic_wins"), ("FTS wins", "examples_fts_wins")]:
    print(title + ":")
    for e in out[key][:5]:
        print(f"  {e['page']!r} <- {e['query']!r}: semantic {e['semantic_rank']}, FTS {e['fts_or_rank']}; "
              f"FTS top3 {e['fts_or_top3']}, semantic top3 {e['semantic_top3']}")
