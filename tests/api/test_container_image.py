"""The container image that docker/build-image.sh makes, run in a private dockerd.

The daemon is the one tests/api/test_docker.py starts, with its own data root
and socket under a temporary folder and --iptables=false --bridge=none.
Without the default bridge, `docker run -p` has no network to publish a port
from. A user-defined bridge network still works, because docker-proxy
forwards published ports without iptables, so the main container runs on one
with -p 127.0.0.1:PORT:5000 and the image's own entrypoint. Where that
network cannot be created, those tests are skipped with the reason.

The volume test runs its containers with --network host instead, so that mode
is covered too. There the server listens on a free port of the host's
loopback, because `--listen 127.0.0.1:PORT` after the entrypoint replaces its
`--listen 0.0.0.0:5000`.
"""

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from harness import AWS_CLI, REGION, REPO_ROOT, find_free_port, loopback_environment
from test_docker import DOCKER, DOCKERD, PrivateDocker

pytestmark = pytest.mark.slow

SKOPEO = "/usr/bin/skopeo"
BUILD_IMAGE = REPO_ROOT / "docker" / "build-image.sh"
IMAGE = "localecr:dev"
IMAGE_UID = "10001"
ENTRYPOINT = ["localecr", "serve", "--listen", "0.0.0.0:5000", "--data-dir", "/data"]
# The first run compiles build-release/ (8 s on a 2-core machine); the rest is headroom for slow ones.
BUILD_TIMEOUT_SECONDS = 1200
HEALTH_TIMEOUT_SECONDS = 30
COMMAND_TIMEOUT_SECONDS = 300


@pytest.fixture(scope="module")
def private_docker(tmp_path_factory):
    for program in (DOCKERD, DOCKER, SKOPEO, AWS_CLI):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed")
    # A short root keeps the daemon's unix socket paths under the 108-byte limit.
    root = tmp_path_factory.mktemp("dockerd")
    daemon = PrivateDocker(root, loopback_environment(root / "aws-config"))
    failure = daemon.start()
    if failure is not None:
        daemon.stop()
        pytest.skip(f"cannot start a private dockerd: {failure}")
    yield daemon
    daemon.stop()
    unmount_under(root)
    shutil.rmtree(root / "data", ignore_errors=True)


def unmount_under(root):
    """Unmount what the stopped dockerd left mounted under `root`.

    After a --network host container, dockerd 20.10 leaves exec/netns/default
    (a bind mount of the host's network namespace) mounted when it exits.
    """
    points = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for point in sorted((point for point in points if point.startswith(f"{root}/")), reverse=True):
        subprocess.run(["umount", point], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def image(private_docker):
    """Build localecr:dev into the private daemon; remove it when the module's tests end."""
    result = subprocess.run([str(BUILD_IMAGE)], capture_output=True, text=True, cwd=REPO_ROOT,
                            env=dict(private_docker.env, DOCKER=DOCKER), timeout=BUILD_TIMEOUT_SECONDS)
    assert result.returncode == 0, f"build-image.sh exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    assert f"built {IMAGE}" in result.stdout
    yield IMAGE
    # The tests remove their containers, but one that a failed test left behind would keep the image.
    leftover = private_docker.run("ps", "--all", "--quiet").stdout.split()
    if leftover:
        private_docker.run("rm", "--force", *leftover, check=False)
    private_docker.run("rmi", IMAGE)
    assert private_docker.run("images", "--quiet", IMAGE).stdout.strip() == ""
    assert not leftover, f"containers left behind: {leftover}"


class Container:
    """One detached localecr:dev container, which the host reaches on 127.0.0.1:port.

    With `network` it runs on that bridge network with port 5000 published
    as 127.0.0.1:port. Without, it runs on the host's network and listens on
    127.0.0.1:port itself.
    """

    def __init__(self, docker, name, volume, network=None):
        self.docker = docker
        self.name = name
        self.volume = volume
        self.network = network
        self.port = find_free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = docker.env

    def start(self):
        if self.network is not None:
            placement = ["--network", self.network, "--publish", f"127.0.0.1:{self.port}:5000"]
            command = []
            inside_url = "http://127.0.0.1:5000"
        else:
            placement = ["--network", "host"]
            command = ["--listen", f"127.0.0.1:{self.port}"]
            inside_url = self.url
        # docker import cannot give the image a HEALTHCHECK, so the Dockerfile's is given at run time.
        health = f"curl -fsS -o /dev/null {inside_url}/_localecr/health"
        self.docker.run("run", "--detach", "--name", self.name, *placement,
                        "--mount", f"type=volume,source={self.volume},target=/data",
                        "--health-cmd", health, "--health-interval", "1s", "--health-timeout", "5s",
                        "--health-retries", "3", IMAGE, *command)
        self.wait_until_healthy()

    def remove(self, check=True):
        self.docker.run("rm", "--force", self.name, check=check)

    def logs(self) -> str:
        result = self.docker.run("logs", self.name, check=False)
        return (result.stdout + result.stderr)[-5000:]

    def wait_until_healthy(self):
        """Poll /_localecr/health from the host until it returns HTTP 200, and return its JSON."""
        session = requests.Session()
        session.trust_env = False
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        last_error = None
        while time.monotonic() < deadline:
            try:
                response = session.get(self.url + "/_localecr/health", timeout=2)
                if response.status_code == 200:
                    return response.json()
                last_error = f"HTTP {response.status_code}: {response.text!r}"
            except requests.RequestException as error:
                last_error = repr(error)
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not return HTTP 200 from {self.url}/_localecr/health within "
                             f"{HEALTH_TIMEOUT_SECONDS} s ({last_error}); its log:\n{self.logs()}")

    def aws(self, *args) -> dict:
        command = [AWS_CLI, "--endpoint-url", self.url, "--region", REGION, "--output", "json", *args]
        result = subprocess.run(command, capture_output=True, text=True, env=self.env,
                                timeout=COMMAND_TIMEOUT_SECONDS)
        assert result.returncode == 0, f"{' '.join(command)} exited with {result.returncode}:\n{result.stderr}"
        return json.loads(result.stdout) if result.stdout.strip() else {}


@pytest.fixture(scope="module")
def bridge_network(private_docker):
    name = "localecr-image-test"
    result = private_docker.run("network", "create", "--driver", "bridge", name, check=False)
    if result.returncode != 0:
        pytest.skip(f"the private dockerd cannot create a bridge network to publish a port from: "
                    f"{result.stderr.strip()}")
    yield name
    private_docker.run("network", "rm", name)


@pytest.fixture(scope="module")
def container(private_docker, image, bridge_network):
    """A container of localecr:dev with a new named volume as /data and port 5000 published on loopback."""
    volume = "localecr-image-test"
    private_docker.run("volume", "create", volume)
    started = Container(private_docker, "localecr-image-test", volume, network=bridge_network)
    try:
        started.start()
    except BaseException:
        started.remove(check=False)
        private_docker.run("volume", "rm", volume, check=False)
        raise
    yield started
    started.remove()
    private_docker.run("volume", "rm", volume)


def test_image_settings(private_docker, image):
    config = json.loads(private_docker.run("image", "inspect", "--format", "{{json .Config}}", image).stdout)

    assert config["Entrypoint"] == ENTRYPOINT
    assert config["User"] == f"{IMAGE_UID}:{IMAGE_UID}"
    assert config["ExposedPorts"] == {"5000/tcp": {}}
    assert config["Volumes"] == {"/data": {}}
    assert config["WorkingDir"] == "/data"
    # docker import cannot set a HEALTHCHECK, so docs/container.md gives one at run time.
    assert config.get("Healthcheck") is None


def test_health_reachable_from_host(container):
    health = container.wait_until_healthy()

    assert health["status"] == "ok"


def test_process_runs_as_uid_10001(private_docker, container):
    # The image has no `id` program, so read the uid with docker top, which runs ps on the host.
    rows = private_docker.run("top", container.name, "-eo", "uid,pid,args").stdout.splitlines()[1:]
    servers = [row.split(None, 2) for row in rows if "localecr serve" in row]

    assert servers, f"no localecr serve process in docker top:\n{rows}"
    assert all(uid == IMAGE_UID for uid, _, _ in servers), servers


def test_health_check_turns_healthy(private_docker, container):
    def status():
        return private_docker.run("inspect", "--format", "{{.State.Health.Status}}", container.name).stdout.strip()

    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while status() != "healthy" and time.monotonic() < deadline:
        time.sleep(0.5)

    assert status() == "healthy", private_docker.run("inspect", "--format", "{{json .State.Health}}",
                                                     container.name).stdout


def test_skopeo_push_listed_by_aws_cli(container, fixture_images, fixture_manifest, tmp_path):
    entry = fixture_manifest["single"]
    container.aws("ecr", "create-repository", "--repository-name", "container/hello")
    password = subprocess.run([AWS_CLI, "--endpoint-url", container.url, "--region", REGION, "ecr",
                               "get-login-password"], capture_output=True, text=True, check=True,
                              env=container.env, timeout=COMMAND_TIMEOUT_SECONDS).stdout.strip()
    digest_file = tmp_path / "pushed.digest"

    subprocess.run([SKOPEO, "copy", "--dest-tls-verify=false", "--dest-creds", f"AWS:{password}",
                    "--digestfile", str(digest_file),
                    f"oci:{fixture_images / entry['path']}:{entry['tag']}",
                    f"docker://127.0.0.1:{container.port}/container/hello:v1"],
                   check=True, capture_output=True, env=container.env, timeout=COMMAND_TIMEOUT_SECONDS)

    details = container.aws("ecr", "describe-images", "--repository-name", "container/hello")["imageDetails"]
    assert [(detail["imageDigest"], detail["imageTags"]) for detail in details] == [
        (digest_file.read_text().strip(), ["v1"])]
    assert details[0]["imageDigest"] == entry["digest"]


def test_volume_keeps_store_across_containers(private_docker, image):
    volume = "localecr-image-test-kept"
    private_docker.run("volume", "create", volume)
    first = Container(private_docker, "localecr-image-test-first", volume)
    first.start()
    first.aws("ecr", "create-repository", "--repository-name", "kept")
    first.remove()
    second = Container(private_docker, "localecr-image-test-second", volume)
    second.start()

    repositories = second.aws("ecr", "describe-repositories")["repositories"]

    assert [repository["repositoryName"] for repository in repositories] == ["kept"]
    second.remove()
    private_docker.run("volume", "rm", volume)
