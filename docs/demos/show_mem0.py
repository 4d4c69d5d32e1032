"""Print the answers of the Mem0 agent (get_all, search, history, history), one per line."""

import json
import sys

names = ["get_all", "search", "history(tea)", "history(city)"]
for name, line in zip(names, sys.stdin, strict=False):
    print(f"-- Mem0 {name}:")
    for m in json.loads(line)["results"]:
        if "event" in m:
            print(
                "   {:<6} old={!r} new={!r} actor={}".format(
                    m["event"], m["old_memory"], m["new_memory"], m["actor_id"]
                )
            )
        else:
            keep = {
                k: m[k]
                for k in ("id", "memory", "hash", "metadata", "created_at", "updated_at", "score")
                if k in m
            }
            print("  ", json.dumps(keep))
