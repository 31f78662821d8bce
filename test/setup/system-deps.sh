#!/usr/bin/env bash
# The tests use real peers from Debian: socat (pseudo-terminal pairs for serial tests), Chromium (the panel
# in a real headless browser) and openssl (self-signed certificates for the TLS mail and FTP servers). Install them when missing and we may (root with apt-get); otherwise say how.
set -euo pipefail
missing=()
command -v socat >/dev/null 2>&1 || missing+=(socat)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
