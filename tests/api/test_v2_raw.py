"""The OCI distribution API under /v2/, driven with raw HTTP where clients hide the detail."""

import hashlib
import http.client
import json
import re
import socket
import uuid

import pytest

import testimages
from harness import ACCOUNT_ID, oci_error_codes, repository_not_found_message

OCTET_STREAM = {"Content-Type": "application/octet-stream"}
ALL_MANIFEST_TYPES = ", ".join([testimages.DOCKER_MANIFEST, testimages.DOCKER_MANIFEST_LIST,
                                testimages.OCI_MANIFEST, testimages.OCI_INDEX])


def start_upload(server, repository) -> str:
    """Open an upload session and return its absolute Location URL."""
    response = server.v2("POST", f"/{repository}/blobs/uploads/")
    assert response.status_code == 202, response.text
    return server.absolute(response.headers["Location"])


def chunks_of(data: bytes, size: int):
    for offset in range(0, len(data), size):
        yield data[offset:offset + size]


def blob_status(server, repository, digest) -> int:
    return server.v2("HEAD", f"/{repository}/blobs/{digest}").status_code


def assert_oci_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    assert [error["code"] for error in errors] == [code]
    assert isinstance(errors[0]["message"], str)


def read_http_head(sock) -> bytes:
    """Read from a socket up to the end of one HTTP response head."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received


# Blob uploads


def test_monolithic_upload(server, repository, seed):
    data = testimages.make_layer({"file": seed.encode() * 100})
    digest = testimages.sha256_digest(data)

    response = server.v2("POST", f"/{repository}/blobs/uploads/", params={"digest": digest},
                         data=data, headers=OCTET_STREAM)

    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == digest
    assert response.headers["Location"].endswith(f"/v2/{repository}/blobs/{digest}")
    fetched = server.v2("GET", f"/{repository}/blobs/{digest}")
    assert fetched.status_code == 200
    assert fetched.content == data


def test_chunked_patch_upload(server, repository, seed):
    data = (seed.encode() * 40000)[:1_000_003]
    digest = testimages.sha256_digest(data)
    location = start_upload(server, repository)

    # A generator body makes requests send Transfer-Encoding: chunked.
    patched = server.v2("PATCH", location, data=chunks_of(data, 65536), headers=OCTET_STREAM)

    assert patched.status_code == 202, patched.text
    assert patched.headers["Range"] == f"0-{len(data) - 1}"
    assert "Location" in patched.headers
    completed = server.v2("PUT", server.absolute(patched.headers["Location"]), params={"digest": digest})
    assert completed.status_code == 201, completed.text
    assert completed.headers["Docker-Content-Digest"] == digest
    assert server.v2("GET", f"/{repository}/blobs/{digest}").content == data


def test_patches_in_sequence(server, repository, seed):
    data = (seed.encode() * 5000)[:30000]
    digest = testimages.sha256_digest(data)
    location = start_upload(server, repository)

    for start in range(0, len(data), 10000):
        part = data[start:start + 10000]
        response = server.v2("PATCH", location, data=part, headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(part) - 1}"})
        assert response.status_code == 202, response.text
        assert response.headers["Range"] == f"0-{start + len(part) - 1}"
        location = server.absolute(response.headers["Location"])

    completed = server.v2("PUT", location, params={"digest": digest})
    assert completed.status_code == 201, completed.text
    assert server.v2("GET", f"/{repository}/blobs/{digest}").content == data


def test_final_bytes_sent_with_put(server, repository, seed):
    data = (seed.encode() * 100)[:4000]
    digest = testimages.sha256_digest(data)
    location = start_upload(server, repository)
    patched = server.v2("PATCH", location, data=data[:1000], headers=OCTET_STREAM)
    assert patched.status_code == 202, patched.text

    completed = server.v2("PUT", server.absolute(patched.headers["Location"]), params={"digest": digest},
                          data=data[1000:], headers=OCTET_STREAM)

    assert completed.status_code == 201, completed.text
    assert server.v2("GET", f"/{repository}/blobs/{digest}").content == data


def test_upload_status_reports_range(server, repository, seed):
    location = start_upload(server, repository)
    patched = server.v2("PATCH", location, data=b"0123456789", headers=OCTET_STREAM)
    assert patched.status_code == 202, patched.text

    status = server.v2("GET", server.absolute(patched.headers["Location"]))

    assert status.status_code == 204
    assert status.headers["Range"] == "0-9"


def test_out_of_order_patch_rejected(server, repository):
    location = start_upload(server, repository)
    first = server.v2("PATCH", location, data=b"0123456789",
                      headers={"Content-Type": "application/octet-stream", "Content-Range": "0-9"})
    assert first.status_code == 202, first.text

    gap = server.v2("PATCH", server.absolute(first.headers["Location"]), data=b"abcdefghij",
                    headers={"Content-Type": "application/octet-stream", "Content-Range": "20-29"})

    assert gap.status_code == 416


def test_put_digest_mismatch_rejected(server, repository, seed):
    data = (seed.encode() * 100)[:2000]
    wrong = testimages.sha256_digest(data + b"!")
    location = start_upload(server, repository)
    patched = server.v2("PATCH", location, data=data, headers=OCTET_STREAM)
    assert patched.status_code == 202, patched.text

    completed = server.v2("PUT", server.absolute(patched.headers["Location"]), params={"digest": wrong})

    assert_oci_error(completed, 400, "DIGEST_INVALID")
    assert blob_status(server, repository, wrong) == 404
    assert blob_status(server, repository, testimages.sha256_digest(data)) == 404


def test_monolithic_digest_mismatch_rejected(server, repository, seed):
    data = (seed.encode() * 100)[:2000]
    wrong = testimages.sha256_digest(b"other " + data)

    response = server.v2("POST", f"/{repository}/blobs/uploads/", params={"digest": wrong},
                         data=data, headers=OCTET_STREAM)

    assert_oci_error(response, 400, "DIGEST_INVALID")
    assert blob_status(server, repository, wrong) == 404
    assert blob_status(server, repository, testimages.sha256_digest(data)) == 404


@pytest.mark.parametrize("digest", ["sha256:xyz", "md5:d41d8cd98f00b204e9800998ecf8427e", "nonsense"])
def test_malformed_digest_rejected(server, repository, digest):
    response = server.v2("POST", f"/{repository}/blobs/uploads/", params={"digest": digest},
                         data=b"payload", headers=OCTET_STREAM)

    assert response.status_code == 400
    assert oci_error_codes(response) == ["DIGEST_INVALID"]


def test_cancelled_upload_gone(server, repository):
    location = start_upload(server, repository)

    cancelled = server.v2("DELETE", location)

    assert cancelled.status_code == 204
    after = server.v2("PATCH", location, data=b"late", headers=OCTET_STREAM)
    assert_oci_error(after, 404, "BLOB_UPLOAD_UNKNOWN")


def test_unknown_upload_rejected(server, repository):
    response = server.v2("PATCH", f"/{repository}/blobs/uploads/{uuid.uuid4()}", data=b"data",
                         headers=OCTET_STREAM)

    assert_oci_error(response, 404, "BLOB_UPLOAD_UNKNOWN")


def test_upload_to_unknown_repository(server, repository_name):
    response = server.v2("POST", f"/{repository_name}/blobs/uploads/")

    assert_oci_error(response, 404, "NAME_UNKNOWN")
    assert response.json()["errors"][0]["message"] == repository_not_found_message(repository_name)


def test_expect_continue_upload(server, repository, seed):
    data = (seed.encode() * 1000)[:50000]
    digest = testimages.sha256_digest(data)
    head = (f"POST /v2/{repository}/blobs/uploads/?digest={digest} HTTP/1.1\r\n"
            f"Host: {server.host}\r\n"
            f"Authorization: {server.basic_auth}\r\n"
            "Content-Type: application/octet-stream\r\n"
            f"Content-Length: {len(data)}\r\n"
            "Expect: 100-continue\r\n"
            "Connection: close\r\n\r\n")

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        interim = read_http_head(sock)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(data)
        final = read_http_head(sock)

    assert final.split(b"\r\n", 1)[0].split(b" ")[1] == b"201", final
    assert blob_status(server, repository, digest) == 200


# Blob reads


def test_blob_head_matches_get(server, repository, seed):
    data = testimages.make_layer({"f": seed.encode()})
    digest = testimages.sha256_digest(data)
    server.push_blob(repository, data)

    head = server.v2("HEAD", f"/{repository}/blobs/{digest}")
    get = server.v2("GET", f"/{repository}/blobs/{digest}")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["Docker-Content-Digest"] == digest
    assert get.status_code == 200
    assert get.headers["Docker-Content-Digest"] == digest
    assert get.headers["Content-Length"] == str(len(data))
    assert get.content == data


def test_blob_range_request(server, repository, seed):
    data = (seed.encode() * 100)[:1000]
    digest = testimages.sha256_digest(data)
    server.push_blob(repository, data)

    partial = server.v2("GET", f"/{repository}/blobs/{digest}", headers={"Range": "bytes=10-19"})

    # HTTP lets a server ignore Range and send the whole blob with 200.
    assert partial.status_code in (200, 206)
    if partial.status_code == 206:
        assert partial.content == data[10:20]
        assert partial.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    else:
        assert partial.content == data


def test_blob_unknown(server, repository, seed):
    digest = testimages.sha256_digest(seed.encode())

    head = server.v2("HEAD", f"/{repository}/blobs/{digest}")
    get = server.v2("GET", f"/{repository}/blobs/{digest}")

    assert head.status_code == 404
    assert head.content == b""
    assert_oci_error(get, 404, "BLOB_UNKNOWN")


def test_blob_invisible_from_other_repository(server, repository, seed):
    other = repository + "-other"
    server.create_repository(other)
    data = testimages.make_layer({"f": seed.encode()})
    server.push_blob(repository, data)

    response = server.v2("GET", f"/{other}/blobs/{testimages.sha256_digest(data)}")

    assert_oci_error(response, 404, "BLOB_UNKNOWN")


# Manifests


@pytest.mark.parametrize("fmt,multi", [("docker", False), ("oci", False), ("docker", True), ("oci", True)])
def test_manifest_put_and_get(server, repository, seed, fmt, multi):
    image = (testimages.build_index if multi else testimages.build_image)(seed, fmt=fmt)
    if multi:
        for child in image.images:
            server.push_image(repository, child)
    else:
        for blob in image.blobs:
            server.push_blob(repository, blob.data)

    put = server.put_manifest(repository, "v1", image.manifest, image.media_type)

    assert put.status_code == 201, put.text
    assert put.headers["Docker-Content-Digest"] == image.digest
    assert put.headers["Location"].endswith(f"/v2/{repository}/manifests/{image.digest}")
    for reference in ("v1", image.digest):
        got = server.v2("GET", f"/{repository}/manifests/{reference}",
                        headers={"Accept": image.media_type})
        assert got.status_code == 200, got.text
        assert got.content == image.manifest
        assert got.headers["Content-Type"] == image.media_type
        assert got.headers["Docker-Content-Digest"] == image.digest


def test_manifest_repush_same_tag_accepted(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="v1")

    # In a mutable repository an unchanged re-push succeeds, as docker push expects.
    again = server.put_manifest(repository, "v1", image.manifest, image.media_type)

    assert again.status_code == 201, again.text
    assert again.headers["Docker-Content-Digest"] == image.digest
    listed = server.ecr.list_images(repositoryName=repository)["imageIds"]
    assert listed == [{"imageDigest": image.digest, "imageTag": "v1"}]


def test_manifest_head_matches_get(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="v1")

    head = server.v2("HEAD", f"/{repository}/manifests/v1", headers={"Accept": image.media_type})

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(image.manifest))
    assert head.headers["Content-Type"] == image.media_type
    assert head.headers["Docker-Content-Digest"] == image.digest


def test_manifest_head_unknown(server, repository):
    head = server.v2("HEAD", f"/{repository}/manifests/nope", headers={"Accept": ALL_MANIFEST_TYPES})

    assert head.status_code == 404
    assert head.content == b""


@pytest.mark.parametrize("fmt", ["docker", "oci"])
@pytest.mark.parametrize("accept", [ALL_MANIFEST_TYPES, "*/*",
                                    f"{testimages.OCI_MANIFEST};q=0.5, {testimages.DOCKER_MANIFEST};q=0.9"])
def test_manifest_accept_includes_stored_type(server, repository, seed, fmt, accept):
    image = testimages.build_image(seed, fmt=fmt)
    server.push_image(repository, image, tag="v1")

    got = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": accept})

    assert got.status_code == 200, got.text
    assert got.content == image.manifest
    assert got.headers["Content-Type"] == image.media_type


@pytest.mark.parametrize("stored_fmt,requested_fmt", [("oci", "docker"), ("docker", "oci")])
def test_manifest_by_tag_translated(server, repository, seed, stored_fmt, requested_fmt):
    # ECR user guide, image manifest conversion: a pull by tag whose Accept header
    # lacks the stored format gets the manifest translated into one it accepts.
    image = testimages.build_image(seed, fmt=stored_fmt, layer_count=2)
    server.push_image(repository, image, tag="v1")
    requested = testimages.FORMATS[requested_fmt]

    got = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": requested["manifest"]})

    assert got.status_code == 200, got.text
    assert got.headers["Content-Type"] == requested["manifest"]
    assert got.headers["Docker-Content-Digest"] == testimages.sha256_digest(got.content)
    document = json.loads(got.content)
    assert document["schemaVersion"] == 2
    assert document["config"]["digest"] == image.config.digest
    assert document["config"]["mediaType"] == requested["config"]
    assert [layer["digest"] for layer in document["layers"]] == [layer.digest for layer in image.layers]
    assert {layer["mediaType"] for layer in document["layers"]} == {requested["layer"]}


def test_manifest_by_digest_never_translated(server, repository, seed):
    image = testimages.build_image(seed, fmt="oci")
    server.push_image(repository, image, tag="v1")

    got = server.v2("GET", f"/{repository}/manifests/{image.digest}",
                    headers={"Accept": testimages.DOCKER_MANIFEST})

    # ECR user guide: "If you pull an image by digest, there is no translation
    # available". The pull either fails or returns the stored bytes unchanged.
    if got.status_code == 200:
        assert got.content == image.manifest
        assert got.headers["Docker-Content-Digest"] == image.digest
    else:
        assert 400 <= got.status_code < 500


@pytest.mark.parametrize("media_type", [testimages.DOCKER_SCHEMA1, testimages.DOCKER_SCHEMA1_SIGNED])
def test_manifest_schema1_rejected(server, repository, seed, media_type):
    manifest, layer = testimages.schema1_image(repository, "v1", seed)
    server.push_blob(repository, layer)

    put = server.put_manifest(repository, "v1", manifest, media_type)

    assert_oci_error(put, 400, "MANIFEST_INVALID")
    assert server.v2("GET", f"/{repository}/manifests/v1",
                     headers={"Accept": ALL_MANIFEST_TYPES}).status_code == 404


@pytest.mark.parametrize("missing", ["config", "layer"])
def test_manifest_blob_unknown(server, repository, seed, missing):
    image = testimages.build_image(seed)
    uploaded = image.layers if missing == "config" else [image.config]
    for blob in uploaded:
        server.push_blob(repository, blob.data)

    put = server.put_manifest(repository, "v1", image.manifest, image.media_type)

    assert_oci_error(put, 400, "MANIFEST_BLOB_UNKNOWN")
    get = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": image.media_type})
    assert_oci_error(get, 404, "MANIFEST_UNKNOWN")


def test_manifest_blob_in_other_repository_unknown(server, repository, seed):
    other = repository + "-other"
    server.create_repository(other)
    image = testimages.build_image(seed)
    for blob in image.blobs:
        server.push_blob(other, blob.data)

    put = server.put_manifest(repository, "v1", image.manifest, image.media_type)

    assert_oci_error(put, 400, "MANIFEST_BLOB_UNKNOWN")


def test_index_with_missing_child_rejected(server, repository, seed):
    index = testimages.build_index(seed, fmt="oci")
    server.push_image(repository, index.images[0])

    put = server.put_manifest(repository, "multi", index.manifest, index.media_type)

    assert put.status_code == 400, put.text
    # NOTE: the code real ECR uses here was not observed. The distribution
    # reference registry returns MANIFEST_BLOB_UNKNOWN, and the other two name
    # the same fault, so any of the three passes.
    assert oci_error_codes(put)[0] in ("MANIFEST_BLOB_UNKNOWN", "MANIFEST_UNKNOWN", "MANIFEST_INVALID")
    got = server.v2("GET", f"/{repository}/manifests/multi", headers={"Accept": index.media_type})
    assert got.status_code == 404


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"schemaVersion": 2}'])
def test_manifest_invalid_rejected(server, repository, body):
    put = server.put_manifest(repository, "v1", body, testimages.OCI_MANIFEST)

    assert_oci_error(put, 400, "MANIFEST_INVALID")


def test_manifest_digest_reference_mismatch(server, repository, seed):
    image = testimages.build_image(seed)
    for blob in image.blobs:
        server.push_blob(repository, blob.data)
    other_digest = testimages.sha256_digest(image.manifest + b" ")

    put = server.put_manifest(repository, other_digest, image.manifest, image.media_type)

    assert_oci_error(put, 400, "DIGEST_INVALID")


def test_manifest_put_by_digest_untagged(server, repository, seed):
    image = testimages.build_image(seed)

    server.push_image(repository, image)

    listed = server.ecr.list_images(repositoryName=repository)["imageIds"]
    assert listed == [{"imageDigest": image.digest}]


def test_manifest_unknown(server, repository, seed):
    for reference in ("nope", testimages.sha256_digest(seed.encode())):
        got = server.v2("GET", f"/{repository}/manifests/{reference}", headers={"Accept": ALL_MANIFEST_TYPES})

        assert_oci_error(got, 404, "MANIFEST_UNKNOWN")
        assert got.json()["errors"][0]["message"] == "Requested image not found"


def test_manifest_unknown_repository(server, repository_name):
    got = server.v2("GET", f"/{repository_name}/manifests/latest", headers={"Accept": ALL_MANIFEST_TYPES})

    assert_oci_error(got, 404, "NAME_UNKNOWN")
    assert got.json()["errors"][0]["message"] == repository_not_found_message(repository_name)


def test_manifest_push_to_unknown_repository(server, repository_name, seed):
    image = testimages.build_image(seed)

    put = server.put_manifest(repository_name, "v1", image.manifest, image.media_type)

    assert_oci_error(put, 404, "NAME_UNKNOWN")
    assert put.json()["errors"][0]["message"] == (
        f"The repository with name '{repository_name}' does not exist in the registry "
        f"with id '{ACCOUNT_ID}'")


def test_manifest_delete_by_digest(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="v1")

    deleted = server.v2("DELETE", f"/{repository}/manifests/{image.digest}")

    assert deleted.status_code == 202
    for reference in ("v1", image.digest):
        got = server.v2("GET", f"/{repository}/manifests/{reference}", headers={"Accept": image.media_type})
        assert_oci_error(got, 404, "MANIFEST_UNKNOWN")


def test_manifest_delete_by_tag(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="v1")
    server.put_manifest(repository, "v2", image.manifest, image.media_type)

    deleted = server.v2("DELETE", f"/{repository}/manifests/v1")

    assert deleted.status_code == 202
    deleted_tag = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": image.media_type})
    assert_oci_error(deleted_tag, 404, "MANIFEST_UNKNOWN")
    other_tag = server.v2("GET", f"/{repository}/manifests/v2", headers={"Accept": image.media_type})
    assert other_tag.status_code == 200


def test_manifest_delete_unknown(server, repository, seed):
    deleted = server.v2("DELETE", f"/{repository}/manifests/{testimages.sha256_digest(seed.encode())}")

    assert_oci_error(deleted, 404, "MANIFEST_UNKNOWN")


# Tags


def test_tags_list(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="v1")
    for tag in ("v2", "latest"):
        server.put_manifest(repository, tag, image.manifest, image.media_type)
    server.push_image(repository, testimages.build_image(seed + "-untagged"))

    response = server.v2("GET", f"/{repository}/tags/list")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == repository
    assert sorted(body["tags"]) == ["latest", "v1", "v2"]


def test_tags_list_pagination(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="t0")
    expected = ["t0"]
    for index in range(1, 5):
        server.put_manifest(repository, f"t{index}", image.manifest, image.media_type)
        expected.append(f"t{index}")

    seen = []
    url = f"/{repository}/tags/list?n=2"
    for _ in range(10):
        response = server.v2("GET", url)
        assert response.status_code == 200, response.text
        tags = response.json()["tags"]
        assert len(tags) <= 2
        seen.extend(tags)
        link = response.headers.get("Link")
        if not link:
            break
        match = re.match(r'<([^>]+)>;\s*rel="next"', link)
        assert match, link
        target = match.group(1)
        url = target if target.startswith("http") else server.url + target

    assert sorted(seen) == expected


def test_tags_list_unknown_repository(server, repository_name):
    response = server.v2("GET", f"/{repository_name}/tags/list")

    assert_oci_error(response, 404, "NAME_UNKNOWN")


# Streaming and connection handling


def test_large_blob_streamed(server, repository):
    part = bytes(range(256)) * 4096
    count = 64
    digest_state = hashlib.sha256()
    for _ in range(count):
        digest_state.update(part)
    digest = "sha256:" + digest_state.hexdigest()
    location = start_upload(server, repository)

    patched = server.v2("PATCH", location, data=(part for _ in range(count)), headers=OCTET_STREAM)

    assert patched.status_code == 202, patched.text
    assert patched.headers["Range"] == f"0-{len(part) * count - 1}"
    completed = server.v2("PUT", server.absolute(patched.headers["Location"]), params={"digest": digest})
    assert completed.status_code == 201, completed.text
    head = server.v2("HEAD", f"/{repository}/blobs/{digest}")
    assert head.headers["Content-Length"] == str(len(part) * count)
    fetched = server.v2("GET", f"/{repository}/blobs/{digest}", stream=True)
    received = hashlib.sha256()
    for chunk in fetched.iter_content(1 << 20):
        received.update(chunk)
    assert "sha256:" + received.hexdigest() == digest


@pytest.mark.parametrize("auth", [True, False])
def test_error_keeps_connection_usable(server, repository_name, auth):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Content-Type": "application/octet-stream"}
    if auth:
        headers["Authorization"] = server.basic_auth
    try:
        # A server that responds before reading the request body must read the
        # body or close the connection. Otherwise the body is parsed as the next request.
        connection.request("POST", f"/v2/{repository_name}/blobs/uploads/?digest=sha256:{'0' * 64}",
                           body=b"x" * 100000, headers=headers)
        first = connection.getresponse()
        first.read()
        assert first.status == (404 if auth else 401)
        if first.getheader("Connection", "").lower() == "close":
            connection.close()
        connection.request("GET", "/v2/", headers={"Authorization": server.basic_auth})
        second = connection.getresponse()
        second.read()
    finally:
        connection.close()

    assert second.status == 200


# Repository names, mounts and the catalog


def test_nested_repository_name(server, repository_name, seed):
    name = f"{repository_name}/team/service"
    server.create_repository(name)
    image = testimages.build_image(seed)

    server.push_image(name, image, tag="v1")

    got = server.v2("GET", f"/{name}/manifests/v1", headers={"Accept": image.media_type})
    assert got.status_code == 200
    assert got.content == image.manifest
    assert server.v2("GET", f"/{name}/tags/list").json() == {"name": name, "tags": ["v1"]}


def test_put_upload_without_digest_rejected(server, repository):
    location = start_upload(server, repository)

    completed = server.v2("PUT", location, data=b"some bytes", headers=OCTET_STREAM)

    assert completed.status_code == 400
    assert oci_error_codes(completed) == ["DIGEST_INVALID"]


def test_mount_from_other_repository(server, repository, seed):
    source = repository + "-source"
    server.create_repository(source)
    data = testimages.make_layer({"mounted": seed.encode()})
    digest = testimages.sha256_digest(data)
    server.push_blob(source, data)

    mounted = server.v2("POST", f"/{repository}/blobs/uploads/", params={"mount": digest, "from": source})

    # The OCI distribution spec lets a registry either mount the blob (201) or
    # fall back to an ordinary upload session (202).
    assert mounted.status_code in (201, 202), mounted.text
    if mounted.status_code == 202:
        completed = server.v2("PUT", server.absolute(mounted.headers["Location"]), params={"digest": digest},
                              data=data, headers=OCTET_STREAM)
        assert completed.status_code == 201, completed.text
    fetched = server.v2("GET", f"/{repository}/blobs/{digest}")
    assert fetched.status_code == 200
    assert fetched.content == data


def test_catalog_lists_repositories(fresh_server):
    names = ["catalog-a", "catalog-b/nested"]
    for name in names:
        fresh_server.create_repository(name)

    response = fresh_server.v2("GET", "/_catalog")

    assert response.status_code == 200
    assert sorted(response.json()["repositories"]) == names


def test_oci_artifact_manifest(server, repository, seed):
    config = testimages.Blob(b"{}", "application/vnd.oci.empty.v1+json")
    payload = testimages.Blob(seed.encode() * 10, "text/plain")
    manifest = testimages.encode_json({
        "schemaVersion": 2,
        "mediaType": testimages.OCI_MANIFEST,
        "artifactType": "application/vnd.example.note.v1",
        "config": config.descriptor(),
        "layers": [payload.descriptor()],
    })
    for blob in (config, payload):
        server.push_blob(repository, blob.data)

    put = server.put_manifest(repository, "note", manifest, testimages.OCI_MANIFEST)

    assert put.status_code == 201, put.text
    got = server.v2("GET", f"/{repository}/manifests/note", headers={"Accept": testimages.OCI_MANIFEST})
    assert got.content == manifest
    detail = server.ecr.describe_images(repositoryName=repository)["imageDetails"][0]
    assert detail["imageDigest"] == testimages.sha256_digest(manifest)
    assert detail["imageSizeInBytes"] == payload.size


# Limits and hostile input


def test_upload_session_bound_to_repository(server, repository):
    other = repository + "-other"
    server.create_repository(other)
    location = start_upload(server, repository)
    upload_id = location.split("/blobs/uploads/")[1].split("?")[0]

    foreign = server.v2("PATCH", f"/{other}/blobs/uploads/{upload_id}", data=b"data", headers=OCTET_STREAM)

    assert_oci_error(foreign, 404, "BLOB_UPLOAD_UNKNOWN")


def test_oversized_manifest_rejected(server, repository, seed):
    # The ECR API model limits imageManifest to 4,194,304 characters.
    image = testimages.build_image(seed)
    for blob in image.blobs:
        server.push_blob(repository, blob.data)
    document = json.loads(image.manifest)
    document["annotations"] = {"padding": "x" * 4_194_304}
    manifest = testimages.encode_json(document)

    put = server.put_manifest(repository, "big", manifest, image.media_type)

    assert 400 <= put.status_code < 500
    got = server.v2("GET", f"/{repository}/manifests/big", headers={"Accept": image.media_type})
    assert got.status_code == 404


@pytest.mark.parametrize("path", [
    "/../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/blobs/sha256:" + "0" * 64,
    "/repository/blobs/sha256:..%2f..%2f..%2fetc%2fpasswd",
    "/repository/blobs/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/repository/manifests/..%2F..%2Flocalecr.db",
])
def test_path_traversal_rejected(server, path):
    # http.client sends the path as written; requests would remove the dot segments.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", "/v2" + path, headers={"Authorization": server.basic_auth})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert 400 <= response.status < 500
    assert b"root:" not in body
    assert b"SQLite format" not in body
