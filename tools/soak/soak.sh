#!/usr/bin/env bash
# Soak test (`make soak`): the sanitized server under SOAK_MINUTES (default 10) of churn, players
# connecting, playing and leaving (tools/soak/churn.py), with its RSS and open file descriptors
# sampled every SOAK_SAMPLE_S (default 10) seconds into build/soak/samples.csv. At the end the
# server gets SIGTERM and the report says:
#   - whether it exited 0, and what AddressSanitizer / LeakSanitizer / UBSan printed;
#   - whether RSS and fds are flat: after SOAK_WARMUP_S (default 60), the mean of the last third
#     of the samples against the mean of the first third (RSS may grow at most
#     SOAK_RSS_SLACK_MIB, default 32, fds at most 8).
# Then, unless SOAK_SKIP_SLOW=1, the slow hostile tests (CMMO_SLOW=1 test_hostile -k Slow: the
# 45 s dead-peer timer, 500 logged-in clients that never read). Exit status 0 only if all is well.
set -uo pipefail
cd "$(dirname "$0")/../.."

minutes=${SOAK_MINUTES:-10}
sample_s=${SOAK_SAMPLE_S:-10}
players=${SOAK_PLAYERS:-30}
rss_slack=${SOAK_RSS_SLACK_MIB:-32}
warmup=${SOAK_WARMUP_S:-60}
bin=${CMMO_SERVER:-build/asan/cmmo-server}
out=build/soak
mkdir -p "$out"
rm -f "$out"/server.log "$out"/samples.csv "$out"/churn.log
db=$(mktemp -d /tmp/cmmo-soak-XXXXXX)
trap 'rm -rf "$db"' EXIT

[ -x "$bin" ] || { echo "no $bin (make asan)"; exit 1; }
# A small quarantine so that ASan's own bookkeeping does not look like growth; leaks reported.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=16:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
"$bin" --host 127.0.0.1 --port 0 --db "sqlite:$db/soak.db" --web-root web 2>"$out/server.log" &
pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -nE 's/.*listening.*port=([0-9]+).*/\1/p' "$out/server.log" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "server did not start"; cat "$out/server.log"; kill $pid; exit 1; }
echo "soak: server pid $pid port $port, $minutes min of churn with $players players"

/usr/bin/python3 tools/soak/churn.py "$port" "$((minutes * 60))" "$players" >"$out/churn.log" 2>&1 &
churn=$!

echo "t_s,rss_kib,fds,connections,players" >"$out/samples.csv"
t0=$(date +%s)
while kill -0 $churn 2>/dev/null; do
  kill -0 $pid 2>/dev/null || break
  rss=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status 2>/dev/null)
  fds=$(ls /proc/$pid/fd 2>/dev/null | wc -l)
  st=$(curl -s --max-time 3 "http://127.0.0.1:$port/stats" 2>/dev/null)
  conns=$(echo "$st" | sed -nE 's/.*"connections":([0-9]+).*/\1/p')
  plays=$(echo "$st" | sed -nE 's/.*"players":([0-9]+).*/\1/p')
  echo "$(( $(date +%s) - t0 )),${rss:-0},$fds,${conns:-},${plays:-}" >>"$out/samples.csv"
  sleep "$sample_s"
done
wait $churn
churn_rc=$?
cat "$out/churn.log"

status=0
if kill -0 $pid 2>/dev/null; then
  kill -TERM $pid
  wait $pid
  rc=$?
else
  wait $pid
  rc=$?
  echo "FAIL: the server died during the soak (exit $rc)"
  status=1
fi
[ $rc -eq 0 ] || { echo "FAIL: server exit code $rc after SIGTERM (expected 0)"; status=1; }
[ $churn_rc -eq 0 ] || { echo "FAIL: the churn driver reported a problem"; status=1; }

if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$out/server.log"; then
  echo "FAIL: sanitizer reports (build/soak/server.log):"
  grep -E -A 12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$out/server.log" | head -n 60
  status=1
else
  echo "sanitizers: no leak, no memory error, no undefined behaviour reported"
fi
if grep -qiE 'pw-soak' "$out/server.log"; then
  echo "FAIL: a password appears in the server log"
  status=1
fi

# Flatness: last third against first third of the samples after the warm-up (allocator caches,
# ASan's quarantine and SQLite's page cache fill during the first minute).
verdict=$(awk -F, -v slack="$rss_slack" -v warm="$warmup" 'NR > 1 && $1 >= warm { n++; rss[n] = $2; fd[n] = $3 }
  END {
    if (n < 6) { print "too few samples (" n ")"; exit 1 }
    k = int(n / 3)
    for (i = 1; i <= k; i++) { r1 += rss[i]; f1 += fd[i] }
    for (i = n - k + 1; i <= n; i++) { r3 += rss[i]; f3 += fd[i] }
    r1 /= k * 1024; r3 /= k * 1024; f1 /= k; f3 /= k
    flat = (r3 - r1 <= slack) && (f3 - f1 <= 8)
    printf "%s: RSS %.1f -> %.1f MiB, fds %.1f -> %.1f (first third -> last third, %d samples)\n", \
           flat ? "flat" : "NOT FLAT", r1, r3, f1, f3, n
    exit flat ? 0 : 1
  }' "$out/samples.csv")
flat_rc=$?
echo "$verdict"
[ $flat_rc -eq 0 ] || status=1
echo "samples: $out/samples.csv, server log: $out/server.log"

if [ "${SOAK_SKIP_SLOW:-0}" != 1 ]; then
  echo "=== slow hostile tests (CMMO_SLOW=1 test_hostile -k Slow)"
  CMMO_SLOW=1 CMMO_IT_MODULE_TIMEOUT=900 tests/integration/run.sh test_hostile -k Slow || status=1
fi
[ $status -eq 0 ] && echo "soak: OK" || echo "soak: FAILED"
exit $status
