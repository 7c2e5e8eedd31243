"""PostgreSQL's manual (Debian's postgresql-doc-15 HTML) as documents.

One document per HTML page (a chapter, a section or a reference page):
its <title>, and its text with the navigation header and footer, the
tables of contents, scripts and styles left out; whitespace collapsed
inside a paragraph, paragraphs separated by a blank line.  Standard
library only; files are read in sorted order so every run is the same.
"""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

MANUAL = Path("/usr/share/doc/postgresql-doc-15/html")

# Elements whose content is not the page's text.
_SKIP_TAGS = {"script", "style", "head"}
# div classes that are navigation, not content.
_SKIP_CLASSES = {"navheader", "navfooter", "toc", "list-of-tables",
                 "list-of-figures", "list-of-examples"}
# Elements that end a paragraph.
_BLOCKS = {"p", "div", "pre", "li", "dt", "dd", "tr", "table", "h1", "h2", "h3",
           "h4", "h5", "h6", "blockquote", "br", "hr", "ul", "ol", "dl"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"}


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self._in_title = False
        self._stack: list[tuple[str, bool]] = []  # (tag, skipping)
        self._paragraphs: list[str] = []
        self._current: list[str] = []

    @property
    def _skipping(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def _break(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self._current)).strip()
        if text:
            self._paragraphs.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _BLOCKS:
            self._break()
        if tag in _VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        skip = self._skipping or tag in _SKIP_TAGS or bool(classes & _SKIP_CLASSES)
        self._stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _BLOCKS:
            self._break()
        if tag in _VOID:
            return
        # Pop to the matching open tag (tolerates unclosed elements).
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skipping:
            self._current.append(data)

    def text(self) -> str:
        self._break()
        return "\n\n".join(self._paragraphs)


def parse(path: Path) -> tuple[str, str]:
    """(title, text) of one page of the manual."""
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    page.close()
    title = re.sub(r"\s+", " ", page.title).strip()
    text = page.text()
    # The page's own heading repeats the title: drop it from the body.
    first, _, rest = text.partition("\n\n")
    if first == title or title.endswith(first):
        text = rest
    return title, text


def documents(min_chars: int = 200) -> list[tuple[str, str, str]]:
    """(file name, title, text) of every page with at least min_chars of
    text, sorted by file name."""
    out = []
    for path in sorted(MANUAL.glob("*.html")):
        title, text = parse(path)
        if title and len(text) >= min_chars:
            out.append((path.name, title, text))
    return out


if __name__ == "__main__":
    import sys
    if len(sys.argv) > 1:
        t, body = parse(MANUAL / sys.argv[1])
        print(t)
        print("---")
        print(body)
    else:
        docs = documents()
        sizes = sorted(len(d[2]) for d in docs)
        print(len(docs), "documents,", sum(sizes), "characters; median", sizes[len(sizes) // 2])
