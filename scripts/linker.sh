#!/bin/sh
# Links with mold when it is installed (linking the server is several times
# faster), and with the system default otherwise.
if command -v mold >/dev/null 2>&1; then
    exec cc -fuse-ld=mold "$@"
fi
exec cc "$@"
