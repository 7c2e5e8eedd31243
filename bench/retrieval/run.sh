#!/usr/bin/env bash
# Man-page retrieval benchmark: built-in MiniLM semantic search vs PostgreSQL
# full-text search. Not part of `make test`. Usage: bench/retrieval/run.sh [PAGES]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
py="$top/.venv/bin/python"
pages=${1:-1000}

# Man pages: this image has them; install Debian's only when /usr/share/man is nearly empty.
if [ "$(find /usr/share/man/man[1-8] -name '*.gz' 2>/dev/null | wc -l)" -lt 500 ]; then
  echo "fewer than 500 man pages installed: apt-get install manpages manpages-dev man-db" >&2
  apt-get install -y manpages manpages-dev man-db >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" "$here/corpus.py" --pages "$pages" --out "$work/corpus.jsonl"
eval "$("$top/scripts/pgcluster" start)"
"$py" "$here/run.py" --corpus "$work/corpus.jsonl" "${@:2}"
