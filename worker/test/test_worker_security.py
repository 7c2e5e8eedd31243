"""The worker as a vectorizer owner's target: an owner who can create in a
schema on the worker's default search_path (public, where it is writable)
defines an operator for its key domain; the worker, run as a superuser,
must never call it."""

from __future__ import annotations

import psycopg

from test_worker import run_worker

OWNER_CODE = """
CREATE DOMAIN public.docid AS int;
CREATE TABLE public.ran (who text);
CREATE FUNCTION public.docid_eq(a public.docid, b public.docid) RETURNS bool
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.ran VALUES (current_user);
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE sec_owner SUPERUSER';
    END IF;
    RETURN a::int OPERATOR(pg_catalog.=) b::int;
END $$;
CREATE OPERATOR public.= (FUNCTION = public.docid_eq,
    LEFTARG = public.docid, RIGHTARG = public.docid);
CREATE TABLE public.owned_docs (id public.docid PRIMARY KEY, body text);
INSERT INTO public.owned_docs VALUES (1, 'first document'), (2, 'second one');
"""


def test_owner_operator_never_runs_as_worker(conn: psycopg.Connection, dbname: str) -> None:
    conn.execute("DROP ROLE IF EXISTS sec_owner")
    conn.execute("CREATE ROLE sec_owner")
    conn.execute("GRANT CREATE ON SCHEMA public TO sec_owner")
    conn.execute("SET ROLE sec_owner")
    conn.execute(OWNER_CODE)
    conn.execute("""SELECT ai.create_vectorizer('public.owned_docs',
        embedding => ai.embedding_sentence_transformers(),
        chunking => ai.chunking_character_text_splitter('body'),
        indexing => ai.indexing_none())""")
    conn.execute("RESET ROLE")
    try:
        res = run_worker(dbname, "--once")
        assert res.returncode == 0, res.stderr
        stored = conn.execute("SELECT count(*) FROM public.owned_docs_embedding_store").fetchone()
        assert stored is not None and stored[0] == 2
        ran = conn.execute("SELECT count(*) FROM public.ran WHERE who = 'postgres'").fetchone()
        assert ran is not None and ran[0] == 0
        su = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_owner'").fetchone()
        assert su is not None and su[0] is False
    finally:
        conn.execute("DROP OWNED BY sec_owner CASCADE")
        conn.execute("DROP ROLE sec_owner")
