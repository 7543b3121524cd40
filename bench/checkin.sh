#!/usr/bin/env bash
# Check-ins per second against a server holding a seeded fleet, then a bare Kestrel endpoint with the same wrk
# settings, in one run on one machine. Figures go in docs/BENCHMARKS.md; nothing here asserts on them.
#
#   bench/checkin.sh                 # 1,000,000 devices; 3 rounds of server then bare, each 10 s warm-up + 30 s measured,
#                                    # wrk with 2 threads and 64 connections
#   DEVICES=100000 ROUNDS=1 DURATION=10s bench/checkin.sh
#   SERVER_ENV="Lien__Sqlite__MinThreads=16 DOTNET_TieredPGO=0" bench/checkin.sh   # settings for the server process only
#
# Rounds alternate the two so that load from elsewhere on the machine falls on both; the summary takes the median.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
devices=${DEVICES:-1000000}
data=${LIEN_BENCH_DATA:-$root/bench/.data/$devices}
port=${PORT:-5380}
bare_port=${BARE_PORT:-5381}
threads=${THREADS:-2}
connections=${CONNECTIONS:-64}
warmup=${WARMUP:-10s}
duration=${DURATION:-30s}
rounds=${ROUNDS:-3}
read -r -a server_env <<< "${SERVER_ENV:-}"
tokens=$data/tokens.txt
lua=$root/bench/checkin.lua
bench_dll=$root/bench/Lien.Bench.CheckIn/bin/Release/net10.0/Lien.Bench.CheckIn.dll
server_dll=$root/src/Lien.Server/bin/Release/net10.0/Lien.Server.dll

if ! command -v wrk >/dev/null; then
  sudo=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $sudo apt-get install -y wrk || { $sudo apt-get update && $sudo apt-get install -y wrk; }
fi

echo "== build (Release)"
dotnet build -c Release -warnaserror "$root/src/Lien.Server/Lien.Server.csproj" -v q -nologo
dotnet build -c Release -warnaserror "$root/bench/Lien.Bench.CheckIn/Lien.Bench.CheckIn.csproj" -v q -nologo

mkdir -p "$data"
[ -s "$data/master-key" ] || head -c 32 /dev/urandom | base64 > "$data/master-key"
export Lien__MasterKey=$(cat "$data/master-key")

# A seed is reused only by the code that made it: the schema, the seeder and the token format, hashed.
seed_key=$(cat "$root"/src/Lien.Server/Storage/Migrations/Sqlite/*.cs "$root"/bench/Lien.Bench.CheckIn/*.cs \
  "$root"/src/Lien.Server/AgentApi/DeviceTokens.cs | sha256sum | cut -c1-16)
if [ -s "$tokens" ] && [ -s "$data/lien.db" ] && [ "$(cat "$data/seed-key" 2>/dev/null)" = "$seed_key" ]; then
  echo "== seed: reusing $data ($(cat "$data/seed.txt" 2>/dev/null || echo 'no seed record'))"
else
  echo "== seed: $devices devices into $data"
  rm -f "$data"/lien.db*
  dotnet "$bench_dll" seed --data "$data" --devices "$devices" --tokens "$tokens" | tee "$data/seed.log"
  tail -n 1 "$data/seed.log" > "$data/seed.txt"
  echo "$seed_key" > "$data/seed-key"
fi
echo "   database: $(du -h "$data/lien.db" | cut -f1)"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_for() { # url, then curl options
  local url=$1; shift
  for _ in $(seq 1 300); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url")" = 200 ]; then return 0; fi
    sleep 0.2
  done
  echo "no 200 from $url" >&2; return 1
}

stop() { kill "$1"; wait "$1" 2>/dev/null || true; pids=(); }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in clock ticks

first_token=$(head -n 1 "$tokens")
checkin=(-X POST -H "Content-Type: application/json" -H "Authorization: Device $first_token" -d '{"appliedSeq":1}')
out=$(mktemp -d)

# measure NAME PID URL: warm-up, then the measured run; leaves the wrk report in $out/NAME.txt and the process's
# CPU time per request (µs; for the server including the last-seen flush that follows the run) in $out/NAME.cpu
measure() {
  local name=$1 pid=$2 url=$3
  echo "== $name: warm-up $warmup"
  wrk -t"$threads" -c"$connections" -d"$warmup" -s "$lua" "$url" -- "$tokens" >/dev/null
  echo "== $name: measure $duration"
  local before; before=$(cpu_ticks "$pid")
  wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$lua" "$url" -- "$tokens" | tee "$out/$name.txt"
  if grep -q "Non-2xx" "$out/$name.txt"; then echo "!! $name answered errors; the figure is not a check-in rate" >&2; exit 1; fi
  sleep 6 # one last-seen interval, so its flush is counted
  awk -v t=$(( $(cpu_ticks "$pid") - before )) -v hz="$(getconf CLK_TCK)" '/requests in/ {printf "%.1f\n", t / hz * 1e6 / $1}' \
    "$out/$name.txt" > "$out/$name.cpu"
}

for round in $(seq 1 "$rounds"); do
  echo "== round $round/$rounds: server on 127.0.0.1:$port${SERVER_ENV:+ with $SERVER_ENV}"
  env Lien__DataDir="$data" Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production "${server_env[@]}" \
    dotnet "$server_dll" --urls "http://127.0.0.1:$port" &
  pids=($!)
  wait_for "http://127.0.0.1:$port/v1/device/checkin" "${checkin[@]}"
  body_bytes=$(curl -s -o /dev/null -w '%{size_download}' "${checkin[@]}" "http://127.0.0.1:$port/v1/device/checkin")
  echo "   check-in answer: $body_bytes bytes"
  measure "server-$round" "${pids[0]}" "http://127.0.0.1:$port/v1/device/checkin"
  stop "${pids[0]}"

  echo "== round $round/$rounds: bare endpoint on 127.0.0.1:$bare_port"
  dotnet "$bench_dll" bare --port "$bare_port" --body-bytes "$body_bytes" &
  pids=($!)
  wait_for "http://127.0.0.1:$bare_port/v1/device/checkin" "${checkin[@]}"
  echo "   bare answer: $(curl -s -o /dev/null -w '%{size_download}' "${checkin[@]}" "http://127.0.0.1:$bare_port/v1/device/checkin") bytes"
  measure "bare-$round" "${pids[0]}" "http://127.0.0.1:$bare_port/v1/device/checkin"
  stop "${pids[0]}"
done

rate() { awk '/^Requests\/sec/ {print $2}' "$out/$1.txt"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$out/$1.txt"; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo
echo "== result: $devices devices, wrk -t$threads -c$connections -d$duration (after $warmup warm-up), $(nproc) cores shared by wrk and server"
printf '   %-6s %-8s %12s %9s %9s %12s\n' round target 'req/s' p50 p99 'CPU us/req'
for round in $(seq 1 "$rounds"); do
  for name in server bare; do
    printf '   %-6s %-8s %12s %9s %9s %12s\n' "$round" "$name" "$(rate "$name-$round")" "$(pct "$name-$round" 50%)" \
      "$(pct "$name-$round" 99%)" "$(cat "$out/$name-$round.cpu")"
  done
done
server=$(for r in $(seq 1 "$rounds"); do rate "server-$r"; done | median)
bare=$(for r in $(seq 1 "$rounds"); do rate "bare-$r"; done | median)
echo "   median: server check-in $server req/s, bare Kestrel $bare req/s"
awk -v s="$server" -v b="$bare" 'BEGIN { printf "   ratio of medians: %.1f%% of bare\n", 100 * s / b }'
