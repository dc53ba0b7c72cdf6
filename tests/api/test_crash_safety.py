"""A server killed with SIGKILL during concurrent pushes keeps every acknowledged image and a consistent store.

The crash test is random but reproducible from one seed: it prints the seed,
names it in every failure message, and takes it from LOCALECR_CRASH_SEED
when that is set. Thread scheduling still varies between runs, so a rerun
with the same seed repeats the images and kill times, not the exact interleaving.
"""

import os
import random
import re
import shutil
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

import randompush
import testimages
from harness import fsck_lines, sanitizer_reports

ROUNDS = 5
THREADS = 8
REPOSITORIES = [f"crash/app-{index}" for index in range(3)]
MIN_PUSH_SECONDS = 0.2
MAX_PUSH_SECONDS = 2.0
REQUEST_TIMEOUT_SECONDS = 10
# A worker stops on its own this long after its round began, even if the kill never comes.
WORKER_DEADLINE_SECONDS = MAX_PUSH_SECONDS + 5
SHARED_LAYER_COUNT = 4
MAX_PROBLEMS_SHOWN = 40
SWEEP_LOG_LINE = re.compile(r"upload sweep removed (\d+) file\(s\)")


def crash_seed() -> int:
    configured = os.environ.get("LOCALECR_CRASH_SEED")
    return int(configured) if configured else random.SystemRandom().randrange(2**32)


class PushWorkers:
    """Threads that push random images until the server is killed, and what the server acknowledged."""

    def __init__(self, server, seed: int, round_index: int, shared_layers: list):
        self.server = server
        self.seed = seed
        self.round_index = round_index
        self.shared_layers = shared_layers
        self.killing = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged = []
        self.unexpected = []

    def record_unexpected(self, text: str):
        with self.lock:
            self.unexpected.append(text)

    def run(self, thread_index: int):
        rng = random.Random(f"{self.seed}/{self.round_index}/{thread_index}")
        client = self.server.thread_client()
        deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
        push_index = 0
        while not self.killing.is_set() and time.monotonic() < deadline:
            repository = rng.choice(REPOSITORIES)
            tag = f"r{self.round_index}-t{thread_index}-{push_index}"
            push_index += 1
            image = randompush.random_image(rng, tag, shared_layers=self.shared_layers)
            try:
                response = randompush.push_random_image(client, repository, image, tag, rng,
                                                        REQUEST_TIMEOUT_SECONDS)
            except requests.RequestException as error:
                # Connection errors are expected once the kill began, but they are a bug before it.
                if not self.killing.is_set():
                    self.record_unexpected(f"{repository}:{tag}: request failed before the kill: {error!r}")
                return
            except randompush.UnexpectedResponse as error:
                # Any complete HTTP reply came from a live server, so it must follow the protocol.
                self.record_unexpected(f"{repository}:{tag}: {error}")
                continue
            if response.status_code == 201:
                with self.lock:
                    self.acknowledged.append(randompush.PushedImage(repository, tag, image))
            else:
                self.record_unexpected(f"{repository}:{tag}: manifest PUT: HTTP {response.status_code} "
                                       f"{response.text[:300]}")


def query_database_copy(data_dir: Path, scratch: Path, sql: str) -> list:
    """Run `sql` on a copy of localecr.db and its WAL, so that the files stay as the crash left them."""
    scratch.mkdir(parents=True)
    try:
        for suffix in ("", "-wal"):
            source = data_dir / f"localecr.db{suffix}"
            if source.exists():
                shutil.copyfile(source, scratch / source.name)
        connection = sqlite3.connect(scratch / "localecr.db")
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()
    finally:
        shutil.rmtree(scratch)


def start_resumable_upload(server, rng: random.Random, round_index: int):
    """Open an upload session and send the first half of a one-layer image's layer.

    Returns the image to push, the session URL and the number of bytes sent.
    """
    repository = REPOSITORIES[0]
    tag = f"resumed-{round_index}"
    image = randompush.random_image(rng, tag, max_layers=1)
    layer = image.layers[0]
    location = randompush.open_session(server, repository, REQUEST_TIMEOUT_SECONDS)
    offset = len(layer.data) // 2
    if offset > 0:
        location = randompush.patch_chunk(server, location, layer.data[:offset], 0, REQUEST_TIMEOUT_SECONDS)
    return randompush.PushedImage(repository, tag, image), location, offset


def finish_resumable_upload(server, pushed, location: str, offset: int):
    """Send the rest of the layer to a session opened before the kill, then push the image's manifest."""
    layer = pushed.image.layers[0]
    location = randompush.patch_chunk(server, location, layer.data[offset:], offset, REQUEST_TIMEOUT_SECONDS)
    randompush.close_session(server, location, layer.digest, REQUEST_TIMEOUT_SECONDS)
    randompush.upload_monolithic(server, pushed.repository, pushed.image.config, REQUEST_TIMEOUT_SECONDS)
    response = server.put_manifest(pushed.repository, pushed.tag, pushed.image.manifest, pushed.image.media_type)
    randompush.expect_status(f"manifest PUT of {pushed.repository}:{pushed.tag}", response, 201)


def store_problems(server) -> list:
    """Compare the live database with the files: blob rows, blob links and upload sessions."""
    problems = []
    for digest, size in server.query_database("SELECT digest, size FROM blobs"):
        path = server.blob_file(digest)
        if not path.is_file():
            problems.append(f"blob row {digest} has no file {path}")
        elif path.stat().st_size != size:
            problems.append(f"blob row {digest} records {size} bytes but {path} has {path.stat().st_size}")
    orphan_links = server.query_database(
        "SELECT repository_id, digest FROM blob_links WHERE digest NOT IN (SELECT digest FROM blobs)")
    problems += [f"blob link of repository {repo_id} names {digest}, which has no blob row"
                 for repo_id, digest in orphan_links]
    sessions = {name for (name,) in server.query_database("SELECT uuid FROM uploads")}
    files = server.upload_files()
    problems += [f"upload file uploads/{name} has no session" for name in sorted(files - sessions)]
    problems += [f"upload session {name} has no file" for name in sorted(sessions - files)]
    return problems


def pull_all(server, pushed_images: list) -> list:
    """Pull every image in parallel and return the problems found."""
    local = threading.local()

    def check(pushed):
        if not hasattr(local, "client"):
            local.client = server.thread_client()
        return randompush.pull_problems(local.client, pushed)

    with ThreadPoolExecutor(THREADS) as pool:
        return [problem for problems in pool.map(check, pushed_images) for problem in problems]


class ProblemList:
    """Problems found so far, each listed once with the round that first showed it."""

    def __init__(self):
        self.first_seen = {}

    def add(self, where: str, texts):
        for text in texts:
            self.first_seen.setdefault(text, where)

    def lines(self) -> list:
        return [f"{where}: {text}" for text, where in self.first_seen.items()]


def test_sigkill_during_pushes_keeps_acknowledged(server_factory, tmp_path):
    seed = crash_seed()
    context = f"crash seed {seed} (rerun with LOCALECR_CRASH_SEED={seed})"
    print(context)
    rng = random.Random(seed)
    server = server_factory("--create-on-push")
    server.basic_auth  # The token outlives restarts, so every round reuses it.
    shared_layers = [rng.randbytes(rng.randint(1000, 100_000)) for _ in range(SHARED_LAYER_COUNT)]
    acknowledged = []
    worker_acknowledged = 0
    problems = ProblemList()

    for round_index in range(ROUNDS):
        where = f"round {round_index}"
        resumed, location, offset = start_resumable_upload(server, rng, round_index)
        workers = PushWorkers(server, seed, round_index, shared_layers)
        threads = [threading.Thread(target=workers.run, args=(index,), daemon=True) for index in range(THREADS)]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(MIN_PUSH_SECONDS, MAX_PUSH_SECONDS))
        workers.killing.set()
        server.kill()
        for thread in threads:
            thread.join(timeout=2 * REQUEST_TIMEOUT_SECONDS)
        assert not any(thread.is_alive() for thread in threads), f"{context}: push threads still running"
        acknowledged += workers.acknowledged
        worker_acknowledged += len(workers.acknowledged)
        problems.add(where, workers.unexpected)

        if round_index == 0:
            # A file no session owns, as a crash between file creation and row insertion leaves.
            (server.data_dir / "uploads" / str(uuid.uuid4())).write_bytes(b"left by a crash")
        sessions = {name for (name,) in query_database_copy(server.data_dir, tmp_path / f"db-{round_index}",
                                                            "SELECT uuid FROM uploads")}
        unowned = server.upload_files() - sessions
        log_mark = server.log_path.stat().st_size

        server.start()

        swept = [int(count) for count in SWEEP_LOG_LINE.findall(server.read_log(log_mark))]
        expected_swept = [len(unowned)] if unowned else []
        if swept != expected_swept:
            problems.add(where, [f"sweep log lines report {swept} removed files, "
                                 f"expected {expected_swept} for {sorted(unowned)}"])
        problems.add(f"{where}, after restart", store_problems(server))
        try:
            finish_resumable_upload(server, resumed, location, offset)
            acknowledged.append(resumed)
        except randompush.UnexpectedResponse as error:
            problems.add(where, [f"upload session opened before the kill: {error}"])
        checked = server.fsck()
        print(f"{where}: fsck output:\n{checked.stdout}")
        problems.add(f"{where}, fsck", fsck_lines(checked, "problem"))
        if checked.returncode != 0:
            problems.add(f"{where}, fsck", [f"exited with {checked.returncode}; stderr: {checked.stderr.strip()!r}"])

    problems.add("final pull", pull_all(server, acknowledged))
    after = testimages.build_image(f"after-crash-{seed}")
    server.push_image(REPOSITORIES[0], after, tag="after-crash")
    problems.add("push after the last restart",
                 randompush.pull_problems(server, randompush.PushedImage(REPOSITORIES[0], "after-crash", after)))
    # gc must clear what the crashes left (blob files without rows) and keep every acknowledged image.
    collected = server.gc("--grace", "0")
    if collected.returncode != 0:
        problems.add("gc after the last restart", [f"exited with {collected.returncode}: {collected.stderr.strip()}"])
    problems.add("pull after gc", pull_all(server, acknowledged))
    checked = server.fsck()
    print(f"fsck output after gc:\n{checked.stdout}")
    problems.add("fsck after gc", fsck_lines(checked, "problem") + fsck_lines(checked, "note"))
    problems.add("server log", [f"sanitizer: {line}" for line in sanitizer_reports(server.read_log())])

    assert worker_acknowledged > 0, f"{context}: no push was acknowledged, so the test checked nothing"
    lines = problems.lines()
    assert lines == [], (f"{context}: {len(lines)} problem(s) with {len(acknowledged)} acknowledged images:\n"
                         + "\n".join(lines[:MAX_PROBLEMS_SHOWN]))


# Parallel uploads of one blob

SAME_BLOB_THREADS = 16
SAME_BLOB_BYTES = 1_000_000


@pytest.mark.parametrize("layout", ["one-repository", "own-repositories"])
def test_same_blob_pushed_concurrently(fresh_server, layout):
    blob = testimages.Blob(random.Random(layout).randbytes(SAME_BLOB_BYTES), testimages.OCI_LAYER)
    if layout == "one-repository":
        repositories = ["same-blob"] * SAME_BLOB_THREADS
    else:
        repositories = [f"same-blob-{index}" for index in range(SAME_BLOB_THREADS)]
    for name in sorted(set(repositories)):
        fresh_server.create_repository(name)
    fresh_server.basic_auth
    barrier = threading.Barrier(SAME_BLOB_THREADS)

    def push(index):
        client = fresh_server.thread_client()
        barrier.wait(timeout=30)
        if index % 2 == 0:
            randompush.upload_monolithic(client, repositories[index], blob, REQUEST_TIMEOUT_SECONDS)
        else:
            randompush.upload_chunked(client, repositories[index], blob, random.Random(index),
                                      REQUEST_TIMEOUT_SECONDS)

    with ThreadPoolExecutor(SAME_BLOB_THREADS) as pool:
        list(pool.map(push, range(SAME_BLOB_THREADS)))

    assert fresh_server.blob_files() == {blob.digest}
    stored = [path for path in (fresh_server.data_dir / "blobs").rglob("*") if path.is_file()]
    assert stored == [fresh_server.blob_file(blob.digest)]
    assert stored[0].read_bytes() == blob.data
    assert fresh_server.upload_files() == set()
    for name in sorted(set(repositories)):
        fetched = fresh_server.v2("GET", f"/{name}/blobs/{blob.digest}")
        assert fetched.status_code == 200, f"{name}: HTTP {fetched.status_code} {fetched.text}"
        assert fetched.content == blob.data, name
    checked = fresh_server.fsck()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[-1] == "0 problem(s), 0 note(s)"
    assert sanitizer_reports(fresh_server.read_log()) == []
