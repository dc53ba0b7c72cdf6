#!/bin/sh
# Install the Debian 12 packages localecr needs, skipping those present.
#
#   docker/install-deps.sh          build and run the server
#   docker/install-deps.sh --test   also the clients and tools the tests drive
#
# Runs as root (apt-get).
set -eu

build="meson ninja-build pkg-config gcc libc6-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev libarchive-dev"
# Clients and tools the test suite drives, plus what the fixture builder
# runs (mmdebstrap downloads a Debian root file system from Debian's archive)
# and clang with libFuzzer for the policy parser fuzz run.
test_tools="awscli skopeo docker.io python3 python3-boto3 python3-pytest python3-requests umoci mmdebstrap curl ca-certificates sqlite3 clang libclang-rt-14-dev amazon-ecr-credential-helper iproute2 util-linux"

want="$build"
case "${1:-}" in
	--test) want="$build $test_tools" ;;
	"") ;;
	*) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

missing=""
# The JS SDK tests need node and npm; a machine that already has them (from
# another source than Debian) keeps its own.
if [ "${1:-}" = "--test" ] && ! command -v npm >/dev/null 2>&1; then
	missing=" nodejs npm"
fi
for pkg in $want; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
