"""localecr fsck finds damaged stores and localecr gc removes unreferenced blobs, also next to a running server."""

import hashlib
import random
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

import randompush
import testimages
from harness import fsck_lines, oci_error_codes, sanitizer_reports

GC_OUTPUT = re.compile(r"removed (\d+) blob\(s\), (\d+) bytes")
REQUEST_TIMEOUT_SECONDS = 30


def fsck_summary(result) -> str:
    lines = result.stdout.splitlines()
    return lines[-1] if lines else ""


def assert_fsck_clean(server):
    result = server.fsck()
    assert result.returncode == 0, result.stdout + result.stderr
    assert fsck_lines(result, "problem") == []
    assert fsck_summary(result) == "0 problem(s), 0 note(s)"


def gc_removed(result) -> tuple:
    """Return (blob count, bytes) from the output line of a successful localecr gc."""
    assert result.returncode == 0, f"gc exited with {result.returncode}: {result.stdout}{result.stderr}"
    match = GC_OUTPUT.fullmatch(result.stdout.strip())
    assert match, f"unexpected gc output: {result.stdout!r}"
    return int(match.group(1)), int(match.group(2))


def random_digest() -> str:
    return "sha256:" + hashlib.sha256(uuid.uuid4().bytes).hexdigest()


def write_orphan_blob(server, data: bytes) -> str:
    """Store `data` as a blob file under its digest without a database row, as an interrupted upload leaves it."""
    digest = testimages.sha256_digest(data)
    path = server.blob_file(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def pushed_image(server, repository: str, seed: str, tag: str, **kwargs) -> testimages.Image:
    image = testimages.build_image(seed, **kwargs)
    server.push_image(repository, image, tag=tag)
    return image


# fsck


def test_fsck_empty_store(fresh_server):
    assert_fsck_clean(fresh_server)


def test_fsck_healthy_store(fresh_server):
    fresh_server.create_repository("healthy")
    pushed_image(fresh_server, "healthy", "fsck-healthy", "v1", layer_count=2)
    fresh_server.push_image("healthy", testimages.build_index("fsck-healthy-index"), tag="multi")
    chunked = testimages.Blob(b"chunked blob" * 1000, testimages.DOCKER_LAYER)
    randompush.upload_chunked(fresh_server, "healthy", chunked, random.Random(1), REQUEST_TIMEOUT_SECONDS)
    randompush.open_session(fresh_server, "healthy", REQUEST_TIMEOUT_SECONDS)

    assert_fsck_clean(fresh_server)


@pytest.mark.parametrize("damage", ["append", "flip", "truncate", "empty"])
def test_fsck_damaged_blob_file(fresh_server, damage):
    fresh_server.create_repository("damaged")
    image = pushed_image(fresh_server, "damaged", f"fsck-{damage}", "v1", layer_bytes=5000)
    layer = image.layers[0]
    path = fresh_server.blob_file(layer.digest)
    data = bytearray(path.read_bytes())
    if damage == "append":
        data.append(0)
    elif damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        del data[-1]
    else:
        data.clear()
    path.write_bytes(bytes(data))

    result = fresh_server.fsck()

    assert result.returncode == 1, result.stdout + result.stderr
    problems = fsck_lines(result, "problem")
    assert problems, result.stdout
    assert all(layer.digest in line for line in problems), result.stdout
    assert not any(image.config.digest in line for line in result.stdout.splitlines()), result.stdout


def test_fsck_missing_blob_file(fresh_server):
    fresh_server.create_repository("missing")
    image = pushed_image(fresh_server, "missing", "fsck-missing", "v1")
    fresh_server.blob_file(image.config.digest).unlink()

    result = fresh_server.fsck()

    assert result.returncode == 1, result.stdout + result.stderr
    problems = fsck_lines(result, "problem")
    assert problems, result.stdout
    assert all(image.config.digest in line for line in problems), result.stdout
    assert fsck_summary(result).startswith(f"{len(problems)} problem(s)")


def test_fsck_orphan_blob_file_is_note(fresh_server):
    fresh_server.create_repository("orphan")
    pushed_image(fresh_server, "orphan", "fsck-orphan", "v1")
    digest = write_orphan_blob(fresh_server, b"bytes that no database row records")

    result = fresh_server.fsck()

    assert result.returncode == 0, result.stdout + result.stderr
    assert fsck_lines(result, "problem") == []
    notes = fsck_lines(result, "note")
    assert len(notes) == 1, result.stdout
    assert digest in notes[0]
    assert fsck_summary(result) == "0 problem(s), 1 note(s)"
    assert fresh_server.blob_file(digest).exists()


def test_fsck_upload_session_without_file(fresh_server):
    fresh_server.create_repository("lost-upload")
    location = randompush.open_session(fresh_server, "lost-upload", REQUEST_TIMEOUT_SECONDS)
    session = location.rstrip("/").rsplit("/", 1)[1]
    (fresh_server.data_dir / "uploads" / session).unlink()

    result = fresh_server.fsck()

    assert result.returncode == 1, result.stdout + result.stderr
    problems = fsck_lines(result, "problem")
    assert len(problems) == 1, result.stdout
    assert session in problems[0]


def test_fsck_keeps_stray_upload_file(fresh_server):
    # fsck must change nothing (the contract in registry/check.c), and it lists upload files no session owns as notes.
    stray = fresh_server.data_dir / "uploads" / str(uuid.uuid4())
    stray.write_bytes(b"left by a crash")

    result = fresh_server.fsck()

    assert result.returncode == 0, result.stdout + result.stderr
    assert stray.exists(), "fsck removed an upload file"
    notes = fsck_lines(result, "note")
    assert any(stray.name in line for line in notes), result.stdout


def test_fsck_missing_data_dir(fresh_server, tmp_path):
    result = fresh_server.fsck(data_dir=tmp_path / "no-such-dir")

    assert result.returncode == 2
    assert "no-such-dir" in result.stderr
    assert not (tmp_path / "no-such-dir").exists()


def test_fsck_dir_without_database(fresh_server, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()

    result = fresh_server.fsck(data_dir=empty)

    assert result.returncode == 2
    assert list(empty.iterdir()) == []


def test_fsck_unknown_option(fresh_server):
    result = fresh_server.fsck("--grace", "0")

    assert result.returncode == 2
    assert "--grace" in result.stderr


# gc


def with_layers(image: testimages.Image) -> testimages.Image:
    """Rebuild the manifest of `image` after its layer list changed."""
    document = {
        "schemaVersion": 2,
        "mediaType": image.media_type,
        "config": image.config.descriptor(),
        "layers": [layer.descriptor() for layer in image.layers],
    }
    return testimages.Image(image.config, image.layers, testimages.encode_json(document), image.media_type,
                            image.platform)


def test_gc_removes_deleted_image_blobs(fresh_server):
    server = fresh_server
    server.create_repository("gc")
    shared = testimages.Blob(testimages.make_layer({"shared": b"base layer" * 100}), testimages.DOCKER_LAYER)
    kept = testimages.build_image("gc-kept", layer_count=2)
    dropped = testimages.build_image("gc-dropped", layer_count=2)
    kept.layers.append(shared)
    dropped.layers.append(shared)
    kept = with_layers(kept)
    dropped = with_layers(dropped)
    server.push_image("gc", kept, tag="kept")
    server.push_image("gc", dropped, tag="dropped")
    deleted = server.ecr.batch_delete_image(repositoryName="gc", imageIds=[{"imageTag": "dropped"}])
    assert deleted["failures"] == []
    garbage = [blob for blob in dropped.blobs if blob.digest != shared.digest]

    assert gc_removed(server.gc()) == (0, 0)
    assert all(server.blob_file(blob.digest).exists() for blob in dropped.blobs)

    assert gc_removed(server.gc("--grace", "0")) == (len(garbage), sum(blob.size for blob in garbage))

    for blob in garbage:
        assert not server.blob_file(blob.digest).exists(), blob.digest
        fetched = server.v2("GET", f"/gc/blobs/{blob.digest}")
        assert fetched.status_code == 404, blob.digest
        assert oci_error_codes(fetched) == ["BLOB_UNKNOWN"]
    assert randompush.pull_problems(server, randompush.PushedImage("gc", "kept", kept)) == []
    assert server.blob_files() == {blob.digest for blob in kept.blobs}
    assert gc_removed(server.gc("--grace", "0")) == (0, 0)
    assert_fsck_clean(server)


def test_gc_removes_deleted_repository_blobs(fresh_server):
    fresh_server.create_repository("gc-repo")
    image = pushed_image(fresh_server, "gc-repo", "gc-deleted-repo", "v1")
    fresh_server.ecr.delete_repository(repositoryName="gc-repo", force=True)

    assert gc_removed(fresh_server.gc("--grace", "0")) == (len(image.blobs), sum(b.size for b in image.blobs))

    assert fresh_server.blob_files() == set()
    assert_fsck_clean(fresh_server)


def test_gc_keeps_index_children_blobs(fresh_server):
    fresh_server.create_repository("gc-index")
    index = testimages.build_index("gc-index")
    fresh_server.push_image("gc-index", index, tag="multi")

    assert gc_removed(fresh_server.gc("--grace", "0")) == (0, 0)

    for child in index.images:
        pushed = randompush.PushedImage("gc-index", child.digest, child)
        assert randompush.pull_problems(fresh_server, pushed) == []
    assert_fsck_clean(fresh_server)


def test_gc_unreferenced_upload_and_grace(fresh_server):
    fresh_server.create_repository("gc-upload")
    blob = testimages.Blob(b"uploaded but never named by a manifest" * 10, testimages.OCI_LAYER)
    fresh_server.push_blob("gc-upload", blob.data)

    assert gc_removed(fresh_server.gc()) == (0, 0)
    assert fresh_server.blob_file(blob.digest).exists()
    assert gc_removed(fresh_server.gc("--grace", "3600")) == (0, 0)

    assert gc_removed(fresh_server.gc("--grace", "0")) == (1, blob.size)
    assert not fresh_server.blob_file(blob.digest).exists()
    assert fresh_server.v2("HEAD", f"/gc-upload/blobs/{blob.digest}").status_code == 404


def test_gc_removes_orphan_blob_file(fresh_server):
    data = b"a blob file without a database row"
    digest = write_orphan_blob(fresh_server, data)

    assert gc_removed(fresh_server.gc()) == (0, 0)
    assert fresh_server.blob_file(digest).exists()

    assert gc_removed(fresh_server.gc("--grace", "0")) == (1, len(data))
    assert not fresh_server.blob_file(digest).exists()
    assert_fsck_clean(fresh_server)


def test_gc_keeps_open_upload_sessions(fresh_server):
    fresh_server.create_repository("gc-session")
    blob = testimages.Blob(b"a layer sent in two parts" * 100, testimages.OCI_LAYER)
    location = randompush.open_session(fresh_server, "gc-session", REQUEST_TIMEOUT_SECONDS)
    half = blob.size // 2
    location = randompush.patch_chunk(fresh_server, location, blob.data[:half], 0, REQUEST_TIMEOUT_SECONDS)

    assert gc_removed(fresh_server.gc("--grace", "0")) == (0, 0)

    location = randompush.patch_chunk(fresh_server, location, blob.data[half:], half, REQUEST_TIMEOUT_SECONDS)
    randompush.close_session(fresh_server, location, blob.digest, REQUEST_TIMEOUT_SECONDS)
    assert fresh_server.v2("GET", f"/gc-session/blobs/{blob.digest}").content == blob.data


@pytest.mark.parametrize("grace", ["-1", "abc", ""])
def test_gc_invalid_grace(fresh_server, grace):
    result = fresh_server.gc("--grace", grace)

    assert result.returncode == 2
    assert "--grace" in result.stderr


def test_gc_missing_data_dir(fresh_server, tmp_path):
    result = fresh_server.gc(data_dir=tmp_path / "no-such-dir")

    assert result.returncode == 2
    assert not (tmp_path / "no-such-dir").exists()


# gc next to a running server

CONCURRENT_PUSH_THREADS = 4
CONCURRENT_PUSH_SECONDS = 3.0
# The pause lets some pushes finish between two gc runs: gc --grace 0 removes every blob no manifest names yet.
GC_PAUSE_SECONDS = 0.1
MAX_GC_RUNS = 40


def test_gc_during_concurrent_pushes(fresh_server):
    server = fresh_server
    seed = random.SystemRandom().randrange(2**32)
    context = f"seed {seed}"
    repositories = [f"gc-live-{index}" for index in range(2)]
    for name in repositories:
        server.create_repository(name)
    server.basic_auth
    shared_layers = [random.Random(f"{seed}/shared/{index}").randbytes(20_000) for index in range(3)]
    stop = threading.Event()
    lock = threading.Lock()
    acknowledged = []
    blob_unknown = []
    unexpected = []

    def push(thread_index):
        rng = random.Random(f"{seed}/{thread_index}")
        client = server.thread_client()
        deadline = time.monotonic() + CONCURRENT_PUSH_SECONDS
        push_index = 0
        while time.monotonic() < deadline and not stop.is_set():
            repository = rng.choice(repositories)
            tag = f"t{thread_index}-{push_index}"
            push_index += 1
            image = randompush.random_image(rng, tag, max_layer_bytes=50_000, shared_layers=shared_layers)
            try:
                response = randompush.push_random_image(client, repository, image, tag, rng,
                                                        REQUEST_TIMEOUT_SECONDS)
            except randompush.UnexpectedResponse as error:
                with lock:
                    unexpected.append(f"{repository}:{tag}: {error}")
                continue
            with lock:
                if response.status_code == 201:
                    acknowledged.append(randompush.PushedImage(repository, tag, image))
                elif response.status_code == 400 and oci_error_codes(response) == ["MANIFEST_BLOB_UNKNOWN"]:
                    blob_unknown.append(f"{repository}:{tag}")
                else:
                    unexpected.append(f"{repository}:{tag}: manifest PUT: HTTP {response.status_code} "
                                      f"{response.text[:300]}")

    gc_results = []
    with ThreadPoolExecutor(CONCURRENT_PUSH_THREADS) as pool:
        futures = [pool.submit(push, index) for index in range(CONCURRENT_PUSH_THREADS)]
        try:
            while not all(future.done() for future in futures) and len(gc_results) < MAX_GC_RUNS:
                gc_results.append(server.gc("--grace", "0"))
                time.sleep(GC_PAUSE_SECONDS)
        finally:
            stop.set()
        for future in futures:
            future.result()

    print(f"{context}: {len(acknowledged)} acknowledged, {len(blob_unknown)} MANIFEST_BLOB_UNKNOWN, "
          f"{len(gc_results)} gc runs: {[result.stdout.strip() for result in gc_results]}")
    assert len(gc_results) >= 2, f"{context}: gc ran only {len(gc_results)} time(s) during the pushes"
    failed_gc = [f"exit {result.returncode}: {result.stdout}{result.stderr}" for result in gc_results
                 if result.returncode != 0]
    assert failed_gc == [], context
    assert acknowledged, f"{context}: no push was acknowledged, so the test checked nothing"
    problems = [problem for pushed in acknowledged for problem in randompush.pull_problems(server, pushed)]
    assert problems == [], context
    assert unexpected == [], f"{context}:\n" + "\n".join(unexpected)
    assert_fsck_clean(server)

    gc_removed(server.gc("--grace", "0"))

    problems = [problem for pushed in acknowledged for problem in randompush.pull_problems(server, pushed)]
    assert problems == [], context
    assert_fsck_clean(server)
    assert sanitizer_reports(server.read_log()) == []
