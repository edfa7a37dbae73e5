# Sourced by the benchmark scripts: the nsqd they measure against.
#
# With NSQD_TCP_ADDRESS and NSQD_HTTP_ADDRESS set (a real nsqd v1.3.0, say: `nsqd --tcp-address 127.0.0.1:4150
# --http-address 127.0.0.1:4151`), that nsqd is used as it is and left running; topic names then carry RUN_ID so
# runs never share a topic. Otherwise playcount-nsqd is started on free loopback ports and stopped on exit.
#
#   start_nsqd WORKDIR     sets TCP, HTTP and BROKER (a description for the figures), appends to PIDS
#
# Expects BIN (the release bin path), PIDS (an array the caller's cleanup kills) and fail().
RUN_ID=${RUN_ID:-$(date +%s)$$}

start_nsqd() {
    local work=$1
    if [[ -n "${NSQD_TCP_ADDRESS:-}" ]]; then
        [[ -n "${NSQD_HTTP_ADDRESS:-}" ]] || fail "NSQD_TCP_ADDRESS is set: set NSQD_HTTP_ADDRESS too (queue depths are read from it)"
        TCP=$NSQD_TCP_ADDRESS
        HTTP=$NSQD_HTTP_ADDRESS
        python3 -c 'import sys, urllib.request; urllib.request.urlopen("http://%s/ping" % sys.argv[1], timeout=5)' "$HTTP" \
            || fail "no nsqd answers at http://$HTTP/ping"
        BROKER="external nsqd $TCP"
        return
    fi
    "$BIN/playcount-nsqd" --tcp-address 127.0.0.1:0 --http-address 127.0.0.1:0 >"$work/nsqd.out" 2>"$work/nsqd.err" &
    PIDS+=($!)
    for _ in $(seq 1 200); do
        grep -q '^playcount-nsqd: TCP' "$work/nsqd.out" 2>/dev/null && break
        sleep 0.05
    done
    TCP=$(sed -n 's/^playcount-nsqd: TCP \([^ ]*\) HTTP.*/\1/p' "$work/nsqd.out")
    HTTP=$(sed -n 's/^playcount-nsqd: TCP [^ ]* HTTP \([^ ]*\).*/\1/p' "$work/nsqd.out")
    [[ -n "$TCP" && -n "$HTTP" ]] || { cat "$work/nsqd.err" >&2; fail "playcount-nsqd did not start"; }
    BROKER="embedded broker (playcount-nsqd $TCP)"
}
