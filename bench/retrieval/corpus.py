"""Build the man-page retrieval corpus: one JSON line per page
{"id", "name", "path", "query", "body"}.

Deterministic: the same installed man pages give the same corpus.
  1. every regular (non-symlink) file /usr/share/man/man[1-8]/*.gz, sorted
  2. lexgrog (man-db) reads each page's NAME line: "name - description";
     pages without a description are skipped
  3. deduplicate: first file wins for a page name and for a description
     (compared case-insensitively), so every query has exactly one right page;
     the Google Cloud SDK's gcloud_* pages (16,631 of man1 on this image,
     generated from one template, and lexgrog cannot parse their NAME) and
     names without a letter or digit are left out
  4. take --pages candidates evenly spaced over the list sorted by name
     (index round(i * n / pages)): a spread over the alphabet and over
     sections, not just the pages starting with "a"
  5. render each with `man -l -P cat` (no hyphenation, no justification,
     80 columns), drop the header and footer lines and the whole NAME
     section, squeeze runs of spaces; drop pages whose remaining body has
     fewer than --min-body characters or whose body duplicates another's
"""
import argparse
import concurrent.futures as cf
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--pages", type=int, default=800)
ap.add_argument("--min-body", type=int, default=200)
ap.add_argument("--out", required=True)
args = ap.parse_args()

files = sorted(f for f in glob.glob("/usr/share/man/man[1-8]/*.gz")
               if not os.path.islink(f) and not os.path.basename(f).startswith("gcloud_"))
print(f"corpus: {len(files)} regular man page files in /usr/share/man/man[1-8] (gcloud_* left out)",
      file=sys.stderr)

# lexgrog prints one line per name: '<path>: "name - description"'; the first is the page's name.
desc = {}
line_re = re.compile(r'^(.*?): "(.*)"$')
for i in range(0, len(files), 500):
    r = subprocess.run(["lexgrog"] + files[i:i + 500], capture_output=True, text=True, errors="replace")
    for line in r.stdout.splitlines():
        m = line_re.match(line)
        if not m or m.group(1) in desc:
            continue
        name, sep, d = m.group(2).partition(" - ")
        d = d.strip()
        if sep and d:
            desc[m.group(1)] = (name.strip(), d)

cands, seen_name, seen_desc = [], set(), set()
for f in files:
    if f not in desc:
        continue
    name, d = desc[f]
    key_d = " ".join(d.lower().split())
    if not re.search(r"[A-Za-z0-9]", name) or name in seen_name or key_d in seen_desc:
        continue
    seen_name.add(name)
    seen_desc.add(key_d)
    cands.append((name, f, d))
cands.sort()
print(f"corpus: {len(desc)} with a NAME description, {len(cands)} after deduplicating names and descriptions",
      file=sys.stderr)

n = len(cands)
picked = [cands[i * n // args.pages] for i in range(min(args.pages, n))]

env = dict(os.environ, MANWIDTH="80", LANG="C.UTF-8", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
env.pop("MAN_KEEP_FORMATTING")
heading = re.compile(r"^[A-Z][A-Z0-9 ,/&()-]*$")

def render(path):
    r = subprocess.run(["man", "--no-hyphenation", "--no-justification", "-l", "-P", "cat", path],
                       capture_output=True, env=env)
    text = r.stdout.decode("utf-8", "replace")
    text = re.sub(r".\x08", "", text)            # any overstrike left
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)   # any SGR escape left
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 3:
        return ""
    lines = lines[1:-1]                          # header "LS(1) ... LS(1)" and footer
    out, in_name = [], False
    for ln in lines:
        if ln and not ln[0].isspace() and heading.match(ln.strip()):
            in_name = ln.strip() in ("NAME", "NOM", "NOMBRE")
            if in_name:
                continue
        if in_name:
            continue
        out.append(re.sub(r"[ \t]+", " ", ln).strip())
    body = "\n".join(out)
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    return body

with cf.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
    bodies = list(ex.map(render, [p for _, p, _ in picked]))

rows, seen_body, short, dup = [], set(), 0, 0
for (name, path, d), body in zip(picked, bodies, strict=True):
    if len(body) < args.min_body:
        short += 1
        continue
    h = hashlib.sha1(body.encode()).hexdigest()
    if h in seen_body:
        dup += 1
        continue
    seen_body.add(h)
    rows.append({"id": len(rows) + 1, "name": name, "path": path, "query": d, "body": body})
with open(args.out, "w") as fh:
    for r in rows:
        fh.write(json.dumps(r) + "\n")
print(f"corpus: {len(picked)} picked evenly from {n}, {short} too short, {dup} duplicate bodies, "
      f"{len(rows)} pages written to {args.out}", file=sys.stderr)
