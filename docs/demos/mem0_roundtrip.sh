#!/bin/sh
# A Mem0 store edited, deleted and merged in MemLens (CLI), then read back by Mem0.
# Run from anywhere: sh docs/demos/mem0_roundtrip.sh (work files in $W).
set -e
cd "$(dirname "$0")/../.."
W=${W:-/tmp/memlens-demo-mem0}
mkdir -p $W
export HF_HUB_OFFLINE=1 MEM0_TELEMETRY=False ANONYMIZED_TELEMETRY=False
export MEMLENS_DATA_DIR=$W/memlens-data
S=$W/mem0-store
rm -rf $S $MEMLENS_DATA_DIR
echo '$ Mem0 adds four memories (tests/interop/agent.py = Mem0 Memory, infer=False)'
printf '%s\n' \
  '{"op":"add","text":"Alice likes green tea","user_id":"alice","metadata":{"topic":"drinks"}}' \
  '{"op":"add","text":"Alice lives in Paris","user_id":"alice"}' \
  '{"op":"add","text":"Alice runs on Sundays","user_id":"alice"}' \
  '{"op":"add","text":"Alice goes running every Sunday morning","user_id":"alice"}' |
  .venv/bin/python tests/interop/agent.py --path $S 2>/dev/null | tee $W/ids.jsonl
ID() { sed -n "$(( $1 + 1 ))p" $W/ids.jsonl | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
TEA=$(ID 1); CITY=$(ID 2); RUN1=$(ID 3); RUN2=$(ID 4)
echo; echo "\$ memlens stats --store $S"; .venv/bin/memlens stats --store $S
echo; echo "\$ memlens edit $TEA --text 'Alice likes oolong tea' --reason 'she corrected it' --store $S --collection mem0"
.venv/bin/memlens edit $TEA --text 'Alice likes oolong tea' --reason 'she corrected it' --store $S --collection mem0
echo "\$ memlens delete $CITY --store $S --collection mem0"
.venv/bin/memlens delete $CITY --store $S --collection mem0
echo "\$ memlens merge $RUN1 $RUN2 --text 'Alice runs every Sunday morning' --store $S --collection mem0"
.venv/bin/memlens merge $RUN1 $RUN2 --text 'Alice runs every Sunday morning' --store $S --collection mem0
echo; echo '$ Mem0 reads its store back: get_all, search, history (tea), history (city)'
printf '%s\n' '{"op":"get_all","user_id":"alice"}' \
  '{"op":"search","query":"what tea does Alice like","user_id":"alice"}' \
  "{\"op\":\"history\",\"id\":\"$TEA\"}" "{\"op\":\"history\",\"id\":\"$CITY\"}" |
  .venv/bin/python tests/interop/agent.py --path $S 2>/dev/null | tail -n +2 |
  .venv/bin/python docs/demos/show_mem0.py
echo; echo "\$ memlens export --format mem0-json --store $S --collection mem0   (compare with Mem0's get_all above)"
.venv/bin/memlens export --format mem0-json --store $S --collection mem0 | .venv/bin/python -c '
import json,sys; [print("  ", json.dumps({k: m[k] for k in ("id","memory","hash","updated_at")})) for m in json.load(sys.stdin)["results"]]'
