#!/bin/sh
# The forwarding link's speed (see BENCHMARKS.md, "The forwarding link"): frames per second at full
# speed, and the one-way time it adds at a steady rate, against a bare veth pair; and how exactly it
# holds a 20 ms delay. Each case is `packetpath link-check` (hidden): numbered frames from a packet
# socket through veth ⇄ forwarder ⇄ veth (or veth ⇄ veth with --direct), in a lab of its own.
#
#   benches/forwarder.sh [RUNS]          as root, or as an ordinary user (user namespace)
#
# Environment: PACKETPATH (binary, default target/release/packetpath).
set -eu
RUNS=${1:-3}
BIN=$(realpath "${PACKETPATH:-target/release/packetpath}")
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load: $(cut -d' ' -f1-3 /proc/loadavg); uid $(id -u)"
row() {
    printf '%-44s' "$1"
    shift
    nice -n 5 "$BIN" link-check "$@" | python3 -c '
import json, sys
r = json.load(sys.stdin)
l, link = r["latency_us"], (r["link"] or {}).get("a_to_b", {})
lost = len(r["missing"])
print("%9.0f fps  lost %6d (kernel %d, link queue %s)  one-way µs: min %.1f p50 %.1f p90 %.1f p99 %.1f max %.0f" % (
    r["received_per_second"], lost, link.get("kernel_dropped", 0), link.get("max_queue", "-"),
    l["min"], l["p50"], l["p90"], l["p99"], l["max"]))'
}
for i in $(seq "$RUNS"); do
    echo "run $i"
    row "flood, 100 B, bare veth pair" --frames 300000 --size 100 --direct
    row "flood, 100 B, forwarder" --frames 300000 --size 100
    row "flood, 1514 B, bare veth pair" --frames 100000 --size 1514 --direct
    row "flood, 1514 B, forwarder" --frames 100000 --size 1514
    row "10,000 fps, 100 B, bare veth pair" --frames 30000 --rate 10000 --direct
    row "10,000 fps, 100 B, forwarder, no delay" --frames 30000 --rate 10000
    row "10,000 fps, 100 B, forwarder, 20 ms delay" --frames 30000 --rate 10000 --delay 20
done
