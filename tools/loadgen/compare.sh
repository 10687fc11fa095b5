#!/bin/sh
# compare.sh LINES DURATION — the same G.711 call load (LINES/2 calls
# through one Kamailio, a tone from each side) carried by the gateway and
# by baresip, CPU per call per second measured the same way
# (/proc/PID/stat utime+stime over the hold), side by side.
#
#   tools/loadgen/compare.sh 16 30s
#
# Run from the module root. GATEWAY=path uses a prebuilt gateway binary
# (another version's, for instance).
set -eu
lines=${1:-16}
duration=${2:-30s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/loadgen" ./tools/loadgen
gw=""
if [ -n "${GATEWAY:-}" ]; then gw="-gateway $GATEWAY"; fi
echo "load average at start: $(cat /proc/loadavg)"
# shellcheck disable=SC2086
"$tmp/loadgen" -lines "$lines" -duration "$duration" $gw -json > "$tmp/tipring.json"
"$tmp/loadgen" -peer baresip -lines "$lines" -duration "$duration" -json > "$tmp/baresip.json"
field() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1"; }
printf '%-9s %6s %11s %15s %12s %12s  %s\n' peer calls "CPU s" "CPU/call/s" "RSS MB" "HWM MB" "load after"
for p in tipring baresip; do
	f="$tmp/$p.json"
	printf '%-9s %6s %11.2f %15.4f %12.1f %12.1f  %s\n' "$p" "$(field "$f" callsEstablished)" \
		"$(field "$f" cpuSeconds)" "$(field "$f" cpuPerCallPerSecond)" \
		"$(echo "$(field "$f" vmRSSkB) / 1024" | bc -l)" "$(echo "$(field "$f" vmHWMkB) / 1024" | bc -l)" \
		"$(field "$f" loadavgAfter)"
done
