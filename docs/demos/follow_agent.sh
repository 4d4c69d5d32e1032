#!/bin/sh
# MemLens following an agent (Mem0 in another process) writing to a Chroma server.
# Run from anywhere: sh docs/demos/follow_agent.sh (work files in $W, server on $PORT).
set -e
cd "$(dirname "$0")/../.."
W=${W:-/tmp/memlens-demo-server}
PORT=${PORT:-8765}
mkdir -p $W
export HF_HUB_OFFLINE=1 MEM0_TELEMETRY=False ANONYMIZED_TELEMETRY=False
export MEMLENS_DATA_DIR=$W/memlens-data
rm -rf $W/chroma $W/agent-history.db $MEMLENS_DATA_DIR
URL=http://127.0.0.1:$PORT
echo "\$ chroma run --path $W/chroma --host 127.0.0.1 --port $PORT &"
.venv/bin/chroma run --path $W/chroma --host 127.0.0.1 --port $PORT > $W/chroma.log 2>&1 &
SERVER=$!
until curl -sf $URL/api/v2/heartbeat > /dev/null; do sleep 0.3; done
echo "(heartbeat answered)"
AGENT=".venv/bin/python tests/interop/agent.py --server $URL --history $W/agent-history.db"
echo; echo "\$ agent: add two memories"
printf '%s\n' '{"op":"add","text":"Alice lives in Paris","user_id":"alice"}' \
              '{"op":"add","text":"Alice has a cat named Tom","user_id":"alice"}' | $AGENT 2>/dev/null | tee $W/ids.jsonl
PARIS=$(sed -n 2p $W/ids.jsonl | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["id"])')
CAT=$(sed -n 3p $W/ids.jsonl | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo; echo "\$ memlens stats --server $URL"; .venv/bin/memlens stats --server $URL
echo; echo "\$ memlens watch --server $URL --collection mem0 --max-events 3 &"
.venv/bin/memlens watch --server $URL --collection mem0 --max-events 3 > $W/watch.out 2> $W/watch.err &
WATCH=$!
until grep -q Watching $W/watch.err; do sleep 0.3; done
cat $W/watch.err
echo; echo "\$ agent (another process): add, then update, then delete, a few seconds apart"
rm -f $W/agent.in; mkfifo $W/agent.in
$AGENT < $W/agent.in > $W/agent.out 2>/dev/null &
exec 3> $W/agent.in
until grep -qs ready $W/agent.out; do sleep 0.3; done   # the agent has loaded its model
echo '{"op":"add","text":"Alice started learning the violin","user_id":"alice"}' >&3; echo "$(date +%T) agent: add"; sleep 5
echo "{\"op\":\"update\",\"id\":\"$PARIS\",\"text\":\"Alice lives in Lyon\"}" >&3; echo "$(date +%T) agent: update"; sleep 5
echo "{\"op\":\"delete\",\"id\":\"$CAT\"}" >&3; echo "$(date +%T) agent: delete"
exec 3>&-
wait $WATCH
echo; echo "-- what memlens watch printed:"; cat $W/watch.out
echo; echo "\$ memlens edit $PARIS --text 'Alice lives in Lyon, near the Saone' --server $URL --collection mem0 --mem0-history $W/agent-history.db"
.venv/bin/memlens edit $PARIS --text 'Alice lives in Lyon, near the Saone' --server $URL --collection mem0 --mem0-history $W/agent-history.db
echo; echo "\$ agent: get_all and history of that memory"
printf '%s\n' '{"op":"get_all","user_id":"alice"}' "{\"op\":\"history\",\"id\":\"$PARIS\"}" | $AGENT 2>/dev/null | tail -n +2 |
  .venv/bin/python -c '
import json, sys
for line in sys.stdin:
    for m in json.loads(line)["results"]:
        print("  ", m.get("event") or "", m.get("memory") or m.get("new_memory"), m.get("actor_id") or "")'
echo; echo "-- the journal of the server store is local:"; ls $MEMLENS_DATA_DIR/journals
kill $SERVER; wait $SERVER 2>/dev/null || true
