#!/usr/bin/env bash
# Starts one Apache Kafka node (KRaft: broker and controller in one JVM) on 127.0.0.1 for development
# and CI, waits until it serves clients, and prints the line to export:
#   WALKOUT_KAFKA_BROKERS=127.0.0.1:19092
# Data lives in a fresh temporary folder that stop.sh removes. Needs Java 17+ and Maven (the broker
# jars come from Maven Central into deploy/kafka/lib/, once).
#
# Environment: WALKOUT_KAFKA_PORT (default 19092; the controller takes the next port),
# WALKOUT_KAFKA_START_TIMEOUT_S (default 60), KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$here/target" # pid and data-folder path of the running node; git-ignored
port="${WALKOUT_KAFKA_PORT:-19092}"
controller_port=$((port + 1))
timeout_s="${WALKOUT_KAFKA_START_TIMEOUT_S:-60}"
heap="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

say() { echo "kafka: $*" >&2; }

if [[ -f "$state/broker.pid" ]] && kill -0 "$(cat "$state/broker.pid")" 2>/dev/null; then
  say "already running (pid $(cat "$state/broker.pid"))"
  echo "WALKOUT_KAFKA_BROKERS=127.0.0.1:$port"
  exit 0
fi
mkdir -p "$state"

# Fetch the broker only when the pom changed since the last fetch: Maven costs seconds even when
# everything is cached, and start.sh runs before every CI test run.
pom_sum="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
if [[ "$(cat "$here/lib/.pom.sha256" 2>/dev/null || true)" != "$pom_sum" ]]; then
  say "fetching the broker from Maven Central into deploy/kafka/lib/"
  rm -rf "$here/lib"
  (cd "$here" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies) >&2
  echo "$pom_sum" >"$here/lib/.pom.sha256"
fi

data="$(mktemp -d "${TMPDIR:-/tmp}/walkout-kafka.XXXXXX")"
echo "$data" >"$state/broker.data"
config="$data/server.properties"
cp "$here/server.properties" "$config"
{
  echo
  echo "# Added by start.sh"
  echo "log.dirs=$data/kraft"
  if [[ "$port" != 19092 ]]; then
    echo "controller.quorum.voters=1@127.0.0.1:$controller_port"
    echo "listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port"
    echo "advertised.listeners=PLAINTEXT://127.0.0.1:$port"
  fi
} >>"$config"

classpath="$here/lib/*"
java_opts=(-Djava.awt.headless=true -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
  "-Dlog4j.configuration=file:$here/log4j.properties" "-Dkafka.logs.dir=$data")

# A cluster id is 16 random bytes in URL-safe base64 without padding; the folder is new every time.
cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
java "${java_opts[@]}" -cp "$classpath" kafka.tools.StorageTool format \
  --cluster-id "$cluster_id" --config "$config" >"$data/format.log" 2>&1 || {
  say "formatting the storage failed:"; cat "$data/format.log" >&2; exit 1; }

# shellcheck disable=SC2086 # heap options are a list of words on purpose
nohup java $heap "${java_opts[@]}" -cp "$classpath" kafka.Kafka "$config" >"$data/stdout.log" 2>&1 &
pid=$!
echo "$pid" >"$state/broker.pid"
say "started pid $pid, data in $data"

deadline=$((SECONDS + timeout_s))
until grep -q "Kafka Server started" "$data/server.log" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    say "the broker exited during start; its last lines:"
    tail -n 40 "$data/stdout.log" "$data/server.log" >&2 2>/dev/null || true
    rm -f "$state/broker.pid"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    say "not ready after ${timeout_s}s; stopping it. Last lines:"
    tail -n 40 "$data/server.log" >&2 2>/dev/null || true
    "$here/stop.sh" >&2 || true
    exit 1
  fi
  sleep 0.2
done
# The started line comes after the listeners are bound; check anyway, cheaply, that the port answers.
if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  say "started but 127.0.0.1:$port does not accept connections"
  "$here/stop.sh" >&2 || true
  exit 1
fi
say "ready on 127.0.0.1:$port after ${SECONDS}s"
echo "WALKOUT_KAFKA_BROKERS=127.0.0.1:$port"
