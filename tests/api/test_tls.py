"""HTTPS with the local certificate authority (--tls)."""

import shutil
import socket
import ssl
import subprocess
import time

import pytest
import requests

from harness import find_free_port, loopback_environment


@pytest.fixture
def tls_server(localecr_binary, tmp_path):
    port = find_free_port()
    data = tmp_path / "data"
    process = subprocess.Popen([str(localecr_binary), "serve", "--tls", "--listen", f"127.0.0.1:{port}",
                                "--data-dir", str(data)], stdout=subprocess.DEVNULL,
                               stderr=open(tmp_path / "server.log", "w"))
    ca = tmp_path / "ca.pem"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        printed = subprocess.run([str(localecr_binary), "ca", "print", "--data-dir", str(data)], capture_output=True,
                                 text=True)
        if printed.returncode == 0:
            ca.write_text(printed.stdout)
            try:
                if requests.get(f"https://localhost:{port}/_localecr/health", verify=str(ca), timeout=2).ok:
                    break
            except requests.RequestException:
                pass
        time.sleep(0.1)
    yield {"port": port, "ca": ca, "data": data, "tmp": tmp_path}
    process.terminate()
    process.wait(timeout=10)


def test_ca_print_is_a_certificate(tls_server):
    text = tls_server["ca"].read_text()

    assert text.startswith("-----BEGIN CERTIFICATE-----")
    assert ssl.PEM_cert_to_DER_cert(text)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "000000000000.dkr.ecr.us-east-1.localhost"])
def test_certificate_verifies_for_names(tls_server, host):
    context = ssl.create_default_context(cafile=str(tls_server["ca"]))
    with socket.create_connection(("127.0.0.1", tls_server["port"]), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            assert tls.version() is not None


def test_certificate_rejected_for_other_name(tls_server):
    context = ssl.create_default_context(cafile=str(tls_server["ca"]))
    with socket.create_connection(("127.0.0.1", tls_server["port"]), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="example.org")


def test_untrusted_without_ca(tls_server):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://localhost:{tls_server['port']}/_localecr/health", timeout=5)


def test_ca_kept_across_restarts(localecr_binary, tls_server):
    first = tls_server["ca"].read_text()
    printed = subprocess.run([str(localecr_binary), "ca", "print", "--data-dir", str(tls_server["data"])],
                             capture_output=True, text=True, check=True)

    assert printed.stdout == first


def test_aws_cli_and_skopeo_over_https(tls_server, fixture_images):
    port, ca = tls_server["port"], tls_server["ca"]
    env = loopback_environment(tls_server["tmp"] / "aws")
    env["AWS_CA_BUNDLE"] = str(ca)
    endpoint = f"https://localhost:{port}"
    created = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "ecr", "create-repository",
                              "--repository-name", "tls/app"], capture_output=True, text=True, env=env)
    assert created.returncode == 0, created.stderr
    token = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "ecr", "get-authorization-token",
                            "--query", "authorizationData[0].proxyEndpoint", "--output", "text"],
                           capture_output=True, text=True, env=env, check=True)
    assert token.stdout.strip() == endpoint
    password = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "ecr", "get-login-password"],
                              capture_output=True, text=True, env=env, check=True).stdout.strip()
    certs = tls_server["tmp"] / "certs"
    certs.mkdir()
    shutil.copy(ca, certs / "ca.crt")

    pushed = subprocess.run(["skopeo", "copy", "--dest-cert-dir", str(certs), "--dest-creds", f"AWS:{password}",
                             f"oci:{fixture_images}/single:latest", f"docker://localhost:{port}/tls/app:v1"],
                            capture_output=True, text=True)
    assert pushed.returncode == 0, pushed.stderr
    listed = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "ecr", "list-images",
                             "--repository-name", "tls/app", "--query", "imageIds[0].imageTag", "--output", "text"],
                            capture_output=True, text=True, env=env, check=True)
    assert listed.stdout.strip() == "v1"
