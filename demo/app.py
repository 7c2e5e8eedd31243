"""The demo's Python side, through SQLAlchemy and the demo's model:

  app.py load CAP          the manual's pages into manual_pages (each page's
                           text cut to its first CAP characters, at a paragraph)
  app.py search Q...       semantic search, printed as a table
  app.py change            an update and a delete, for the embeddings to follow
  app.py check             the store matches the table (after the worker)

The database comes from PGAI_DEMO_URL (a SQLAlchemy URL)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from sqlalchemy import create_engine, delete, func, select, update
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
import manual  # noqa: E402
from models import ManualPage  # noqa: E402

MODEL = "all-MiniLM-L6-v2"
Chunks = ManualPage.body_embeddings  # the store, mapped: id, chunk_seq, chunk, embedding

engine = create_engine(os.environ["PGAI_DEMO_URL"])


def cut(text: str, cap: int) -> str:
    """The text's first cap characters, ending at a paragraph (or a space)
    where one is near."""
    if len(text) <= cap:
        return text
    head = text[:cap]
    for sep in ("\n\n", ". ", " "):
        at = head.rfind(sep)
        if at >= cap // 2:
            return head[:at + (1 if sep == ". " else 0)].rstrip()
    return head


def load(cap: int) -> None:
    docs = manual.documents()
    rows = [{"id": i, "file": f, "title": t, "body": cut(b, cap)}
            for i, (f, t, b) in enumerate(docs, start=1)]
    full = sum(len(b) for _, _, b in docs)
    kept = sum(len(r["body"]) for r in rows)
    with Session(engine) as session, session.begin():
        session.execute(ManualPage.__table__.insert(), rows)
    print(f"{len(rows)} pages from {manual.MANUAL} (pages under 200 characters of text skipped)")
    print(f"{full:,} characters of text; each page cut to its first {cap:,} characters"
          f" -> {kept:,} characters to embed ({100 * kept / full:.0f}%)")
    print("examples:")
    for r in rows[::len(rows) // 6][:6]:
        print(f"  {r['id']:5d}  {r['file']:34.34s} {r['title']}")


def one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def search(question: str, limit: int = 4) -> list[tuple[int, str, str, float]]:
    distance = Chunks.embedding.cosine_distance(
        func.ai.sentence_transformers_embed(MODEL, question)).label("distance")
    query = (select(ManualPage.id, ManualPage.title, Chunks.chunk, distance)
             .join(ManualPage, ManualPage.id == Chunks.id)
             .order_by(distance)
             .limit(limit))
    with Session(engine) as session:
        return [(r.id, r.title, r.chunk, r.distance) for r in session.execute(query)]


def show(question: str, limit: int = 4) -> None:
    cols = shutil.get_terminal_size((120, 20)).columns
    title_w = 34
    excerpt_w = max(40, min(80, cols - title_w - 14))
    print(f'\n  "{question}"')
    print(f"  {'page':<{title_w}}  {'matching chunk':<{excerpt_w}}  distance")
    print(f"  {'-' * title_w}  {'-' * excerpt_w}  --------")
    for _, title, chunk, dist in search(question, limit):
        # the store keeps the chunk as embedded: "Title: ...\n<chunk>"
        text = chunk.split("\n", 1)[1] if chunk.startswith("Title: ") and "\n" in chunk else chunk
        text = text.lstrip(".?! ")  # the splitter keeps a separator at a chunk's start
        print(f"  {one_line(title, title_w):<{title_w}}  {one_line(text, excerpt_w):<{excerpt_w}}"
              f"  {dist:8.3f}")


UPDATED_FILE = "history.html"
MASCOT = "what animal is the PostgreSQL mascot?"
UNDO = "how do I undo the changes made in a transaction?"


def change() -> None:
    top_id, top_title, _, _ = search(UNDO, 1)[0]
    with Session(engine) as session, session.begin():
        page = session.scalars(select(ManualPage).where(ManualPage.file == UPDATED_FILE)).one()
        print(f'UPDATE "{page.title}": a paragraph about the mascot goes first')
        session.execute(update(ManualPage).where(ManualPage.id == page.id).values(
            body="The PostgreSQL mascot is an elephant named Slonik. Elephants never forget: "
                 "neither does your database.\n\n" + ManualPage.body))
        print(f'DELETE "{top_title}", the top hit for "{UNDO}"')
        session.execute(delete(ManualPage).where(ManualPage.id == top_id))


def check() -> None:
    """Every page's chunks in the store, none of a deleted page."""
    with Session(engine) as session:
        pages = session.scalar(select(func.count()).select_from(ManualPage))
        covered = session.scalar(select(func.count(func.distinct(Chunks.id))))
        chunks = session.scalar(select(func.count()).select_from(Chunks))
        orphans = session.scalar(select(func.count()).select_from(Chunks)
                                 .where(~Chunks.id.in_(select(ManualPage.id))))
    print(f"{pages} pages, {chunks} chunks in the store covering {covered} pages,"
          f" {orphans} chunks of deleted pages")
    if covered != pages or orphans:
        sys.exit("demo: the store does not match the table")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "load":
        load(int(args[0]))
    elif cmd == "search":
        for q in args:
            show(q)
    elif cmd == "change":
        change()
    elif cmd == "check":
        check()
    else:
        sys.exit(f"app.py: unknown command {cmd}")
