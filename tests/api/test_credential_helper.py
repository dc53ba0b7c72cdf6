"""The amazon-ecr-credential-helper against localecr under an ECR-shaped name.

The helper only talks to hosts that look like ECR and has no endpoint
override.  So the test runs localecr and the helper in a private network and
mount namespace of its own.  There /etc/hosts maps api.ecr.local.amazonaws.com
and 000000000000.dkr.ecr.local.amazonaws.com to the namespace's loopback,
localecr serves HTTPS on port 443 with its local CA, and the helper trusts
that CA through AWS_CA_BUNDLE.  No traffic leaves the namespace.
"""

import json
import os
import shutil
import subprocess
import textwrap

import pytest

HELPER = "/usr/bin/docker-credential-ecr-login"
REGISTRY = "000000000000.dkr.ecr.local.amazonaws.com"


def _namespace_script(binary, work):
    return textwrap.dedent(f"""\
        set -e
        ip link set lo up
        echo "127.0.0.1 localhost api.ecr.local.amazonaws.com {REGISTRY}" > {work}/hosts
        mount --bind {work}/hosts /etc/hosts
        {binary} serve --listen 127.0.0.1:443 --tls --region local --data-dir {work}/data > {work}/server.log 2>&1 &
        server=$!
        for i in $(seq 100); do
            curl -sf --cacert {work}/data/ca.pem https://localhost/_localecr/health > /dev/null 2>&1 && break
            sleep 0.1
        done
        export AWS_CA_BUNDLE={work}/data/ca.pem AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
        export AWS_EC2_METADATA_DISABLED=true HOME={work}
        echo {REGISTRY} | {HELPER} get > {work}/creds.json
        secret=$(python3 -c "import json; print(json.load(open('{work}/creds.json'))['Secret'])")
        curl -s -o /dev/null -w "%{{http_code}}" --cacert {work}/data/ca.pem -u "AWS:$secret" \\
            https://{REGISTRY}/v2/ > {work}/v2-status
        curl -s -o /dev/null -w "%{{http_code}}" --cacert {work}/data/ca.pem -u "AWS:wrong" \\
            https://{REGISTRY}/v2/ > {work}/v2-wrong-status
        kill $server
        wait $server || true
        """)


@pytest.fixture
def namespace_run(localecr_binary, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to create a private network and mount namespace")
    if not os.path.exists(HELPER):
        pytest.skip(f"{HELPER} is not installed (Debian package amazon-ecr-credential-helper)")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare or ip is missing")
    probe = subprocess.run(["unshare", "-m", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create namespaces here: {probe.stderr.strip()}")

    def run():
        result = subprocess.run(["unshare", "-m", "-n", "bash", "-c", _namespace_script(localecr_binary, tmp_path)],
                                capture_output=True, text=True, timeout=60)
        log = (tmp_path / "server.log").read_text() if (tmp_path / "server.log").exists() else ""
        assert result.returncode == 0, f"{result.stderr}\nserver log:\n{log[-3000:]}"
        return tmp_path

    return run


def test_helper_gets_working_credentials(namespace_run):
    work = namespace_run()

    creds = json.loads((work / "creds.json").read_text())
    assert creds["Username"] == "AWS"
    assert creds["Secret"]
    assert (work / "v2-status").read_text() == "200"
    assert (work / "v2-wrong-status").read_text() == "400"
