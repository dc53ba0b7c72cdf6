"""Injected faults: a full disk and a locked database fail requests cleanly and leave nothing partial."""

import contextlib
import errno
import os
import random
import sqlite3
import subprocess
import threading
import time

import pytest

import randompush
import testimages
from harness import LocalEcrServer, fsck_lines, oci_error_codes, sanitizer_reports

SMALL_DISK_SIZE = "4m"
# Bytes the test may lose on the small disk without calling it a leak: SQLite pages and the WAL grow a little.
FREE_SPACE_SLACK = 256 * 1024
REQUEST_TIMEOUT_SECONDS = 30
GENERIC_ERROR_MESSAGE = "An internal error occurred. Try again later."


def free_bytes(path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def unmount(path):
    result = subprocess.run(["umount", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, text=True)


@pytest.fixture
def small_disk_server(localecr_binary, tmp_path):
    """A server whose data directory is a tmpfs of SMALL_DISK_SIZE, unmounted at teardown."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    server = LocalEcrServer(localecr_binary, tmp_path / "localecr")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_SIZE}", "tmpfs",
                              str(server.data_dir)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for the disk-full tests: {mounted.stderr.strip()}")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        unmount(server.data_dir)


def assert_oci_error(response):
    assert 400 <= response.status_code < 600, f"HTTP {response.status_code} {response.text[:300]}"
    codes = oci_error_codes(response)
    assert codes and all(isinstance(code, str) and code for code in codes), response.text


def assert_healthy(server):
    response = server.http.get(server.url + "/_localecr/health", timeout=REQUEST_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text


def assert_fsck_no_problem(server):
    result = server.fsck()
    assert result.returncode == 0, result.stdout + result.stderr
    assert fsck_lines(result, "problem") == []
    return result


def push_and_check(server, repository: str, seed: str) -> testimages.Image:
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag=seed)
    assert randompush.pull_problems(server, randompush.PushedImage(repository, seed, image)) == []
    return image


def oversized_blob(server) -> testimages.Blob:
    """A blob 1 MiB larger than the free space of the server's data directory."""
    size = free_bytes(server.data_dir) + 1024 * 1024
    return testimages.Blob(random.Random(size).randbytes(size), testimages.OCI_LAYER)


# Disk full


def test_disk_full_monolithic_upload(small_disk_server):
    server = small_disk_server
    server.create_repository("full")
    before = push_and_check(server, "full", "disk-full-before")
    free_before = free_bytes(server.data_dir)
    big = oversized_blob(server)

    response = server.v2("POST", "/full/blobs/uploads/", params={"digest": big.digest}, data=big.data,
                         headers=randompush.OCTET_STREAM, timeout=REQUEST_TIMEOUT_SECONDS)

    assert_oci_error(response)
    assert_healthy(server)
    assert not server.blob_file(big.digest).exists()
    assert server.blob_files() == {blob.digest for blob in before.blobs}
    assert server.v2("HEAD", f"/full/blobs/{big.digest}").status_code == 404
    push_and_check(server, "full", "disk-full-after")
    # The client never learned the session of a failed monolithic upload, so only the server can drop its bytes.
    assert server.upload_files() == set()
    assert free_bytes(server.data_dir) >= free_before - FREE_SPACE_SLACK
    assert randompush.pull_problems(server, randompush.PushedImage("full", "disk-full-before", before)) == []
    assert_fsck_no_problem(server)
    assert sanitizer_reports(server.read_log()) == []


def test_disk_full_chunked_upload(small_disk_server):
    server = small_disk_server
    server.create_repository("full")
    before = push_and_check(server, "full", "disk-full-chunked-before")
    free_before = free_bytes(server.data_dir)
    big = oversized_blob(server)
    location = randompush.open_session(server, "full", REQUEST_TIMEOUT_SECONDS)

    response = server.v2("PATCH", location, data=big.data,
                         headers={**randompush.OCTET_STREAM, "Content-Range": f"0-{big.size - 1}"},
                         timeout=REQUEST_TIMEOUT_SECONDS)

    assert_oci_error(response)
    assert_healthy(server)
    assert not server.blob_file(big.digest).exists()
    assert server.blob_files() == {blob.digest for blob in before.blobs}
    # The server may keep the failed session for the client to cancel, or drop it at once.
    cancelled = server.v2("DELETE", location)
    assert cancelled.status_code in (204, 404), f"HTTP {cancelled.status_code} {cancelled.text}"
    if cancelled.status_code == 404:
        assert oci_error_codes(cancelled) == ["BLOB_UPLOAD_UNKNOWN"]
    assert server.upload_files() == set()
    assert server.query_database("SELECT uuid FROM uploads") == [], "an upload session row outlived its file"
    assert free_bytes(server.data_dir) >= free_before - FREE_SPACE_SLACK
    push_and_check(server, "full", "disk-full-chunked-after")
    assert_fsck_no_problem(server)
    assert sanitizer_reports(server.read_log()) == []


def fill_disk(path) -> int:
    """Write a file at `path` until the file system reports ENOSPC, and return its size."""
    chunk = b"\0" * 65536
    written = 0
    with open(path, "wb", buffering=0) as filler:
        while len(chunk) >= 512:
            try:
                written += filler.write(chunk)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                chunk = chunk[:len(chunk) // 2]
    return written


def test_requests_on_full_disk(small_disk_server):
    server = small_disk_server
    server.create_repository("full")
    before = push_and_check(server, "full", "full-disk-before")
    late = testimages.build_image("full-disk-late")
    filler = server.data_dir / "filler"
    fill_disk(filler)
    assert free_bytes(server.data_dir) < 64 * 1024

    created = server.ecr_request("CreateRepository", {"repositoryName": "made-on-full-disk"})
    uploaded = [server.v2("POST", "/full/blobs/uploads/", params={"digest": blob.digest}, data=blob.data,
                          headers=randompush.OCTET_STREAM) for blob in late.blobs]
    manifest = server.put_manifest("full", "late", late.manifest, late.media_type)
    assert_healthy(server)
    read_back = randompush.pull_problems(server, randompush.PushedImage("full", "full-disk-before", before))
    filler.unlink()

    assert created.status_code in (200, 500), f"HTTP {created.status_code} {created.text}"
    if created.status_code == 500:
        assert created.json() == {"__type": "ServerException", "message": GENERIC_ERROR_MESSAGE}
    for response in (*uploaded, manifest):
        if response.status_code != 201:
            assert_oci_error(response)
    assert read_back == []
    listed = [repository["repositoryName"] for repository in server.ecr.describe_repositories()["repositories"]]
    assert ("made-on-full-disk" in listed) == (created.status_code == 200)
    late_manifest = server.v2("GET", "/full/manifests/late", headers={"Accept": late.media_type})
    assert late_manifest.status_code == (200 if manifest.status_code == 201 else 404)
    push_and_check(server, "full", "full-disk-after")
    assert_fsck_no_problem(server)
    assert sanitizer_reports(server.read_log()) == []


# Database locked by another writer

BUSY_TIMEOUT_MS = 200
MAX_FAILURE_SECONDS = 1.0


@contextlib.contextmanager
def database_write_lock(data_dir):
    """Hold the SQLite write lock on the server's database, as a second writer (a long gc, say) would."""
    connection = sqlite3.connect(data_dir / "localecr.db", isolation_level=None, timeout=10)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        connection.close()


def timed(request):
    started = time.monotonic()
    response = request()
    return response, time.monotonic() - started


def test_busy_database_fails_writes_cleanly(server_factory):
    server = server_factory("--db-busy-timeout", str(BUSY_TIMEOUT_MS))
    server.create_repository("busy")
    image = testimages.build_image("busy-image")
    for blob in image.blobs:
        server.push_blob("busy", blob.data)
    extra = testimages.Blob(b"a blob uploaded while the database is locked" * 100, testimages.OCI_LAYER)
    server.basic_auth

    with database_write_lock(server.data_dir):
        created, create_seconds = timed(
            lambda: server.ecr_request("CreateRepository", {"repositoryName": "busy-new"}))
        put, put_seconds = timed(lambda: server.put_manifest("busy", "v1", image.manifest, image.media_type))
        uploaded, upload_seconds = timed(
            lambda: server.v2("POST", "/busy/blobs/uploads/", params={"digest": extra.digest}, data=extra.data,
                              headers=randompush.OCTET_STREAM))
        described = server.ecr_request("DescribeRepositories", {})

    assert created.status_code == 500, created.text
    assert created.json() == {"__type": "ServerException", "message": GENERIC_ERROR_MESSAGE}
    assert create_seconds < MAX_FAILURE_SECONDS
    assert put.status_code == 500, put.text
    assert oci_error_codes(put) == ["UNKNOWN"]
    assert put_seconds < MAX_FAILURE_SECONDS
    assert uploaded.status_code == 500, uploaded.text
    assert oci_error_codes(uploaded) == ["UNKNOWN"]
    assert upload_seconds < MAX_FAILURE_SECONDS
    assert described.status_code == 200, described.text
    assert [repository["repositoryName"] for repository in described.json()["repositories"]] == ["busy"]

    assert [repository["repositoryName"] for repository in server.ecr.describe_repositories()["repositories"]] \
        == ["busy"]
    assert server.v2("GET", "/busy/manifests/v1", headers={"Accept": image.media_type}).status_code == 404
    assert server.v2("HEAD", f"/busy/blobs/{extra.digest}").status_code == 404
    assert not server.blob_file(extra.digest).exists()
    assert server.upload_files() == set()

    assert server.ecr_request("CreateRepository", {"repositoryName": "busy-new"}).status_code == 200
    assert server.put_manifest("busy", "v1", image.manifest, image.media_type).status_code == 201
    server.push_blob("busy", extra.data)
    assert randompush.pull_problems(server, randompush.PushedImage("busy", "v1", image)) == []
    assert server.v2("GET", f"/busy/blobs/{extra.digest}").content == extra.data
    result = assert_fsck_no_problem(server)
    assert result.stdout.splitlines()[-1] == "0 problem(s), 0 note(s)"
    assert sanitizer_reports(server.read_log()) == []


LOCK_HOLD_SECONDS = 0.5


def test_busy_database_waits_within_timeout(server_factory):
    server = server_factory("--db-busy-timeout", "5000")
    server.basic_auth
    locked = threading.Event()
    release = threading.Event()

    def hold_lock():
        with database_write_lock(server.data_dir):
            locked.set()
            release.wait(timeout=10)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        timer = threading.Timer(LOCK_HOLD_SECONDS, release.set)
        timer.start()
        created, seconds = timed(lambda: server.ecr_request("CreateRepository", {"repositoryName": "waited"}))
    finally:
        release.set()
        holder.join(timeout=10)

    assert created.status_code == 200, created.text
    assert created.json()["repository"]["repositoryName"] == "waited"
    assert seconds >= LOCK_HOLD_SECONDS * 0.8
    assert seconds < 5.0
