#!/usr/bin/env bash
# Stops the node that start.sh started (by its recorded pid, never by name) and removes its data
# folder. Safe to call when nothing runs. WALKOUT_KAFKA_KEEP_DATA=1 keeps the folder for a post-mortem.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$here/target"
# A single node shuts down in a few seconds; past this it is stuck and gets SIGKILL.
GRACE_S=30

say() { echo "kafka: $*" >&2; }

if [[ -f "$state/broker.pid" ]]; then
  pid="$(cat "$state/broker.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for ((i = 0; i < GRACE_S * 5; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid still running after ${GRACE_S}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped pid $pid"
  fi
  rm -f "$state/broker.pid"
fi

if [[ -f "$state/broker.data" ]]; then
  data="$(cat "$state/broker.data")"
  if [[ "${WALKOUT_KAFKA_KEEP_DATA:-0}" == 1 ]]; then
    say "kept data in $data"
  elif [[ -n "$data" && "$data" == */walkout-kafka.* ]]; then
    rm -rf "$data"
  fi
  rm -f "$state/broker.data"
fi
