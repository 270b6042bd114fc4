#!/usr/bin/env bash
# Re-vendors the browser assets from the npm registry; the app itself never fetches them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
pack() { npm pack --silent "$1" >/dev/null; tar xzf ./*.tgz; rm ./*.tgz; cp "package/$2" "$here/$3"; rm -rf package; }
pack htmx.org@2.0.7        dist/htmx.min.js        htmx.min.js
pack htmx-ext-ws@2.0.4     dist/ws.min.js          htmx-ext-ws.min.js
pack @picocss/pico@2.1.1   css/pico.min.css        pico.min.css
pack sortablejs@1.15.7     Sortable.min.js         Sortable.min.js
pack marked@18.2.1         lib/marked.umd.js       marked.min.js
pack dompurify@3.4.18      dist/purify.min.js      purify.min.js
# Link-graph viewer only (loaded by the /graph page, not the global head). 1.x is CC-BY-NC; 2.x is MIT.
pack @cosmos.gl/graph@2.6.4 dist/index.min.js      cosmos.min.js
# Icons: the symbols Pipedeck uses, copied unchanged from lucide-static's sprite (the whole sprite is 530 KB).
npm pack --silent lucide-static@1.62.0 >/dev/null; tar xzf ./*.tgz; rm ./*.tgz
cp package/LICENSE "$here/lucide/LICENSE"
python3 - package/sprite.svg "$here/lucide/sprite.svg" <<'PY'
import re, sys
names = ("lock grip-vertical x message-square panel-right-close panel-right-open search folder-open download "
         "waypoints check circle-alert pencil house file-text trash info user-round copy").split()
src = open(sys.argv[1]).read()
symbols = [re.search(r'    <symbol id="%s" .*?</symbol>' % re.escape(n), src, re.S).group(0) for n in names]
open(sys.argv[2], "w").write("\n".join(['<?xml version="1.0" encoding="utf-8"?>',
    "<!-- @license lucide-static v1.62.0 - ISC (LICENSE beside this file) -->",
    '<svg xmlns="http://www.w3.org/2000/svg" version="1.1">', "  <defs>", *symbols, "  </defs>", "</svg>", ""]))
PY
rm -rf package
# Insights charts only (loaded by the insights screen). MIT; its licence travels with it.
pack chart.js@4.6.1         dist/chart.umd.min.js   chart.umd.min.js
pack chart.js@4.6.1         LICENSE.md              chart.js-LICENSE.md
