#!/bin/sh
# Live capture keeping up: kernel drops of `packetpath capture` and of tcpdump, both capturing the
# same sustained TLS transfer on loopback at the same time (see BENCHMARKS.md).
#
#   sudo benches/live_drops.sh [PORT] [MEGABYTES] [RUNS]
#
# openssl s_server accepts one connection; openssl s_client pushes MEGABYTES of zeros from /dev/zero
# through TLS. Environment: PACKETPATH (binary, default target/release/packetpath), SECONDS_CAP
# (capture length, default 12), LAB=1 to run inside a fresh network namespace whose loopback has MTU
# 1500 and segmentation offloads off (1,448-byte segments: ~100x more frames for the same bytes).
set -eu
PORT=${1:-18443}
MEGABYTES=${2:-200}
RUNS=${3:-3}
BIN=$(realpath "${PACKETPATH:-target/release/packetpath}")
SECONDS_CAP=${SECONDS_CAP:-12}

if [ "${LAB:-0}" = 1 ] && [ -z "${IN_LAB:-}" ]; then
    exec unshare -n env IN_LAB=1 PACKETPATH="$BIN" SECONDS_CAP="$SECONDS_CAP" sh -c '
        ip link set lo up && ip link set lo mtu 1500 &&
        ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
        exec sh "$0" "$@"' "$0" "$PORT" "$MEGABYTES" "$RUNS"
fi

DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -days 1 -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null
echo "loopback: $(ip -o link show lo | grep -o 'mtu [0-9]*'); $(ethtool -k lo 2>/dev/null | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload):' | tr '\n' ' ')"

run=1
while [ "$run" -le "$RUNS" ]; do
    # s_server stops when its stdin ends: hold a FIFO open for it.
    rm -f "$DIR/hold" && mkfifo "$DIR/hold"
    sleep 3600 >"$DIR/hold" &
    hold=$!
    openssl s_server -accept "$PORT" -naccept 1 -cert "$DIR/cert.pem" -key "$DIR/key.pem" \
        -quiet <"$DIR/hold" >/dev/null 2>&1 &
    server=$!
    "$BIN" capture --port "$PORT" --seconds "$SECONDS_CAP" >/dev/null 2>"$DIR/ours.err" &
    ours=$!
    tcpdump -i lo -w /dev/null "tcp port $PORT" 2>"$DIR/tcpdump.err" &
    tcpdump=$!
    sleep 2
    start=$(date +%s.%N)
    head -c "${MEGABYTES}000000" /dev/zero |
        openssl s_client -connect "127.0.0.1:$PORT" -quiet -no_ign_eof >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    wait "$ours" || echo "packetpath capture exited with $?"
    kill -INT "$tcpdump"
    wait "$tcpdump" || true
    kill "$server" "$hold" 2>/dev/null || true
    wait "$server" "$hold" 2>/dev/null || true
    secs=$(echo "$end - $start" | bc)
    ours_line=$(sed 's/\x1b\[[0-9;]*m//g' "$DIR/ours.err" | grep 'kernel dropped' | sed 's/.*INFO *//')
    tcpdump_line=$(grep -E 'captured|received|dropped' "$DIR/tcpdump.err" | tr '\n' ';')
    echo "run $run: ${MEGABYTES} MB in ${secs} s"
    echo "  packetpath: $ours_line"
    echo "  tcpdump:    $tcpdump_line"
    run=$((run + 1))
done
