#!/bin/sh
# The Debian packages the tests use: Chromium (the diagrams are rendered and the live view is
# driven in it) and redis-server (the Redis store's tests start their own). Run by `npm test`
# before the tests: it installs what is missing with apt-get when it can (as root, or with sudo
# without a password), and otherwise says what to install and exits 1.
set -u
missing=""
command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM_PATH:-}" ] || missing="$missing chromium"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  echo "the tests need these Debian packages:$missing; install them (apt-get install -y$missing) and run npm test again" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the tests need:$missing, and this system has no apt-get: install them with its package manager" >&2
  exit 1
fi
echo "installing the Debian packages the tests need:$missing" >&2
$as_root apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq $missing >&2 || {
  echo "could not install$missing: install them (apt-get install -y$missing) and run npm test again" >&2
  exit 1
}
for command in $missing; do
  command -v "$command" >/dev/null 2>&1 || { echo "$command is still missing after apt-get install" >&2; exit 1; }
done
