"""Command-line options of `localecr serve`: account, region, listen address and data directory."""

import socket
import subprocess
import time

import pytest
import requests
from botocore.exceptions import ClientError

from harness import client_error

OTHER_ACCOUNT = "123456789012"
OTHER_REGION = "eu-west-1"


@pytest.fixture
def other_account_server(server_factory):
    return server_factory("--account-id", OTHER_ACCOUNT, "--region", OTHER_REGION)


def test_account_in_repository(other_account_server):
    repository = other_account_server.create_repository("accounted")

    assert repository["registryId"] == OTHER_ACCOUNT
    assert repository["repositoryArn"].split(":")[4] == OTHER_ACCOUNT


def test_arn_region_from_signing_scope(other_account_server):
    # The JSON API takes the region from the request's SigV4 credential scope,
    # as a real regional endpoint would.
    client = other_account_server.boto3_client(region="ap-south-1")

    repository = client.create_repository(repositoryName="scoped")["repository"]

    assert repository["repositoryArn"] == f"arn:aws:ecr:ap-south-1:{OTHER_ACCOUNT}:repository/scoped"


def test_account_in_error_message(other_account_server):
    with pytest.raises(ClientError) as excinfo:
        other_account_server.ecr.describe_repositories(repositoryNames=["absent"])

    _, code, message = client_error(excinfo)
    assert code == "RepositoryNotFoundException"
    assert message == (f"The repository with name 'absent' does not exist in the registry "
                       f"with id '{OTHER_ACCOUNT}'")


def test_account_and_region_in_challenge(other_account_server):
    response = other_account_server.v2("GET", "/", auth=False)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Basic realm="https://{OTHER_ACCOUNT}.dkr.ecr.{OTHER_REGION}.amazonaws.com/",'
        'service="ecr.amazonaws.com"')


def test_account_in_v2_name_unknown(other_account_server):
    response = other_account_server.v2("GET", "/absent/tags/list")

    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == (
        f"The repository with name 'absent' does not exist in the registry with id '{OTHER_ACCOUNT}'")


def test_data_dir_created_if_missing(localecr_binary, tmp_path):
    data_dir = tmp_path / "nested" / "data"
    port = free_port(socket.AF_INET, "127.0.0.1")

    process = subprocess.Popen([str(localecr_binary), "serve", "--listen", f"127.0.0.1:{port}",
                                "--data-dir", str(data_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}", process)
    finally:
        stop(process)

    assert health.status_code == 200
    assert data_dir.is_dir()


def test_listen_on_ipv6_loopback(localecr_binary, tmp_path):
    port = free_port(socket.AF_INET6, "::1")

    process = subprocess.Popen([str(localecr_binary), "serve", "--listen", f"[::1]:{port}",
                                "--data-dir", str(tmp_path / "data")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        health = wait_for_health(f"http://[::1]:{port}", process)
    finally:
        stop(process)

    assert health.status_code == 200


@pytest.mark.parametrize("arguments", [
    ["serve", "--no-such-option"],
    ["serve", "--listen", "not-an-address"],
    ["serve", "--account-id", "12345"],
    ["no-such-command"],
])
def test_invalid_arguments_rejected(localecr_binary, tmp_path, arguments):
    result = subprocess.run([str(localecr_binary), *arguments, "--data-dir", str(tmp_path / "data")],
                            capture_output=True, text=True, timeout=10)

    assert result.returncode != 0
    assert result.stderr.strip() != ""


def test_version_option(localecr_binary):
    result = subprocess.run([str(localecr_binary), "--version"], capture_output=True, text=True, timeout=10)

    assert result.returncode == 0
    assert result.stdout.strip() != ""


def free_port(family, address) -> int:
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def wait_for_health(url, process) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"localecr exited with {process.returncode}: {process.stderr.read()}")
        try:
            return session.get(url + "/_localecr/health", timeout=1)
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"localecr did not respond on {url} within 5 s")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
