#!/usr/bin/env bash
# One short run of every benchmark, in a fixed configuration (19 minutes on the 2-core AMD VM of docs/BENCHMARKS.md, about 15
# on the Intel one before the warm-up of 1046e65 lengthened every server start), then the table
# for docs/BENCHMARKS.md with the commit and the CPU the figures come from. PostgreSQL must be running
# (pg_ctlcluster 15 main start; user postgres, password lien — or LIEN_BENCH_POSTGRES). Logs stay in the folder it names.
#
#   bench/run-all.sh              # the table
#   bench/run-all.sh --targets    # and, in the same run, the rows at the sizes issue #11 names (check-ins at 1,000,000
#                                 # devices, 3 rounds; 18,000 streams), then each target of #11 with its verdict (about
#                                 # 10 minutes more, plus 1 minute to seed the million devices the first time)
set -uo pipefail
targets=false
case "${1:-}" in
  "") ;;
  --targets) targets=true ;;
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "error: unknown option $1 (bench/run-all.sh [--targets])" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$(mktemp -d -t lien-bench-XXXXXX)
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo " with uncommitted changes")
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
pg=${LIEN_BENCH_POSTGRES:-"Host=127.0.0.1;Username=postgres;Password=lien"}

echo "== build (Release)"
dotnet build -c Release -warnaserror -nologo -v q src/Lien.Server || exit 1

failed=()
run() {
  local name=$1; shift
  echo "== $name: $*"
  if ! "$@" > "$out/$name.log" 2>&1; then failed+=("$name"); echo "   exited non-zero; see $out/$name.log"; fi
}
run checkin env DEVICES=100000 ROUNDS=1 DURATION=15s WARMUP=5s bench/checkin.sh
run latency dotnet run -c Release --project bench/Lien.Bench.Latency -- --devices 10000 --rate 200 --seconds 20 --warmup 10
run payments-sqlite dotnet run -c Release --project bench/Lien.Bench.Payments -- --sqlite --concurrency 32 --devices 1024 --seconds 15 --warmup 5
# PostgreSQL after 60 s of warm-up, as in the tables before: until 2026-12-02 the server's own warm-up ran on SQLite and
# the Npgsql path tiered up under the load for a minute; it now warms up on a throwaway PostgreSQL database (when the
# role may create one): the payments bench after 5 s of warm-up then measures what it does after 60 s (docs/BENCHMARKS.md,
# the A/B of the warm-up; the M-Pesa and enrollment benches on PostgreSQL were not compared).
run payments-postgres dotnet run -c Release --project bench/Lien.Bench.Payments -- --postgres "$pg" --concurrency 32 --devices 1024 --seconds 15 --warmup 60
run mpesa-sqlite-16 dotnet run -c Release --project bench/Lien.Bench.Mpesa -- --sqlite --concurrency 16 --devices 1024 --seconds 30 --warmup 10
run mpesa-postgres dotnet run -c Release --project bench/Lien.Bench.Mpesa -- --postgres "$pg" --concurrency 32 --devices 1024 --seconds 15 --warmup 60
run enrollment-sqlite dotnet run -c Release --project bench/Lien.Bench.Enrollment -- --concurrency 8 --seconds 15 --warmup 5
run enrollment-postgres dotnet run -c Release --project bench/Lien.Bench.Enrollment -- --postgres "$pg" --concurrency 8 --seconds 15 --warmup 60
run attestation dotnet run -c Release --project bench/Lien.Bench.Attestation -- cpu 3
run sweep dotnet run -c Release --project bench/Lien.Bench.Sweep -- --fleets 100000,1000000 --due 10000 --warm 5000
run console dotnet run -c Release --project bench/Lien.Bench.Console -- --devices 10000 --plans 1000
if $targets; then
  run checkin-1m env DEVICES=1000000 ROUNDS=3 DURATION=10s WARMUP=5s bench/checkin.sh
  run latency-18k dotnet run -c Release --project bench/Lien.Bench.Latency -- --devices 18000 --rate 200 --seconds 20 --warmup 10
fi

row() { grep -h "^| $2 |" "$out/$1.log" | tail -n 1; }
echo
echo "Commit $commit, $cpu, $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg); logs in $out"
echo
echo "| benchmark | figure |"
echo "|---|---|"
echo "| check-in, 100,000 devices (share of bare Kestrel, 1 round) | $(grep -h 'ratio of medians' "$out/checkin.log" | sed 's/.*: //') |"
echo "| check-in server CPU µs per request | $(grep -hE '^ +1 +server' "$out/checkin.log" | awk '{print $NF}') |"
if $targets; then
  echo "| check-in, 1,000,000 devices (share of bare Kestrel, ratio of the medians of 3 rounds; each round's server and bare req/s, CPU µs each) | $(grep -h 'ratio of medians' "$out/checkin-1m.log" | sed 's/.*: //'); $(grep -hE '^ +[0-9]+ +(server|bare) ' "$out/checkin-1m.log" | awk '{printf "%s%s %s %.0f/s %s µs", (NR>1?"; ":""), $2, $1, $3, $NF}') |"
fi
latency=$(grep -h -A1 '^| devices | payments/s' "$out/latency.log" | tail -n 1)
echo "| payment → applied, 10,000 streams, 200/s (devices, payments/s, applied, p50, p99, max ms) | $(echo "$latency" | cut -d'|' -f2-7 | tr -s ' ') |"
if $targets; then
  echo "| the same with 18,000 streams | $(grep -h -A1 '^| devices | payments/s' "$out/latency-18k.log" | tail -n 1 | cut -d'|' -f2-7 | tr -s ' ') |"
  echo "| the first 10 s of payments after the start, 10,000 / 18,000 streams | $(grep -h '^warm-up: payment-to-applied' "$out/latency.log" | sed 's/.*latency //') / $(grep -h '^warm-up: payment-to-applied' "$out/latency-18k.log" | sed 's/.*latency //') |"
fi
for store in SQLite PostgreSQL; do
  log=payments-$( [ $store = SQLite ] && echo sqlite || echo postgres)
  echo "| payments, one lender, 32-way, every lease delivered to 1,024 streaming devices, $store$( [ $store = PostgreSQL ] && echo ', after 60 s of warm-up') (payments/s, p50, p99, max ms, errors, server cores, server CPU ms per payment, streams, lease delivered p50, p99 ms after the 201, last lease held) | $(row "$log" $store | cut -d'|' -f4-14 | tr -s ' ') |"
done
echo "| M-Pesa C2B confirmations, one lender, 16-way, 30 s after 10 s of warm-up, every lease delivered to 1,024 streaming devices, SQLite (confirmations/s, p50, p99, max ms, errors, server cores, server CPU ms per confirmation, streams, lease delivered p50, p99 ms after the answer, last lease held) | $(row mpesa-sqlite-16 SQLite | cut -d'|' -f4-14 | tr -s ' ') |"
echo "| the same, PostgreSQL, 32-way, 15 s after 60 s of warm-up | $(row mpesa-postgres PostgreSQL | cut -d'|' -f4-14 | tr -s ' ') |"
for store in SQLite PostgreSQL; do
  log=enrollment-$( [ $store = SQLite ] && echo sqlite || echo postgres)
  echo "| attested enrollments, 8-way, $store$( [ $store = PostgreSQL ] && echo ', after 60 s of warm-up') (per s, p50, p99, max ms, errors, server cores, CPU ms each, per server CPU-second) | $(row "$log" $store | cut -d'|' -f4-11 | tr -s ' ') |"
done
grep -h "^| SQLite | " "$out/sweep.log" | while IFS='|' read -r _ _ fleet due seconds rate cpu sms smsrate _; do
  echo "| scheduler sweep of $(echo $due) due plans in a fleet of $(echo $fleet), SQLite (s, plans/s, server CPU ms per plan, SMS notices queued per s) | $(echo $seconds) s, $(echo $rate)/s, $(echo $cpu) ms, $(echo $smsrate) SMS/s |"
done
grep -h "^| [a-z]" "$out/console.log" | grep -v "^| case" | while IFS='|' read -r _ case p50 p95 max _; do
  echo "| console device list, 10,000 devices, SQLite, $(echo $case) (p50 / p95 / max ms) | $(echo $p50) / $(echo $p95) / $(echo $max) |"
done
grep -h "per CPU-second" "$out/attestation.log" | sed 's/^\(.*\): .*, \([0-9]*\) per CPU-second.*/| attestation chains verified, \1 | \2 per CPU-second |/'
if $targets; then
  # One figure of this run per target of issue #11, and whether it is met; a figure that is missing is not met.
  field() { row "$1" "$2" | cut -d'|' -f"$3" | tr -d ' '; }                    # a column of a bench's table row
  ratio() { grep -h 'ratio of medians' "$out/$1.log" | sed 's/.*: \([0-9.]*\)%.*/\1/'; } # check-in share of bare, %
  p99() { grep -h "^$2: payment-to-applied latency" "$out/$1.log" | sed 's/.* p99 \([0-9.]*\) ms.*/\1/'; }
  verdict() { # figure, then an awk condition on x
    if [ -z "$1" ]; then echo "**not measured**"; else awk -v x="$1" "BEGIN { print ($2) ? \"yes\" : \"**no**\" }"; fi; }
  sq_rate=$(field payments-sqlite SQLite 4); sq_p99=$(field payments-sqlite SQLite 6); sq_cpu=$(field payments-sqlite SQLite 10)
  pg_rate=$(field payments-postgres PostgreSQL 4); pg_errors=$(field payments-postgres PostgreSQL 8)
  checkin=$(ratio checkin-1m)
  l10=$(p99 latency measured); l10first=$(p99 latency warm-up); l18=$(p99 latency-18k measured); l18first=$(p99 latency-18k warm-up)
  echo
  echo "| target (#11) | measured in this run | met? |"
  echo "|---|---|---|"
  echo "| payments, SQLite, 32-way: ≥ 1,500/s | ${sq_rate:-—}/s | $(verdict "$sq_rate" 'x >= 1500') |"
  echo "| the same: p99 ≤ 25 ms | ${sq_p99:-—} ms | $(verdict "$sq_p99" 'x <= 25') |"
  echo "| the same: ≤ 0.5 ms server CPU a payment | ${sq_cpu:-—} ms | $(verdict "$sq_cpu" 'x <= 0.5') |"
  echo "| payments, PostgreSQL, one lender, 32-way: ≥ 800/s with no errors | ${pg_rate:-—}/s, ${pg_errors:-—} errors | $(verdict "$pg_rate" "x >= 800 && \"${pg_errors:-1}\" == \"0\"") |"
  echo "| check-ins at 1,000,000 devices: ≥ 50 % of bare Kestrel (ratio of the medians of 3 rounds) | ${checkin:-—} % | $(verdict "$checkin" 'x >= 50') |"
  echo "| payment → applied at 200/s, 10,000 streams: p99 ≤ 50 ms | ${l10:-—} ms | $(verdict "$l10" 'x <= 50') |"
  echo "| payment → applied at 200/s, 18,000 streams: p99 ≤ 100 ms | ${l18:-—} ms | $(verdict "$l18" 'x <= 100') |"
  echo "| the first 10 s of payments after a start: p99 ≤ 250 ms (10,000 / 18,000 streams) | ${l10first:-—} / ${l18first:-—} ms | $(verdict "$l10first" 'x <= 250') / $(verdict "$l18first" 'x <= 250') |"
  echo "| offline codes at or under the OpenPAYGO C reference's time | not in this script (BenchmarkDotNet, and no C reference here: docs/BENCHMARKS.md, \"Offline codes\") | — |"
fi
if [ ${#failed[@]} -gt 0 ]; then echo; echo "FAILED: ${failed[*]}"; exit 1; fi
