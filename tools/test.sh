#!/usr/bin/env bash
# The project's test command (`deno task test`): static checks, then the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# On a machine with only Node/npm, Deno is the one `npm ci --prefix tools/deno` installed.
if [ -x tools/deno/node_modules/.bin/deno ]; then export PATH="$PWD/tools/deno/node_modules/.bin:$PATH"; fi
step() { printf '\n== %s\n' "$*" >&2; }
step "deno fmt --check";   deno fmt --check
step "deno lint";          deno lint
step "deno check";         deno check mod.ts src/ bench/ tests/ tools/ www/
step "deno doc --lint";    deno doc --lint $(deno eval 'const e = JSON.parse(Deno.readTextFileSync("deno.json")).exports; console.log(Object.values(e).join(" "))')
step "deno publish --dry-run"; deno publish --dry-run --allow-dirty >/dev/null
# The tests' permissions: read anywhere, write only in the temp dir, spawn only
# this Deno, node, tar, python3, ln, mkfifo and Chromium, listen on 127.0.0.1 (the site
# test); env and sys for puppeteer and assemblyscript. Plain `deno test`
# (none of these) runs the library tests and ignores the rest, saying why.
tmp="${TMPDIR:-/tmp}"
deno_bin=$(deno eval 'console.log(Deno.execPath())')
# --doc: every module example runs too (their assertions check the values
# the docs show)
step "deno test --doc";    deno test --doc --parallel \
  --allow-read --allow-write="$tmp" --allow-env --allow-sys --allow-net=127.0.0.1 \
  --allow-run="$deno_bin,node,tar,python3,ln,mkfifo,/usr/bin/chromium" \
  mod.ts src/ tests/ "$@"
