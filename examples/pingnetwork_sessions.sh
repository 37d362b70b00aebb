#!/usr/bin/env bash
# Ping Network with nothing but bash and curl: open a reusable VPN session for a device, pause it,
# then end it. Proof that `mocks verify-client` checks clients in any language:
#
#     mocks verify-client pingnetwork -- bash examples/pingnetwork_sessions.sh
#
# Reads MOCKS_BASE_URL and MOCKS_API_TOKEN. Retries dropped connections, 5xx and 429 up to 5 times,
# waiting as long as Retry-After says (else 0.2 s, 0.4 s, ...); before re-sending the create whose
# answer was lost, it looks the session up by its client_id. Exit 0 when done, 1 when not.
set -u
BASE="${MOCKS_BASE_URL:?MOCKS_BASE_URL is not set}/customer/v2"
TOKEN="${MOCKS_API_TOKEN:?MOCKS_API_TOKEN is not set}"
DEVICE="kiosk-$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# call METHOD PATH [JSON] -> body in $WORK/body, status in $STATUS ("000" when the connection failed)
call() {
    local method=$1 path=$2 data=${3:-}
    local args=(-sS -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X "$method" --max-time 5
                -H "Authorization: $TOKEN" -H 'Accept: application/json')
    [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data "$data")
    STATUS=$(curl "${args[@]}" "$BASE$path" 2>/dev/null) || STATUS=000
}

retry_after() {  # seconds from the Retry-After header, if any
    tr -d '\r' < "$WORK/headers" | awk -F': *' 'tolower($1) == "retry-after" {print $2}'
}

# request METHOD PATH [JSON] [LOOKUP-FUNCTION]: retry until 2xx; a 4xx other than 429 ends the script
request() {
    local method=$1 path=$2 data=${3:-} lookup=${4:-} attempt=1 wait
    while :; do
        call "$method" "$path" "$data"
        case $STATUS in
            2??) return 0 ;;
            404) [ "$method" = DELETE ] && [ "$attempt" -gt 1 ] && return 0  # the lost first attempt did it
                 echo "failed: $method $path -> 404" >&2; exit 1 ;;
            000|429|5??) ;;
            *) echo "failed: $method $path -> $STATUS $(cat "$WORK/body")" >&2; exit 1 ;;
        esac
        if [ "$attempt" -ge 5 ]; then echo "failed: $method $path still $STATUS after $attempt attempts" >&2; exit 1; fi
        wait=$(retry_after)
        [ -z "$wait" ] && wait=$(awk -v n="$attempt" 'BEGIN {print 0.2 * 2 ^ (n - 1)}')
        if awk -v w="$wait" 'BEGIN {exit !(w > 10)}'; then echo "failed: asked to wait ${wait}s" >&2; exit 1; fi
        sleep "$wait"
        attempt=$((attempt + 1))
        if [ -n "$lookup" ] && [ "$STATUS" != 429 ] && "$lookup"; then return 0; fi
    done
}

find_session() {  # did the lost create go through? then its listing is our answer
    local saved=$STATUS
    request GET "/sessions?client_id=$DEVICE&limit=100"
    if grep -q '"id"' "$WORK/body"; then
        sed 's/.*"data":\[{/{/' "$WORK/body" > "$WORK/found" && cp "$WORK/found" "$WORK/body"
        return 0
    fi
    STATUS=$saved
    return 1
}

json_field() {  # first "name": "value" in the body
    grep -o "\"$1\": *\"[^\"]*\"" "$WORK/body" | head -1 | sed 's/.*: *"\(.*\)"/\1/'
}

request GET /zones
ZONE=$(json_field code)
request POST /sessions "{\"client_id\":\"$DEVICE\",\"connection_type\":\"vless\",\"zone\":\"$ZONE\",\"reusable\":true}" find_session
SESSION=$(json_field id)
request PATCH "/sessions/$SESSION/pause"
request DELETE "/sessions/$SESSION"
echo "{\"session\": \"$SESSION\", \"zone\": \"$ZONE\", \"device\": \"$DEVICE\"}"
