"""The worker as a vectorizer owner's target. An owner may put code on its
store (triggers, column defaults) or on its key types (a domain with an
operator in a writable public); the worker, even run as a superuser, must
never run that code with its own rights."""

from __future__ import annotations

import psycopg
import pytest
from test_worker import run_worker

# Code that notes who runs it and, run by a superuser, makes its author one.
ESCALATE = """
CREATE TABLE public.ran (who text, what text);
CREATE FUNCTION public.note(what text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.ran VALUES (current_user, what);
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE sec_owner SUPERUSER';
    END IF;
    RETURN current_user;
END $$;
"""


@pytest.fixture
def owner(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("DROP ROLE IF EXISTS sec_owner")
    conn.execute("CREATE ROLE sec_owner")
    conn.execute("GRANT CREATE ON SCHEMA public TO sec_owner")
    conn.execute("SET ROLE sec_owner")
    conn.execute(ESCALATE)
    yield conn
    conn.execute("RESET ROLE")
    conn.execute("DROP OWNED BY sec_owner CASCADE")
    conn.execute("DROP ROLE sec_owner")


def create_docs(conn: psycopg.Connection, key_type: str = "int") -> None:
    conn.execute(f"CREATE TABLE public.owned_docs (id {key_type} PRIMARY KEY, body text)")
    conn.execute("INSERT INTO public.owned_docs VALUES (1, 'first document'), (2, 'second one')")
    conn.execute("""SELECT ai.create_vectorizer('public.owned_docs',
        embedding => ai.embedding_sentence_transformers(),
        chunking => ai.chunking_character_text_splitter('body'),
        indexing => ai.indexing_none())""")


def assert_never_ran_as_superuser(conn: psycopg.Connection) -> None:
    ran = conn.execute("SELECT count(*) FROM public.ran WHERE who <> 'sec_owner'").fetchone()
    assert ran == (0,)
    su = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_owner'").fetchone()
    assert su == (False,)


def test_store_trigger_and_default_run_as_the_owner(owner: psycopg.Connection,
                                                    dbname: str) -> None:
    conn = owner
    create_docs(conn)
    conn.execute("""
        CREATE FUNCTION public.on_store() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM public.note('trigger'); RETURN NEW; END $$;
        CREATE TRIGGER spy BEFORE INSERT ON public.owned_docs_embedding_store
            FOR EACH ROW EXECUTE FUNCTION public.on_store();
        ALTER TABLE public.owned_docs_embedding_store
            ADD COLUMN written_by text DEFAULT public.note('default');
    """)
    conn.execute("RESET ROLE")
    res = run_worker(dbname, "--once")              # as postgres, a superuser
    assert res.returncode == 0, res.stderr
    rows = conn.execute("SELECT written_by, count(*) FROM public.owned_docs_embedding_store"
                        " GROUP BY 1").fetchall()
    assert rows == [("sec_owner", 2)]
    ran = conn.execute("SELECT what, who, count(*) FROM public.ran GROUP BY 1, 2 ORDER BY 1").fetchall()
    assert ran == [("default", "sec_owner", 2), ("trigger", "sec_owner", 2)]
    assert_never_ran_as_superuser(conn)


def test_domain_key_is_refused_at_creation(owner: psycopg.Connection) -> None:
    owner.execute("CREATE DOMAIN public.docid AS int CHECK (public.note('check') IS NOT NULL)")
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="type public.docid"):
        create_docs(owner, "public.docid")


def test_domain_put_on_the_store_later_never_runs_as_worker(owner: psycopg.Connection,
                                                            dbname: str) -> None:
    """The owner retypes the store's key to a domain whose operator and
    check are its own: the worker casts keys to the queue's types only, and
    the store write refuses the domain, recording why."""
    conn = owner
    create_docs(conn)
    conn.execute("""
        CREATE DOMAIN public.docid AS int CHECK (public.note('check') IS NOT NULL);
        CREATE FUNCTION public.docid_eq(a public.docid, b public.docid) RETURNS bool
        LANGUAGE sql AS $$ SELECT public.note('operator') IS NOT NULL
                              AND a::int OPERATOR(pg_catalog.=) b::int $$;
        CREATE OPERATOR public.= (FUNCTION = public.docid_eq,
            LEFTARG = public.docid, RIGHTARG = public.docid);
        DROP VIEW public.owned_docs_embedding;
        ALTER TABLE public.owned_docs_embedding_store ALTER COLUMN id TYPE public.docid;
        DELETE FROM public.ran;
    """)
    conn.execute("RESET ROLE")
    res = run_worker(dbname, "--once")
    assert res.returncode != 0
    assert_never_ran_as_superuser(conn)
    errors = conn.execute("SELECT message FROM ai.vectorizer_errors").fetchall()
    assert any("type public.docid" in m for (m,) in errors), errors
    pending = conn.execute("SELECT ai.vectorizer_queue_pending(1, true)").fetchone()
    assert pending == (2,)
