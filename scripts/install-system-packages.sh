#!/usr/bin/env bash
# The Debian packages the test suite needs: Chromium and its driver (browser tests), PostgreSQL,
# Redis and nginx (cluster tests; the tests start them, no service is enabled). Installed with
# apt-get as root or through sudo; otherwise stops at once with the exact command to run.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0

install="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "Paquets système manquants pour les tests : ${missing[*]}" >&2
  echo "Installez-les, puis relancez make test :  sudo sh -c '$install'" >&2
  exit 1
fi
echo "Installation des paquets système pour les tests : ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
