"""Fixtures that run the real localecr server, and hooks that report its log.

The part of a server's log written during a failed test is attached to that
test's report.
"""

import itertools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import (EXAMPLE_IDENTITIES, LOG_SECTION_MAX_CHARS, REPO_ROOT, LocalEcrServer,
                     loopback_environment, running_servers, start_iam_server)

_repository_counter = itertools.count(1)


# Fixtures


@pytest.fixture(scope="session")
def localecr_binary() -> Path:
    binary = Path(os.environ.get("LOCALECR_BIN", REPO_ROOT / "build" / "localecr")).resolve()
    if not binary.is_file():
        raise FileNotFoundError(f"localecr binary not found at {binary}: build it with "
                                "'meson setup build && ninja -C build' or set LOCALECR_BIN")
    return binary


@pytest.fixture(scope="session", autouse=True)
def _aws_environment():
    """Keep boto3 in this process away from ~/.aws and the instance metadata address."""
    saved = dict(os.environ)
    config_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"localecr-pytest-aws-{os.getpid()}"
    for key in list(os.environ):
        if key.startswith("AWS_") or key.upper().endswith("_PROXY"):
            del os.environ[key]
    environment = loopback_environment(config_dir)
    del environment["HOME"]
    os.environ.update(environment)
    yield
    os.environ.clear()
    os.environ.update(saved)
    shutil.rmtree(config_dir, ignore_errors=True)


@pytest.fixture
def server_factory(localecr_binary, tmp_path_factory):
    """Return a function that starts a server with extra command-line arguments.

    The servers it started are stopped when the test ends.
    """
    started = []

    def start_server(*extra_args) -> LocalEcrServer:
        server = LocalEcrServer(localecr_binary, tmp_path_factory.mktemp("localecr"), extra_args)
        server.start()
        started.append(server)
        return server

    yield start_server
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def server(localecr_binary, tmp_path_factory) -> LocalEcrServer:
    """A server shared by the tests of one module. Tests isolate their state with `repository`."""
    server = LocalEcrServer(localecr_binary, tmp_path_factory.mktemp("localecr"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server(localecr_binary, tmp_path) -> LocalEcrServer:
    """A server with an empty data directory, for tests that list everything."""
    server = LocalEcrServer(localecr_binary, tmp_path / "localecr")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def example_iam_server(localecr_binary, tmp_path_factory) -> LocalEcrServer:
    """A server in IAM mode with fixtures/identities.example.json, shared by the tests of one module."""
    server = start_iam_server(localecr_binary, tmp_path_factory.mktemp("localecr-iam"), EXAMPLE_IDENTITIES)
    yield server
    server.stop()


@pytest.fixture
def repository_name(request) -> str:
    """A valid repository name derived from the test name and unique in the session."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:80]
    return f"{slug}-{next(_repository_counter)}"


@pytest.fixture
def repository(server, repository_name) -> str:
    """Name of a new empty repository on the module's server."""
    server.create_repository(repository_name)
    return repository_name


@pytest.fixture
def seed(repository_name) -> str:
    """Seed for testimages, unique per test, so images never collide across tests."""
    return repository_name


# Test images built by fixtures/build-images

@pytest.fixture(scope="session")
def fixture_images(request, tmp_path_factory) -> Path:
    """Folder with the images from fixtures/build-images, built once per session.

    LOCALECR_FIXTURES names a folder to build into and reuse between runs
    (build-images leaves up-to-date images alone). The Debian image is built
    only when a selected test needs it.
    """
    configured = os.environ.get("LOCALECR_FIXTURES")
    out_dir = Path(configured) if configured else tmp_path_factory.mktemp("fixtures")
    command = [str(REPO_ROOT / "fixtures" / "build-images"), str(out_dir)]
    if not any("debian_layout" in item.fixturenames for item in request.session.items):
        command.append("--skip-debian")
    result = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}:\n"
                           f"{result.stdout}\n{result.stderr}")
    return out_dir


@pytest.fixture(scope="session")
def fixture_manifest(fixture_images) -> dict:
    """The `fixtures` map of the manifest.json that build-images writes: name -> entry."""
    return json.loads((fixture_images / "manifest.json").read_text())["fixtures"]


@pytest.fixture(scope="session")
def debian_layout(fixture_images, fixture_manifest) -> Path:
    entry = fixture_manifest.get("debian", {})
    if entry.get("status") != "built":
        pytest.skip("fixtures/build-images did not build the Debian 12 image: "
                    + entry.get("reason", "no 'debian' entry in manifest.json"))
    return fixture_images / entry["path"]


# Reporting


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    for server in running_servers:
        server.mark_log()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for server in running_servers:
        text = server.read_log(server.log_mark)
        if len(text) > LOG_SECTION_MAX_CHARS:
            text = "[earlier lines cut]\n" + text[-LOG_SECTION_MAX_CHARS:]
        report.sections.append((f"localecr log (port {server.port}, {report.when})", text))


@pytest.fixture(autouse=True)
def _require_servers_alive():
    """Fail the test if a server process died during it, then restart that server.

    The restart keeps the data directory, so the module's later tests still run.
    """
    yield
    dead = [server for server in running_servers if server.process.poll() is not None]
    for server in dead:
        status = server.process.returncode
        running_servers.remove(server)
        server.process = None
        server.start()
        pytest.fail(f"localecr on port {server.port} exited with status {status} during the test")
