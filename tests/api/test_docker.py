"""docker login, push and pull against localecr through a private dockerd.

The daemon runs with its own data root, exec root and socket under a temporary
folder, without iptables or a bridge, so it leaves the host's docker alone.
Docker treats registries on 127.0.0.0/8 as insecure, so it speaks plain HTTP to
localecr without extra configuration.
"""

import re
import shutil
import signal
import subprocess
import time

import pytest

import testimages

pytestmark = pytest.mark.slow

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"
DOCKERD_START_TIMEOUT_SECONDS = 60


class PrivateDocker:
    """A dockerd process and a docker CLI bound to its socket and its own config folder."""

    def __init__(self, root, env):
        self.root = root
        self.socket = root / "docker.sock"
        self.log_path = root / "dockerd.log"
        self.env = dict(env, DOCKER_CONFIG=str(root / "client-config"), DOCKER_HOST=f"unix://{self.socket}")
        self.process = None

    def start(self):
        command = [DOCKERD, "--iptables=false", "--bridge=none",
                   "--storage-driver=vfs", "--data-root", str(self.root / "data"),
                   "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "docker.pid"),
                   "--host", f"unix://{self.socket}"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + DOCKERD_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"dockerd exited with status {self.process.returncode}: {self.log_tail()}"
            if self.run("version", check=False).returncode == 0:
                return None
            time.sleep(0.5)
        return f"dockerd did not respond within {DOCKERD_START_TIMEOUT_SECONDS} s: {self.log_tail()}"

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-15:])

    def run(self, *args, input=None, check=True) -> subprocess.CompletedProcess:
        command = [DOCKER, *args]
        result = subprocess.run(command, input=input, capture_output=True, text=True,
                                env=self.env, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def image_id(self, reference: str) -> str:
        return self.run("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


def private_docker(env, tmp_path_factory):
    """Yield a running private dockerd for a fixture, or skip with the reason it cannot start."""
    for program in (DOCKERD, DOCKER):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed")
    # A short root keeps the daemon's unix socket paths under the 108-byte limit.
    root = tmp_path_factory.mktemp("dockerd")
    daemon = PrivateDocker(root, env)
    failure = daemon.start()
    if failure is not None:
        daemon.stop()
        pytest.skip(f"cannot start a private dockerd: {failure}")
    yield daemon
    daemon.stop()
    shutil.rmtree(root / "data", ignore_errors=True)


@pytest.fixture(scope="module")
def docker(server, tmp_path_factory):
    yield from private_docker(server.env, tmp_path_factory)


def login(docker, server, password):
    return docker.run("login", "--username", "AWS", "--password-stdin", server.host,
                      input=password, check=False)


def test_login_with_ecr_password(docker, server):
    result = login(docker, server, server.login_password())

    assert result.returncode == 0, result.stderr
    assert "Login Succeeded" in result.stdout


def test_login_with_cli_pipe(docker, server):
    # The documented form: aws ecr get-login-password | docker login ... --password-stdin.
    pipeline = (f"/usr/bin/aws --endpoint-url {server.url} ecr get-login-password | "
                f"{DOCKER} login --username AWS --password-stdin {server.host}")

    result = subprocess.run(["/bin/sh", "-c", pipeline], capture_output=True, text=True,
                            env=dict(server.env, **{key: docker.env[key] for key in ("DOCKER_CONFIG", "DOCKER_HOST")}),
                            timeout=120)

    assert result.returncode == 0, result.stderr
    assert "Login Succeeded" in result.stdout


def test_login_with_wrong_password_fails(docker, server):
    result = login(docker, server, "not-a-token")

    assert result.returncode != 0
    assert "Login Succeeded" not in result.stdout


@pytest.mark.parametrize("name", ["single-docker-archive", "multilayer-docker-archive"])
def test_push_pull_round_trip(docker, server, repository, fixture_images, fixture_manifest, name):
    entry = fixture_manifest[name]
    loaded = docker.run("load", "--input", str(fixture_images / entry["path"])).stdout
    assert entry["reference"] in loaded
    original_id = docker.image_id(entry["reference"])
    target = f"{server.host}/{repository}:v1"
    assert login(docker, server, server.login_password()).returncode == 0
    docker.run("tag", entry["reference"], target)

    pushed = docker.run("push", target).stdout

    digest = re.search(r"digest: (sha256:[0-9a-f]{64})", pushed).group(1)
    detail = server.ecr.describe_images(repositoryName=repository)["imageDetails"][0]
    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["v1"]
    assert detail["imageManifestMediaType"] == testimages.DOCKER_MANIFEST

    docker.run("rmi", "--force", original_id)
    docker.run("pull", target)

    assert docker.image_id(target) == original_id
    assert original_id == entry["configDigest"]


def test_push_to_unknown_repository_fails(docker, server, repository_name, fixture_images, fixture_manifest):
    entry = fixture_manifest["single-docker-archive"]
    docker.run("load", "--input", str(fixture_images / entry["path"]))
    target = f"{server.host}/{repository_name}:v1"
    assert login(docker, server, server.login_password()).returncode == 0
    docker.run("tag", entry["reference"], target)

    result = docker.run("push", target, check=False)

    assert result.returncode != 0
    assert f"The repository with name '{repository_name}' does not exist" in result.stderr


def test_pull_unknown_tag_fails(docker, server, repository):
    assert login(docker, server, server.login_password()).returncode == 0

    result = docker.run("pull", f"{server.host}/{repository}:missing", check=False)

    assert result.returncode != 0
    assert "not found" in result.stderr or "manifest unknown" in result.stderr


def test_pull_debian_pushed_by_skopeo(docker, server, repository, debian_layout, fixture_manifest):
    entry = fixture_manifest["debian"]
    password = server.login_password()
    subprocess.run(["/usr/bin/skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", f"AWS:{password}",
                    f"oci:{debian_layout}:{entry['tag']}", f"docker://{server.host}/{repository}:12"],
                   check=True, capture_output=True, env=server.env, timeout=1800)
    assert login(docker, server, password).returncode == 0

    docker.run("pull", f"{server.host}/{repository}:12")

    # Docker's image ID is the digest of the image's config blob.
    assert docker.image_id(f"{server.host}/{repository}:12") == entry["config"]["digest"]
