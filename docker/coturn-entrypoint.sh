#!/bin/sh
# Start coturn with /etc/turnserver.conf plus what comes from the environment,
# written to a private copy of the file so that the secret is never on a
# command line (where `ps` shows it):
#   PARLEY_TURN_SECRET  required: the shared secret of the TURN REST API, the
#                       same value the parleyd nodes get
#   TURN_EXTERNAL_IP    the public address browsers reach this server at
#                       (external-ip; needed behind NAT, Docker's published
#                       ports included); "public/private" also works
#   TURN_REALM          overrides the realm of turnserver.conf
# Arguments are passed on to turnserver (e.g. --verbose).
set -eu

if [ -z "${PARLEY_TURN_SECRET:-}" ]; then
    echo "coturn: PARLEY_TURN_SECRET is not set (use the value the parleyd nodes get)" >&2
    exit 64
fi
case $PARLEY_TURN_SECRET in
    *"
"*)
        echo "coturn: PARLEY_TURN_SECRET must be one line" >&2
        exit 64
        ;;
esac

conf=/run/turnserver/turnserver.conf
umask 077
{
    cat /etc/turnserver.conf
    printf '\n# From the environment (coturn-entrypoint)\n'
    printf 'static-auth-secret=%s\n' "$PARLEY_TURN_SECRET"
    if [ -n "${TURN_EXTERNAL_IP:-}" ]; then printf 'external-ip=%s\n' "$TURN_EXTERNAL_IP"; fi
    if [ -n "${TURN_REALM:-}" ]; then printf 'realm=%s\n' "$TURN_REALM"; fi
} >"$conf"

exec /usr/bin/turnserver -c "$conf" "$@"
