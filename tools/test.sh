#!/usr/bin/env bash
# The project's test command (`deno task test`): static checks, then the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*" >&2; }
step "deno fmt --check";   deno fmt --check
step "deno lint";          deno lint
step "deno check";         deno check mod.ts src/ bench/ tests/ tools/*.ts 2>/dev/null || deno check mod.ts src/ bench/ tests/
step "deno doc --lint";    deno doc --lint mod.ts src/cli/main.ts
step "deno publish --dry-run"; deno publish --dry-run --allow-dirty >/dev/null
step "deno test";          deno test -A --parallel "$@"
