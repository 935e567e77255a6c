#!/usr/bin/env bash
# The README's picture: the site through the twin, rendered by headless Chromium (Debian's
# chromium), reloaded until two loads differ (the page differs only in the instance that
# answered: its ID, private IP and AZ): docs/site-1.png and docs/site-2.png. Needs a twin
# serving the site: `make deploy`, or `./bin/webtier twin up --forward 127.0.0.1:8080`.
# URL=... names another address.
set -euo pipefail
cd "$(dirname "$0")/.."
url=${URL:-http://127.0.0.1:8080/}
command -v chromium >/dev/null || { echo "screenshot.sh: needs chromium (apt-get install chromium)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
first=
for load in $(seq 1 10); do
	# A new browser each time (a reload with nothing cached); its background traffic off,
	# since this machine has no way out.
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$work/profile-$load" --window-size=900,520 \
		--screenshot="$work/load-$load.png" "$url" >/dev/null 2>&1
	[ -s "$work/load-$load.png" ] || { echo "screenshot.sh: chromium rendered nothing for $url" >&2; exit 1; }
	# Each load asks for the page and its favicon, two requests, so with round robin on two
	# servers every load would meet the same one: another visitor's request in between.
	curl -s -o /dev/null "$url" || true
	if [ -z "$first" ]; then
		first=$load
	elif ! cmp -s "$work/load-$first.png" "$work/load-$load.png"; then
		cp "$work/load-$first.png" docs/site-1.png
		cp "$work/load-$load.png" docs/site-2.png
		echo "wrote docs/site-1.png (load $first) and docs/site-2.png (load $load)"
		exit 0
	fi
done
echo "screenshot.sh: 10 loads of $url looked the same: one instance answered them all" >&2
exit 1
