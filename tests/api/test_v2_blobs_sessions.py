"""/v2/ blob ranges, blob deletion, cross-repository mounts, upload sessions and list pagination."""

import os
import re
import subprocess
import threading
import time

import pytest

import testimages
from harness import HTTP_TIMEOUT_SECONDS, find_free_port, oci_error_codes

OCTET_STREAM = {"Content-Type": "application/octet-stream"}
EXPIRY_SECONDS = 2
IDLE_SECONDS = 5
RACE_TRIALS = 40
RACE_CHUNK_BYTES = 2 * 1024 * 1024
# Larger than the bytes the server hashes inline per request before it starts a hashing thread (4 MiB).
LARGE_CHUNK_BYTES = 6 * 1024 * 1024 + 12345


def blob_of(seed: str, size: int) -> bytes:
    unit = testimages.sha256_digest(seed.encode()).encode()
    return (unit * (size // len(unit) + 1))[:size]


def push(server, repository, data: bytes) -> str:
    return server.push_blob(repository, data).headers["Docker-Content-Digest"]


def start_upload(server, repository) -> str:
    response = server.v2("POST", f"/{repository}/blobs/uploads/")
    assert response.status_code == 202, response.text
    return server.absolute(response.headers["Location"])


def uuid_of(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[1].split("?")[0]


def set_blob_mounting(server, value: str):
    response = server.ecr_request("PutAccountSetting", {"name": "BLOB_MOUNTING", "value": value})
    assert response.status_code == 200, response.text


def mount(server, repository, digest, source):
    return server.v2("POST", f"/{repository}/blobs/uploads/", params={"mount": digest, "from": source})


def assert_oci_error(response, status, code):
    assert response.status_code == status, response.text
    assert oci_error_codes(response) == [code]


def assert_upload_session(response, repository):
    """Assert that the response opens a new, empty upload session rather than mounting the blob."""
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert re.search(rf"/v2/{re.escape(repository)}/blobs/uploads/[0-9a-f-]+", location), location
    assert response.headers["Docker-Upload-UUID"] == uuid_of(location)


def follow_pages(server, url: str, key: str) -> tuple:
    """Get a list and every page that its Link headers name, and return (items, Link headers)."""
    items, links = [], []
    for _ in range(20):
        response = server.v2("GET", url)
        assert response.status_code == 200, response.text
        items.extend(response.json()[key])
        link = response.headers.get("Link")
        if link is None:
            return items, links
        links.append(link)
        match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        assert match, link
        url = server.absolute(match.group(1))
    raise AssertionError("pagination did not end")


# Blob GET with Range


@pytest.fixture
def blob(server, repository, seed):
    data = blob_of(seed, 1000)
    return repository, push(server, repository, data), data


def get_range(server, blob, header):
    repository, digest, _ = blob
    return server.v2("GET", f"/{repository}/blobs/{digest}", headers={"Range": header})


def test_blob_get_advertises_ranges(server, blob):
    repository, digest, data = blob

    response = server.v2("GET", f"/{repository}/blobs/{digest}")

    assert response.status_code == 200
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.content == data


@pytest.mark.parametrize("header,start,end", [
    ("bytes=10-19", 10, 19),
    ("bytes=0-0", 0, 0),
    ("bytes=990-", 990, 999),
    ("bytes=0-", 0, 999),
    ("bytes=-10", 990, 999),
    ("bytes=-1000", 0, 999),
    ("bytes=-5000", 0, 999),
    ("bytes=500-5000", 500, 999),
    ("bytes=999-999", 999, 999),
])
def test_blob_range(server, blob, header, start, end):
    _, digest, data = blob

    response = get_range(server, blob, header)

    assert response.status_code == 206, response.text
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/1000"
    assert response.headers["Content-Length"] == str(end - start + 1)
    assert response.headers["Docker-Content-Digest"] == digest
    assert response.content == data[start:end + 1]


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-1005", "bytes=5000-6000", "bytes=-0"])
def test_blob_range_not_satisfiable(server, blob, header):
    response = get_range(server, blob, header)

    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */1000"


def test_blob_range_unknown_unit_ignored(server, blob):
    """RFC 7233 section 3.1: an origin server MUST ignore a Range whose unit it does not understand."""
    _, _, data = blob

    response = get_range(server, blob, "items=0-9")

    assert response.status_code == 200
    assert response.content == data


def test_blob_multiple_ranges(server, blob):
    """RFC 7233 section 3.1: a server may ignore Range (200) or send multipart 206, and 416 is for invalid or unsatisfiable ranges."""
    _, _, data = blob

    response = get_range(server, blob, "bytes=0-9,20-29")

    assert response.status_code in (200, 206), response.status_code
    if response.status_code == 200:
        assert response.content == data


def test_blob_range_last_before_first(server, blob):
    """RFC 7233 sections 2.1 and 3.1: last before first is invalid, so 416 or an ignored Range (200) are both allowed."""
    _, _, data = blob

    response = get_range(server, blob, "bytes=20-10")

    assert response.status_code in (200, 416)
    if response.status_code == 200:
        assert response.content == data


def test_blob_head_ignores_range(server, blob):
    """RFC 7233 section 3.1: a server MUST ignore a Range header on any method other than GET."""
    repository, digest, _ = blob

    response = server.v2("HEAD", f"/{repository}/blobs/{digest}", headers={"Range": "bytes=0-9"})

    assert response.status_code == 200
    assert "Content-Range" not in response.headers
    assert response.headers["Content-Length"] == "1000"


# Blob DELETE


def test_blob_delete(server, blob):
    repository, digest, _ = blob

    deleted = server.v2("DELETE", f"/{repository}/blobs/{digest}")

    assert deleted.status_code == 202, deleted.text
    head = server.v2("HEAD", f"/{repository}/blobs/{digest}")
    assert head.status_code == 404
    assert_oci_error(server.v2("GET", f"/{repository}/blobs/{digest}"), 404, "BLOB_UNKNOWN")
    availability = server.ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])
    assert [f["failureCode"] for f in availability["failures"]] == ["MissingLayerDigest"]


def test_blob_delete_twice(server, blob):
    repository, digest, _ = blob
    assert server.v2("DELETE", f"/{repository}/blobs/{digest}").status_code == 202

    again = server.v2("DELETE", f"/{repository}/blobs/{digest}")

    assert_oci_error(again, 404, "BLOB_UNKNOWN")


def test_blob_delete_unknown(server, repository, seed):
    response = server.v2("DELETE", f"/{repository}/blobs/{testimages.sha256_digest(seed.encode())}")

    assert_oci_error(response, 404, "BLOB_UNKNOWN")


def test_blob_delete_malformed_digest(server, repository):
    response = server.v2("DELETE", f"/{repository}/blobs/sha256:nothex")

    assert_oci_error(response, 400, "DIGEST_INVALID")


def test_blob_delete_unknown_repository(server, repository_name, seed):
    response = server.v2("DELETE", f"/{repository_name}/blobs/{testimages.sha256_digest(seed.encode())}")

    assert_oci_error(response, 404, "NAME_UNKNOWN")


def test_blob_delete_needs_credentials(server, blob):
    repository, digest, _ = blob

    response = server.v2("DELETE", f"/{repository}/blobs/{digest}", auth=False)

    assert response.status_code == 401
    assert server.v2("HEAD", f"/{repository}/blobs/{digest}").status_code == 200


def test_blob_delete_keeps_other_copy(server, repository, repository_name, seed):
    other = repository_name + "-other"
    server.create_repository(other)
    data = blob_of(seed, 500)
    digest = push(server, repository, data)
    push(server, other, data)

    assert server.v2("DELETE", f"/{repository}/blobs/{digest}").status_code == 202

    other_copy = server.v2("GET", f"/{other}/blobs/{digest}")
    assert other_copy.status_code == 200
    assert other_copy.content == data


def test_blob_push_again_after_delete(server, blob):
    repository, digest, data = blob
    assert server.v2("DELETE", f"/{repository}/blobs/{digest}").status_code == 202

    push(server, repository, data)

    assert server.v2("GET", f"/{repository}/blobs/{digest}").content == data


# Cross-repository mount


@pytest.fixture
def mount_setup(fresh_server, seed):
    """Return a fresh server with a blob in `source` and an empty `target`, and the blob's digest and bytes.

    Account settings are registry-wide, so each mount test gets a server of its own.
    """
    fresh_server.create_repository("source")
    fresh_server.create_repository("target")
    data = blob_of(seed, 700)
    return fresh_server, push(fresh_server, "source", data), data


def test_mount_disabled_by_default(mount_setup):
    server, digest, _ = mount_setup

    response = mount(server, "target", digest, "source")

    assert_upload_session(response, "target")
    assert server.v2("HEAD", f"/target/blobs/{digest}").status_code == 404


def test_mount_when_enabled(mount_setup):
    server, digest, data = mount_setup
    set_blob_mounting(server, "ENABLED")

    response = mount(server, "target", digest, "source")

    assert response.status_code == 201, response.text
    assert response.headers["Docker-Content-Digest"] == digest
    assert response.headers["Location"].endswith(f"/v2/target/blobs/{digest}")
    fetched = server.v2("GET", f"/target/blobs/{digest}")
    assert fetched.status_code == 200
    assert fetched.content == data


def test_mount_explicitly_disabled(mount_setup):
    server, digest, _ = mount_setup
    set_blob_mounting(server, "ENABLED")
    set_blob_mounting(server, "DISABLED")

    response = mount(server, "target", digest, "source")

    assert_upload_session(response, "target")
    assert server.v2("HEAD", f"/target/blobs/{digest}").status_code == 404


def test_mount_fallback_session_usable(mount_setup, seed):
    server, digest, data = mount_setup

    response = mount(server, "target", digest, "source")
    assert_upload_session(response, "target")
    completed = server.v2("PUT", server.absolute(response.headers["Location"]), params={"digest": digest},
                          data=data, headers=OCTET_STREAM)

    assert completed.status_code == 201, completed.text
    assert server.v2("GET", f"/target/blobs/{digest}").content == data


def test_mount_blob_not_in_source(mount_setup, seed):
    server, _, _ = mount_setup
    set_blob_mounting(server, "ENABLED")
    elsewhere = blob_of(seed + "-elsewhere", 300)
    server.create_repository("third")
    digest = push(server, "third", elsewhere)

    response = mount(server, "target", digest, "source")

    assert_upload_session(response, "target")
    assert server.v2("HEAD", f"/target/blobs/{digest}").status_code == 404


def test_mount_from_unknown_repository(mount_setup):
    server, digest, _ = mount_setup
    set_blob_mounting(server, "ENABLED")

    response = mount(server, "target", digest, "no-such-source")

    assert_upload_session(response, "target")


def test_mount_into_unknown_repository(mount_setup):
    server, digest, _ = mount_setup
    set_blob_mounting(server, "ENABLED")

    response = mount(server, "no-such-target", digest, "source")

    assert_oci_error(response, 404, "NAME_UNKNOWN")


def test_mount_across_encryption_types(mount_setup):
    server, digest, data = mount_setup
    set_blob_mounting(server, "ENABLED")
    server.create_repository("kms-target", encryptionConfiguration={"encryptionType": "KMS"})

    response = mount(server, "kms-target", digest, "source")

    assert_upload_session(response, "kms-target")
    assert server.v2("HEAD", f"/kms-target/blobs/{digest}").status_code == 404


def test_mount_across_kms_keys(mount_setup, seed):
    server, _, _ = mount_setup
    set_blob_mounting(server, "ENABLED")
    key_a = "arn:aws:kms:us-east-1:000000000000:key/11111111-1111-1111-1111-111111111111"
    key_b = "arn:aws:kms:us-east-1:000000000000:key/22222222-2222-2222-2222-222222222222"
    server.create_repository("kms-a", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key_a})
    server.create_repository("kms-b", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key_b})
    server.create_repository("kms-a2", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key_a})
    digest = push(server, "kms-a", blob_of(seed + "-kms", 400))

    other_key = mount(server, "kms-b", digest, "kms-a")
    same_key = mount(server, "kms-a2", digest, "kms-a")

    assert_upload_session(other_key, "kms-b")
    assert same_key.status_code == 201, same_key.text


def test_mounted_blob_survives_source_delete(mount_setup):
    server, digest, data = mount_setup
    set_blob_mounting(server, "ENABLED")
    assert mount(server, "target", digest, "source").status_code == 201

    set_blob_mounting(server, "DISABLED")
    assert server.v2("DELETE", f"/source/blobs/{digest}").status_code == 202

    fetched = server.v2("GET", f"/target/blobs/{digest}")
    assert fetched.status_code == 200
    assert fetched.content == data


def test_mounted_blob_usable_by_manifest(mount_setup, seed):
    server, _, _ = mount_setup
    set_blob_mounting(server, "ENABLED")
    image = testimages.build_image(seed, fmt="oci")
    server.push_image("source", image, tag="v1")

    for blob in image.blobs:
        assert mount(server, "target", blob.digest, "source").status_code == 201
    put = server.put_manifest("target", "v1", image.manifest, image.media_type)

    assert put.status_code == 201, put.text


# Upload sessions


def test_upload_status(server, repository):
    location = start_upload(server, repository)
    patched = server.v2("PATCH", location, data=b"x" * 25, headers=OCTET_STREAM)
    assert patched.status_code == 202, patched.text

    status = server.v2("GET", location)

    assert status.status_code == 204
    assert status.headers["Range"] == "0-24"
    assert status.headers["Docker-Upload-UUID"] == uuid_of(location)
    assert uuid_of(status.headers["Location"]) == uuid_of(location)


def test_concurrent_patches_at_same_offset(server, repository, seed):
    """Of two PATCHes whose Content-Range both start at byte 0, only one may be written and the other gets 416."""
    for trial in range(RACE_TRIALS):
        location = start_upload(server, repository)
        chunks = [blob_of(f"{seed}-{trial}-{side}", RACE_CHUNK_BYTES) for side in ("a", "b")]
        statuses = {}

        def send(index):
            client = server.thread_client()
            statuses[index] = client.v2("PATCH", location, data=chunks[index], headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"0-{RACE_CHUNK_BYTES - 1}"}).status_code

        threads = [threading.Thread(target=send, args=(index,)) for index in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        state = server.v2("GET", location)

        assert sorted(statuses.values()) == [202, 416], (
            f"trial {trial}: both PATCHes at byte 0 returned {statuses}, and the upload now has "
            f"Range {state.headers.get('Range')}")
        assert state.headers["Range"] == f"0-{RACE_CHUNK_BYTES - 1}"
        assert server.v2("DELETE", location).status_code == 204


def test_upload_delete(server, repository):
    location = start_upload(server, repository)
    assert server.v2("PATCH", location, data=b"abc", headers=OCTET_STREAM).status_code == 202
    upload_file = server.data_dir / "uploads" / uuid_of(location)
    assert upload_file.exists()

    deleted = server.v2("DELETE", location)

    assert deleted.status_code == 204, deleted.text
    assert not upload_file.exists()
    assert_oci_error(server.v2("GET", location), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_oci_error(server.v2("PATCH", location, data=b"def", headers=OCTET_STREAM), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_oci_error(server.v2("PUT", location, params={"digest": testimages.sha256_digest(b"abc")}),
                     404, "BLOB_UPLOAD_UNKNOWN")
    assert_oci_error(server.v2("DELETE", location), 404, "BLOB_UPLOAD_UNKNOWN")


def test_upload_delete_ends_json_upload(server, repository):
    upload_id = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    deleted = server.v2("DELETE", f"/{repository}/blobs/uploads/{upload_id}")

    assert deleted.status_code == 204, deleted.text
    response = server.ecr_request("UploadLayerPart", {
        "repositoryName": repository, "uploadId": upload_id, "partFirstByte": 0, "partLastByte": 0,
        "layerPartBlob": "eA=="})
    assert response.status_code == 400
    assert response.json()["__type"] == "UploadNotFoundException"


def test_upload_of_other_repository_unknown(server, repository, repository_name):
    other = repository_name + "-other"
    server.create_repository(other)
    location = start_upload(server, other)

    response = server.v2("GET", f"/{repository}/blobs/uploads/{uuid_of(location)}")

    assert_oci_error(response, 404, "BLOB_UPLOAD_UNKNOWN")


def patch_chunk(server, location: str, data: bytes, offset: int) -> str:
    """Send one PATCH at `offset`, require 202 and return the next Location."""
    patched = server.v2("PATCH", location, data=data, headers={
        "Content-Type": "application/octet-stream", "Content-Range": f"{offset}-{offset + len(data) - 1}"})
    assert patched.status_code == 202, patched.text
    return server.absolute(patched.headers["Location"])


def assert_blob_content(server, repository, digest: str, data: bytes):
    fetched = server.v2("GET", f"/{repository}/blobs/{digest}")
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["Docker-Content-Digest"] == digest
    assert len(fetched.content) == len(data)
    assert fetched.content == data


def test_large_chunked_upload(server, repository):
    # Random bytes, so a chunk hashed twice or at the wrong offset changes the digest.
    data = os.urandom(2 * LARGE_CHUNK_BYTES + 777)
    digest = testimages.sha256_digest(data)
    location = start_upload(server, repository)
    location = patch_chunk(server, location, data[:LARGE_CHUNK_BYTES], 0)
    location = patch_chunk(server, location, data[LARGE_CHUNK_BYTES:2 * LARGE_CHUNK_BYTES], LARGE_CHUNK_BYTES)

    completed = server.v2("PUT", location, params={"digest": digest}, data=data[2 * LARGE_CHUNK_BYTES:],
                          headers=OCTET_STREAM)

    assert completed.status_code == 201, completed.text
    assert completed.headers["Docker-Content-Digest"] == digest
    assert_blob_content(server, repository, digest, data)


def test_large_upload_wrong_digest(server, repository):
    data = os.urandom(LARGE_CHUNK_BYTES)
    claimed = testimages.sha256_digest(data[:-1] + bytes([data[-1] ^ 1]))
    location = start_upload(server, repository)

    completed = server.v2("PUT", location, params={"digest": claimed}, data=data, headers=OCTET_STREAM)

    assert_oci_error(completed, 400, "DIGEST_INVALID")
    assert server.v2("HEAD", f"/{repository}/blobs/{claimed}").status_code == 404
    assert server.v2("HEAD", f"/{repository}/blobs/{testimages.sha256_digest(data)}").status_code == 404
    assert_oci_error(server.v2("GET", location), 404, "BLOB_UPLOAD_UNKNOWN")


def test_large_upload_resumes_after_restart(server_factory):
    """A restart loses the in-memory hash state, so the server hashes the bytes on disk again."""
    server = server_factory()
    server.create_repository("resumed")
    data = os.urandom(2 * LARGE_CHUNK_BYTES)
    digest = testimages.sha256_digest(data)
    location = patch_chunk(server, start_upload(server, "resumed"), data[:LARGE_CHUNK_BYTES], 0)

    server.restart()
    location = patch_chunk(server, location, data[LARGE_CHUNK_BYTES:], LARGE_CHUNK_BYTES)
    completed = server.v2("PUT", location, params={"digest": digest})

    assert completed.status_code == 201, completed.text
    assert_blob_content(server, "resumed", digest, data)


class PausedBody:
    """A request body sent in pieces: the first `before` pieces, then a wait for `resume`, then the rest."""

    def __init__(self, pieces: list, before: int):
        self.pieces = pieces
        self.before = before
        self.paused = threading.Event()
        self.resume = threading.Event()

    def __iter__(self):
        for index, piece in enumerate(self.pieces):
            if index == self.before:
                self.paused.set()
                assert self.resume.wait(HTTP_TIMEOUT_SECONDS)
            yield piece


def send_in_background(server, method: str, location: str, body, **kwargs) -> dict:
    """Start `method location` with a streamed body on a thread; the result dict gets its response."""
    result = {}
    client = server.thread_client()

    def send():
        result["response"] = client.v2(method, location, data=body, headers=OCTET_STREAM, **kwargs)

    result["thread"] = threading.Thread(target=send)
    result["thread"].start()
    return result


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_session_deleted_while_body_streams(server, repository, method):
    data = os.urandom(LARGE_CHUNK_BYTES)
    location = start_upload(server, repository)
    body = PausedBody([data[:5 * 1024 * 1024], data[5 * 1024 * 1024:]], before=1)
    params = {"digest": testimages.sha256_digest(data)} if method == "PUT" else None
    sending = send_in_background(server, method, location, body, params=params)
    assert body.paused.wait(HTTP_TIMEOUT_SECONDS)
    time.sleep(0.3)

    deleted = server.v2("DELETE", location)
    body.resume.set()
    sending["thread"].join(HTTP_TIMEOUT_SECONDS)

    assert deleted.status_code == 204, deleted.text
    assert_oci_error(sending["response"], 404, "BLOB_UPLOAD_UNKNOWN")
    assert_oci_error(server.v2("GET", location), 404, "BLOB_UPLOAD_UNKNOWN")
    assert server.v2("HEAD", f"/{repository}/blobs/{testimages.sha256_digest(data)}").status_code == 404
    assert uuid_of(location) not in server.upload_files()


def test_streaming_session_not_expired(server_factory):
    """A session that receives bytes slowly is active, whatever its last completed request."""
    server = server_factory("--upload-expiry", str(EXPIRY_SECONDS))
    server.create_repository("slow")
    pieces = [os.urandom(256 * 1024) for _ in range(8)]
    data = b"".join(pieces)
    location = start_upload(server, "slow")

    def slowly():
        for piece in pieces:
            time.sleep(0.7)
            yield piece

    patched = server.v2("PATCH", location, data=slowly(), headers=OCTET_STREAM, timeout=60)
    completed = server.v2("PUT", server.absolute(patched.headers.get("Location", location)),
                          params={"digest": testimages.sha256_digest(data)})

    assert patched.status_code == 202, patched.text
    assert patched.headers["Range"] == f"0-{len(data) - 1}"
    assert completed.status_code == 201, completed.text
    assert_blob_content(server, "slow", testimages.sha256_digest(data), data)


@pytest.mark.parametrize("content_range", ["0-0", "0-9", "0-18446744073709551615"])
def test_content_range_must_match_length(server, repository, content_range):
    location = start_upload(server, repository)

    patched = server.v2("PATCH", location, data=b"12345", headers={
        "Content-Type": "application/octet-stream", "Content-Range": content_range})

    assert patched.status_code == 416, patched.text
    assert patched.headers["Range"] == "0-0"
    assert server.v2("GET", location).status_code == 204


@pytest.mark.parametrize("content_range", ["0--1", "-0-4", "0-+4", "+0-4"])
def test_content_range_signed_numbers_rejected(server, repository, content_range):
    location = start_upload(server, repository)

    patched = server.v2("PATCH", location, data=b"12345", headers={
        "Content-Type": "application/octet-stream", "Content-Range": content_range})

    assert_oci_error(patched, 400, "BLOB_UPLOAD_INVALID")


def test_idle_upload_sessions_expire(server_factory):
    server = server_factory("--upload-expiry", str(EXPIRY_SECONDS))
    server.create_repository("expiry")
    idle = start_upload(server, "expiry")
    assert server.v2("PATCH", idle, data=b"idle", headers=OCTET_STREAM).status_code == 202
    idle_file = server.data_dir / "uploads" / uuid_of(idle)
    assert idle_file.exists()
    idle_json = server.ecr.initiate_layer_upload(repositoryName="expiry")["uploadId"]
    active = start_upload(server, "expiry")
    received = 0

    deadline = time.monotonic() + IDLE_SECONDS
    while time.monotonic() < deadline:
        patched = server.v2("PATCH", active, data=b"k", headers={
            "Content-Type": "application/octet-stream", "Content-Range": f"{received}-{received}"})
        assert patched.status_code == 202, f"active session lost after {received} patches: {patched.text}"
        received += 1
        active = server.absolute(patched.headers["Location"])
        time.sleep(0.5)

    assert_oci_error(server.v2("GET", idle), 404, "BLOB_UPLOAD_UNKNOWN")
    assert not idle_file.exists()
    part = server.ecr_request("UploadLayerPart", {
        "repositoryName": "expiry", "uploadId": idle_json, "partFirstByte": 0, "partLastByte": 0,
        "layerPartBlob": "eA=="})
    assert part.status_code == 400
    assert part.json()["__type"] == "UploadNotFoundException"
    status = server.v2("GET", active)
    assert status.status_code == 204, status.text
    assert status.headers["Range"] == f"0-{received - 1}"


def test_json_parts_keep_upload_alive(server_factory):
    server = server_factory("--upload-expiry", str(EXPIRY_SECONDS))
    server.create_repository("expiry")
    upload_id = server.ecr.initiate_layer_upload(repositoryName="expiry")["uploadId"]
    data = b""

    deadline = time.monotonic() + IDLE_SECONDS
    while time.monotonic() < deadline:
        response = server.ecr_request("UploadLayerPart", {
            "repositoryName": "expiry", "uploadId": upload_id, "partFirstByte": len(data),
            "partLastByte": len(data), "layerPartBlob": "eA=="})
        assert response.status_code == 200, f"upload lost after {len(data)} parts: {response.text}"
        data += b"x"
        time.sleep(0.5)

    status = server.v2("GET", f"/expiry/blobs/uploads/{upload_id}")
    assert status.status_code == 204, status.text


@pytest.mark.parametrize("value", ["0", "-5", "abc", "", "2s", "99999999999"])
def test_upload_expiry_option_rejected(localecr_binary, tmp_path, value):
    command = [str(localecr_binary), "serve", "--listen", f"127.0.0.1:{find_free_port()}",
               "--data-dir", str(tmp_path / "data"), "--upload-expiry", value]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"localecr started with --upload-expiry {value!r}")

    assert process.returncode != 0
    assert "--upload-expiry" in stderr


# Pagination of tags/list and _catalog


def test_tags_list_link_header(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="t0")
    for index in range(1, 5):
        assert server.put_manifest(repository, f"t{index}", image.manifest, image.media_type).status_code == 201

    tags, links = follow_pages(server, f"/{repository}/tags/list?n=2", "tags")

    assert tags == ["t0", "t1", "t2", "t3", "t4"]
    assert links == [f'</v2/{repository}/tags/list?n=2&last=t1>; rel="next"',
                     f'</v2/{repository}/tags/list?n=2&last=t3>; rel="next"']


def test_tags_list_last_without_n(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="a")
    for tag in ("b", "c", "d"):
        server.put_manifest(repository, tag, image.manifest, image.media_type)

    response = server.v2("GET", f"/{repository}/tags/list", params={"last": "b"})

    assert response.status_code == 200
    assert response.json()["tags"] == ["c", "d"]
    assert "Link" not in response.headers


def test_tags_list_exact_page_has_no_link(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="a")
    server.put_manifest(repository, "b", image.manifest, image.media_type)

    response = server.v2("GET", f"/{repository}/tags/list", params={"n": "2"})

    assert response.json()["tags"] == ["a", "b"]
    assert "Link" not in response.headers


def test_tags_list_n_limits(server, repository, seed):
    server.push_image(repository, testimages.build_image(seed), tag="only")

    accepted = server.v2("GET", f"/{repository}/tags/list", params={"n": "1000"})
    rejected = server.v2("GET", f"/{repository}/tags/list", params={"n": "1001"})

    assert accepted.status_code == 200
    assert accepted.json()["tags"] == ["only"]
    assert_oci_error(rejected, 400, "UNSUPPORTED")
    assert "1000" in rejected.json()["errors"][0]["message"]


def test_tags_list_n_not_a_number(server, repository):
    response = server.v2("GET", f"/{repository}/tags/list", params={"n": "many"})

    assert_oci_error(response, 400, "UNSUPPORTED")


def test_catalog_pagination(fresh_server):
    for name in ("cat-a", "cat-b", "cat-c"):
        fresh_server.create_repository(name)

    names, links = follow_pages(fresh_server, "/_catalog?n=2", "repositories")

    assert names == ["cat-a", "cat-b", "cat-c"]
    assert links == ['</v2/_catalog?n=2&last=cat-b>; rel="next"']


def test_catalog_last(fresh_server):
    for name in ("cat-a", "cat-b", "cat-c"):
        fresh_server.create_repository(name)

    response = fresh_server.v2("GET", "/_catalog", params={"last": "cat-a", "n": "1"})

    assert response.json()["repositories"] == ["cat-b"]
    assert response.headers["Link"] == '</v2/_catalog?n=1&last=cat-b>; rel="next"'


def test_catalog_n_over_1000(fresh_server):
    response = fresh_server.v2("GET", "/_catalog", params={"n": "1001"})

    assert_oci_error(response, 400, "UNSUPPORTED")
