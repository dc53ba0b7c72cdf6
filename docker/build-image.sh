#!/bin/sh
# Build the localecr container image offline, with no base image and no
# registry. The script compiles build-release/localecr and gathers a root
# file system: the binary, curl (for the health check), dash as /bin/sh (for
# shell-form health checks such as docker run --health-cmd), the shared
# libraries the three load and the dynamic loader. The CA bundle and
# passwd/group files naming the localecr user (uid 10001) complete it.
# `docker import` then makes it one layer with the settings of
# docker/Dockerfile.
#
#   docker/build-image.sh [IMAGE]      (default localecr:dev)
#
# Environment:
#   DOCKER_HOST   the daemon to import into, read by the docker CLI as usual
#   DOCKER        the docker CLI to run (default: docker on PATH)
#   BUILD_DIR     the meson build folder (default build-release, a release
#                 build; created if missing)
#
# `docker import` has no HEALTHCHECK setting, so the image this script makes
# has none: give one at run time (docker run --health-cmd, or compose's
# healthcheck as in docker/compose.yaml). Needs meson, ninja, ldd, tar, curl
# and dash on the machine that runs it: docker/install-deps.sh --test
# installs those Debian does not install by default.
set -eu

image="${1:-localecr:dev}"
docker_cli="${DOCKER:-docker}"
cd "$(dirname "$0")/.."
top=$(pwd)
build="${BUILD_DIR:-build-release}"

for tool in meson ninja ldd tar curl dash "$docker_cli"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "build-image: $tool is not installed (docker/install-deps.sh --test installs it)" >&2
		exit 1
	fi
done

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=release >/dev/null
fi
ninja -C "$build" localecr >/dev/null
case "$build" in
/*) binary="$build/localecr" ;;
*) binary="$top/$build/localecr" ;;
esac
version=$("$binary" --version | sed -n 's/^localecr //p')

work=$(mktemp -d "${TMPDIR:-/tmp}/localecr-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/bin" "$rootfs/bin" "$rootfs/etc/ssl/certs" "$rootfs/data" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
chmod 0755 "$rootfs/data"

# Copy a file to the same path under the root file system, following
# symbolic links so each library lands as a regular file under its soname.
copy_in() {
	mkdir -p "$rootfs$(dirname "$1")"
	cp -L "$1" "$rootfs$1"
}

cp "$binary" "$rootfs/usr/local/bin/localecr"
curl_path=$(command -v curl)
cp -L "$curl_path" "$rootfs/usr/bin/curl"
dash_path=$(command -v dash)
cp -L "$dash_path" "$rootfs/bin/sh"

# ldd prints "name => /path (address)" for each library and "/path (address)"
# for the loader; take every absolute path. linux-vdso has none.
for program in "$binary" "$curl_path" "$dash_path"; do
	ldd "$program" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'
done | sort -u >"$work/libraries"
if ! grep -q 'ld-linux' "$work/libraries"; then
	echo "build-image: ldd listed no dynamic loader for $binary or $curl_path" >&2
	exit 1
fi
while read -r library; do
	copy_in "$library"
done <"$work/libraries"

# The CA bundle lets curl and localecr's webhooks (libcurl) verify HTTPS
# servers; localecr's own --tls CA lives in /data, not here.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
localecr:x:10001:10001:localecr:/data:/usr/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
localecr:x:10001:
EOF
cat >"$rootfs/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF

# Everything belongs to root except /data, which belongs to localecr so that
# a new named volume (which docker fills from the image's /data) is
# writable by the server. Two tar passes set the owners without needing
# root or chown.
tar -C "$rootfs" -cf "$work/rootfs.tar" --numeric-owner --owner=0 --group=0 --exclude=./data .
tar -C "$rootfs" -rf "$work/rootfs.tar" --numeric-owner --owner=10001 --group=10001 ./data

"$docker_cli" import \
	--change 'USER 10001:10001' \
	--change 'WORKDIR /data' \
	--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
	--change 'EXPOSE 5000' \
	--change 'VOLUME /data' \
	--change 'LABEL org.opencontainers.image.title=localecr' \
	--change "LABEL org.opencontainers.image.version=$version" \
	--change 'ENTRYPOINT ["localecr", "serve", "--listen", "0.0.0.0:5000", "--data-dir", "/data"]' \
	--message "localecr $version, built by docker/build-image.sh" \
	"$work/rootfs.tar" "$image" >/dev/null
echo "built $image (localecr $version, $(du -k "$work/rootfs.tar" | cut -f1) KiB uncompressed; no HEALTHCHECK: docker import cannot set one)"
