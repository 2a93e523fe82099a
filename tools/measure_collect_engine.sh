#!/bin/bash
# The collector at scale, measured: SITES fixture sites (one host each, served on 127.0.0.1) crawled at
# --rate RATE, first one after another in one process, then all at once through two workers of THREADS
# threads over Redis (GONGKAI_COLLECT_BROKER, default redis://127.0.0.1:6379/0). Prints both wall times.
# Usage: bash tools/measure_collect_engine.sh [SITES=4] [RATE=5] [THREADS=4]   (run from the repository)
set -euo pipefail
SITES=${1:-4} RATE=${2:-5} THREADS=${3:-4}
GONGKAI=${GONGKAI:-$(pwd)/.venv/bin/gongkai} PY=${PY:-$(pwd)/.venv/bin/python}
SCHEME=$(pwd)/criteria/shandong-2017.yaml
DIR=$(mktemp -d)
export GONGKAI_COLLECT_ALLOW_PRIVATE=1 GONGKAI_COLLECT_TIMEOUT=1 GONGKAI_COLLECT_MAX_BYTES=1000000 \
       GONGKAI_COLLECT_MAX_VARIANTS=5 GONGKAI_COLLECT_QUEUE=measure-$$
cd "$DIR"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT
for i in $(seq "$SITES"); do "$GONGKAI" synth site --out "s$i" --seed "$i" --pages 0 >/dev/null; done
setsid "$PY" -c "
from scoring.synthetic.site import SiteServer; import time
open('urls', 'w').write('\n'.join(SiteServer(f's{i}').start().url for i in range(1, $SITES + 1))); time.sleep(3600)" &
pids+=($!)
until [ -s urls ]; do sleep 0.2; done
for db in local queued; do "$GONGKAI" criteria load "$SCHEME" --db "sqlite:///$DIR/$db.db" >/dev/null; done
start=$(date +%s.%N)
for u in $(cat urls); do "$GONGKAI" collect crawl --body tongji --site "$u" --rate "$RATE" --db "sqlite:///$DIR/local.db" >/dev/null; done
echo "one process, $SITES sites one after another at --rate $RATE: $(echo "$(date +%s.%N) - $start" | bc) s"
for w in 1 2; do setsid "$GONGKAI" collect worker --processes 1 --threads "$THREADS" 2>"w$w.log" & pids+=($!); done
until grep -q "ready for action" w1.log && grep -q "ready for action" w2.log; do sleep 0.2; done
start=$(date +%s.%N)
crawls=()
for u in $(cat urls); do
  "$GONGKAI" collect crawl --body tongji --site "$u" --rate "$RATE" --engine redis --db "sqlite:///$DIR/queued.db" >/dev/null &
  crawls+=($!)
done
wait "${crawls[@]}"
echo "two workers of $THREADS threads, the $SITES crawls at once: $(echo "$(date +%s.%N) - $start" | bc) s"
