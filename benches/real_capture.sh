#!/bin/sh
# The command a user types against the tools they would use instead, on one real capture, in one
# run (issue "Faster than tcpdump"): a TLS 1.3 download from `openssl s_server` to
# `openssl s_client` between two network namespaces joined by a veth cable with MTU 1500 and
# offloads off, captured on the client's end by tcpdump, with the client's key log. Then
# `packetpath inspect` (text and JSON), tshark (summary, and fields) and `tcpdump -r -nn` read it;
# each is run RUNS times and its best wall time and its peak RSS are printed, with the ratios.
#
#   sudo benches/real_capture.sh [MEBIBYTES] [RUNS]
#
# MEBIBYTES (default 200) is the download's size; the capture is kept in target/bench-real/ and
# made again only if missing (or with FRESH=1). Root is needed for `ip netns`. Environment:
# PACKETPATH (binary, default target/release/packetpath).
set -eu
MEBIBYTES=${1:-200}
RUNS=${2:-2}
BIN=$(realpath "${PACKETPATH:-target/release/packetpath}")
OUT=target/bench-real
CAP="$OUT/download-${MEBIBYTES}MiB.pcap"
KEYS="$OUT/download-${MEBIBYTES}MiB.keys"
mkdir -p "$OUT"

if [ "$(id -u)" != 0 ]; then
    echo "benches/real_capture.sh makes two network namespaces with ip netns: run it as root" >&2
    exit 2
fi
for tool in openssl tcpdump tshark ethtool python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install -y $tool)" >&2; exit 2; }
done

make_capture() {
    S=ppbench-s
    C=ppbench-c
    WWW=
    cleanup() {
        ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns del "$S" 2>/dev/null || true
        ip netns del "$C" 2>/dev/null || true
        [ -z "$WWW" ] || rm -rf "$WWW"
    }
    trap cleanup EXIT
    cleanup 2>/dev/null || true
    WWW=$(mktemp -d)
    ip netns add "$S"
    ip netns add "$C"
    ip link add ppb-s type veth peer name ppb-c
    ip link set ppb-s netns "$S"
    ip link set ppb-c netns "$C"
    for ns in "$S" "$C"; do
        ip -n "$ns" link set lo up
    done
    ip -n "$S" addr add 10.99.0.1/24 dev ppb-s
    ip -n "$C" addr add 10.99.0.2/24 dev ppb-c
    ip -n "$S" link set ppb-s mtu 1500 up
    ip -n "$C" link set ppb-c mtu 1500 up
    # Frames as a cable carries them (at most the MTU), not 64 KB offload super-segments.
    ip netns exec "$S" ethtool -K ppb-s tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec "$C" ethtool -K ppb-c tso off gso off gro off >/dev/null 2>&1 || true
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench \
        -days 1 -keyout "$WWW/key.pem" -out "$WWW/cert.pem" 2>/dev/null
    head -c "$((MEBIBYTES * 1048576))" /dev/urandom > "$WWW/file.bin"
    (cd "$WWW" && exec ip netns exec "$S" openssl s_server -accept 4433 -cert cert.pem \
        -key key.pem -tls1_3 -WWW -quiet) >/dev/null 2>&1 &
    rm -f "$CAP" "$KEYS"
    ip netns exec "$C" tcpdump -i ppb-c -s 0 -B 65536 -w "$CAP" tcp port 4433 2>"$OUT/tcpdump.err" &
    DUMP=$!
    # s_server listening, and tcpdump's socket open (it says "listening on" when it is).
    for _ in $(seq 1 50); do
        if ip netns exec "$S" ss -ltn | grep -q ':4433 ' && grep -q "listening on" "$OUT/tcpdump.err"; then
            break
        fi
        sleep 0.1
    done
    printf 'GET /file.bin HTTP/1.0\r\n\r\n' | ip netns exec "$C" openssl s_client \
        -connect 10.99.0.1:4433 -tls1_3 -keylogfile "$KEYS" -quiet -ign_eof >"$OUT/received" 2>/dev/null || true
    sleep 1
    kill -INT "$DUMP" 2>/dev/null || true
    wait "$DUMP" 2>/dev/null || true
    grep -h "dropped by kernel\|captured" "$OUT/tcpdump.err" | tr '\n' ' '
    echo
    echo "received $(wc -c < "$OUT/received") bytes (the file and the HTTP header)"
    rm -f "$OUT/received"
    cleanup
    trap - EXIT
}

if [ ! -f "$CAP" ] || [ ! -f "$KEYS" ] || [ "${FRESH:-0}" = 1 ]; then
    echo "making the capture: a ${MEBIBYTES} MiB TLS 1.3 download, openssl s_server -> s_client"
    make_capture
fi
FRAMES=$(tcpdump -r "$CAP" -nn 2>/dev/null | wc -l)
echo "capture: $CAP, $(stat -c %s "$CAP") bytes, $FRAMES frames; keys: $KEYS"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $("$BIN" --version 2>/dev/null || echo packetpath); $(tshark --version | head -1); $(tcpdump --version 2>&1 | head -1)"

# Best wall time and peak RSS of RUNS runs of a command whose output goes to /dev/null.
python3 - "$RUNS" "$BIN" "$CAP" "$KEYS" <<'EOF'
import os, resource, subprocess, sys, time
runs, bin_, cap, keys = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tshark = ["tshark", "-r", cap, "-o", f"tls.keylog_file:{keys}",
          "-o", "tcp.reassemble_out_of_order:TRUE", "--disable-protocol", "http"]
commands = [
    ("packetpath inspect (text)", [bin_, "inspect", cap, "--keylog", keys]),
    ("packetpath inspect --format json", [bin_, "inspect", cap, "--keylog", keys, "--format", "json"]),
    ("tshark (summary)", tshark),
    ("tshark -T fields (frame, record type)", tshark + ["-T", "fields", "-e", "frame.number",
                                                        "-e", "tls.record.content_type"]),
    ("tcpdump -r -nn (no TLS)", ["tcpdump", "-r", cap, "-nn"]),
]
results = {}
for name, cmd in commands:
    best, rss = None, 0
    for _ in range(runs):
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.execvp(cmd[0], cmd)
        _, status, usage = os.wait4(pid, 0)
        wall = time.monotonic() - start
        if status != 0:
            print(f"{name}: exit status {status}", file=sys.stderr)
        best = wall if best is None else min(best, wall)
        rss = max(rss, usage.ru_maxrss)
    results[name] = (best, rss)
    print(f"{name:40} {best:7.2f} s  {rss / 1024:8.0f} MB")
text = results["packetpath inspect (text)"][0]
json_ = results["packetpath inspect --format json"][0]
summary = results["tshark (summary)"][0]
dump = results["tcpdump -r -nn (no TLS)"][0]
print(f"inspect (text) / tcpdump -r -nn: {text / dump:.2f}x the time (below 1: faster)")
print(f"tshark summary / inspect --format json: {summary / json_:.2f}x (the issue asks 5x)")
print(f"tshark summary / inspect (text): {summary / text:.2f}x")
EOF
