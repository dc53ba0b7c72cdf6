"""The layer operations of the ECR JSON API: uploads in parts, availability checks and download URLs.

InitiateLayerUpload, UploadLayerPart and CompleteLayerUpload share upload
sessions and blobs with /v2/, so a layer pushed one way is seen the other way.
boto3 drives the happy paths; raw requests check what botocore hides, such as
the extra members of InvalidLayerPartException.
"""

import base64
import re
import subprocess
import threading
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

import testimages
from harness import ACCOUNT_ID, client_error, oci_error_codes, repository_not_found_message

MIB = 1024 * 1024
RACE_TRIALS = 30
RACE_PART_BYTES = 2 * MIB
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SKOPEO = "/usr/bin/skopeo"


# Helpers


def layer_bytes(seed: str, size: int) -> bytes:
    """Return deterministic bytes of exactly `size`, different for every seed."""
    unit = testimages.sha256_digest(seed.encode()).encode()
    return (unit * (size // len(unit) + 1))[:size]


def upload_parts(server, repository: str, data: bytes, part_sizes) -> str:
    """Initiate an upload, send `data` cut into `part_sizes`, and return the upload ID."""
    upload_id = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    offset = 0
    for size in part_sizes:
        part = data[offset:offset + size]
        response = server.ecr.upload_layer_part(
            repositoryName=repository, uploadId=upload_id, partFirstByte=offset,
            partLastByte=offset + len(part) - 1, layerPartBlob=part)
        assert response["lastByteReceived"] == offset + len(part) - 1
        offset += len(part)
    assert offset == len(data), "part_sizes must cover the data"
    return upload_id


def upload_layer(server, repository: str, data: bytes, part_sizes=None) -> str:
    """Upload `data` through the JSON API, complete it and return its digest."""
    digest = testimages.sha256_digest(data)
    upload_id = upload_parts(server, repository, data, part_sizes or [len(data)])
    completed = server.ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id,
                                                 layerDigests=[digest])
    assert completed["layerDigest"] == digest
    return digest


def raw_part(server, repository: str, upload_id: str, first: int, last: int, data: bytes):
    """Send UploadLayerPart as raw JSON, so any byte range can be claimed."""
    return server.ecr_request("UploadLayerPart", {
        "repositoryName": repository, "uploadId": upload_id, "partFirstByte": first,
        "partLastByte": last, "layerPartBlob": base64.b64encode(data).decode()})


def assert_invalid_part(response, repository: str, upload_id: str, last_valid: int):
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["__type"] == "InvalidLayerPartException"
    assert body["message"] != ""
    assert body["registryId"] == ACCOUNT_ID
    assert body["repositoryName"] == repository
    assert body["uploadId"] == upload_id
    assert body["lastValidByteReceived"] == last_valid


def expect_error(call, **kwargs) -> tuple:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    return client_error(excinfo)


# InitiateLayerUpload


def test_initiate_returns_uuid_and_part_size(server, repository):
    response = server.ecr.initiate_layer_upload(repositoryName=repository)

    assert UUID_PATTERN.match(response["uploadId"]), response["uploadId"]
    assert response["partSize"] == 10 * MIB


def test_initiate_gives_distinct_upload_ids(server, repository):
    first = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    second = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    assert first != second


def test_initiate_unknown_repository(server, repository_name):
    status, code, message = expect_error(server.ecr.initiate_layer_upload, repositoryName=repository_name)

    assert (status, code) == (400, "RepositoryNotFoundException")
    assert message == repository_not_found_message(repository_name)


# UploadLayerPart and CompleteLayerUpload: success


def test_single_small_part_upload(server, repository, seed):
    data = layer_bytes(seed, 1000)
    digest = testimages.sha256_digest(data)
    upload_id = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    part = server.ecr.upload_layer_part(repositoryName=repository, uploadId=upload_id, partFirstByte=0,
                                        partLastByte=len(data) - 1, layerPartBlob=data)
    completed = server.ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id,
                                                 layerDigests=[digest])

    assert part["registryId"] == ACCOUNT_ID
    assert part["repositoryName"] == repository
    assert part["uploadId"] == upload_id
    assert part["lastByteReceived"] == len(data) - 1
    assert completed["registryId"] == ACCOUNT_ID
    assert completed["repositoryName"] == repository
    assert completed["uploadId"] == upload_id
    assert completed["layerDigest"] == digest
    fetched = server.v2("GET", f"/{repository}/blobs/{digest}")
    assert fetched.status_code == 200
    assert fetched.content == data


def test_multi_part_upload(server, repository, seed):
    data = layer_bytes(seed, 10 * MIB + 1234)

    digest = upload_layer(server, repository, data, [5 * MIB, 5 * MIB, 1234])

    fetched = server.v2("GET", f"/{repository}/blobs/{digest}")
    assert fetched.status_code == 200
    assert fetched.content == data


def test_part_of_exactly_20_mib_accepted(server, repository, seed):
    data = layer_bytes(seed, 20 * MIB)

    digest = upload_layer(server, repository, data, [20 * MIB])

    head = server.v2("HEAD", f"/{repository}/blobs/{digest}")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(20 * MIB)


def test_upload_session_visible_on_v2(server, repository, seed):
    """An upload opened with InitiateLayerUpload is also an upload session on /v2/."""
    data = layer_bytes(seed, 3000)
    upload_id = upload_parts(server, repository, data[:1000], [1000])

    status = server.v2("GET", f"/{repository}/blobs/uploads/{upload_id}")
    assert status.status_code == 204, status.text
    assert status.headers["Range"] == "0-999"
    assert status.headers["Docker-Upload-UUID"] == upload_id


# UploadLayerPart: errors


def test_part_with_gap_rejected(server, repository, seed):
    data = layer_bytes(seed, 300)
    upload_id = upload_parts(server, repository, data[:100], [100])

    response = raw_part(server, repository, upload_id, 200, 299, data[200:300])

    assert_invalid_part(response, repository, upload_id, 99)


def test_overlapping_part_rejected(server, repository, seed):
    data = layer_bytes(seed, 300)
    upload_id = upload_parts(server, repository, data[:100], [100])

    response = raw_part(server, repository, upload_id, 50, 149, data[50:150])

    assert_invalid_part(response, repository, upload_id, 99)


def test_part_repeated_rejected(server, repository, seed):
    data = layer_bytes(seed, 100)
    upload_id = upload_parts(server, repository, data, [100])

    response = raw_part(server, repository, upload_id, 0, 99, data)

    assert_invalid_part(response, repository, upload_id, 99)


def test_part_length_mismatch_rejected(server, repository, seed):
    data = layer_bytes(seed, 300)
    upload_id = upload_parts(server, repository, data[:100], [100])

    longer_range = raw_part(server, repository, upload_id, 100, 299, data[100:200])
    shorter_range = raw_part(server, repository, upload_id, 100, 149, data[100:200])

    assert_invalid_part(longer_range, repository, upload_id, 99)
    assert_invalid_part(shorter_range, repository, upload_id, 99)


def test_reversed_part_range_rejected(server, repository, seed):
    data = layer_bytes(seed, 200)
    upload_id = upload_parts(server, repository, data[:100], [100])

    response = raw_part(server, repository, upload_id, 100, 50, data[100:200])

    assert_invalid_part(response, repository, upload_id, 99)


def test_part_range_to_int64_max_rejected(server, repository, seed):
    upload_id = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    from_zero = raw_part(server, repository, upload_id, 0, 2**63 - 1, b"x")
    whole_range = raw_part(server, repository, upload_id, 0, 2**63 - 2, b"x")

    assert_invalid_part(from_zero, repository, upload_id, 0)
    assert_invalid_part(whole_range, repository, upload_id, 0)
    assert raw_part(server, repository, upload_id, 0, 0, b"x").status_code == 200


def test_upload_usable_after_rejected_part(server, repository, seed):
    data = layer_bytes(seed, 5 * MIB + 100)
    digest = testimages.sha256_digest(data)
    upload_id = upload_parts(server, repository, data[:5 * MIB], [5 * MIB])
    gap = raw_part(server, repository, upload_id, 5 * MIB + 50, len(data) - 1, data[5 * MIB + 50:])
    assert_invalid_part(gap, repository, upload_id, 5 * MIB - 1)

    server.ecr.upload_layer_part(repositoryName=repository, uploadId=upload_id, partFirstByte=5 * MIB,
                                 partLastByte=len(data) - 1, layerPartBlob=data[5 * MIB:])
    completed = server.ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id,
                                                 layerDigests=[digest])

    assert completed["layerDigest"] == digest
    assert server.v2("GET", f"/{repository}/blobs/{digest}").content == data


def test_concurrent_parts_at_same_offset(server, repository, seed):
    """Of two parts that both claim the first bytes of an upload, only one may be written."""
    for trial in range(RACE_TRIALS):
        upload_id = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
        parts = [layer_bytes(f"{seed}-{trial}-{side}", RACE_PART_BYTES) for side in ("a", "b")]
        statuses = {}

        def send(index):
            client = server.thread_client()
            statuses[index] = raw_part(client, repository, upload_id, 0, RACE_PART_BYTES - 1,
                                       parts[index]).status_code

        threads = [threading.Thread(target=send, args=(index,)) for index in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        state = server.v2("GET", f"/{repository}/blobs/uploads/{upload_id}")

        assert sorted(statuses.values()) == [200, 400], (
            f"trial {trial}: both parts at byte 0 returned {statuses}, and the upload now has "
            f"Range {state.headers.get('Range')}")
        assert state.headers["Range"] == f"0-{RACE_PART_BYTES - 1}"
        winner = parts[0] if statuses[0] == 200 else parts[1]
        completed = server.ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id,
                                                     layerDigests=[testimages.sha256_digest(winner)])
        assert completed["layerDigest"] == testimages.sha256_digest(winner)


def test_invalid_part_through_boto3(server, repository, seed):
    data = layer_bytes(seed, 200)
    upload_id = upload_parts(server, repository, data[:100], [100])

    status, code, _ = expect_error(server.ecr.upload_layer_part, repositoryName=repository,
                                   uploadId=upload_id, partFirstByte=150, partLastByte=199,
                                   layerPartBlob=data[150:])

    assert (status, code) == (400, "InvalidLayerPartException")


def test_part_over_20_mib_rejected(server, repository, seed):
    data = layer_bytes(seed, 20 * MIB + 1)
    upload_id = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    status, code, _ = expect_error(server.ecr_unchecked.upload_layer_part, repositoryName=repository,
                                   uploadId=upload_id, partFirstByte=0, partLastByte=len(data) - 1,
                                   layerPartBlob=data)

    assert (status, code) == (400, "InvalidParameterException")
    # The rejected part was not written: the upload still starts at byte 0.
    retry = raw_part(server, repository, upload_id, 0, 0, b"x")
    assert retry.status_code == 200, retry.text
    assert retry.json()["lastByteReceived"] == 0


def test_part_for_unknown_upload_id(server, repository):
    unknown = "0123abcd-0000-4000-8000-000000000000"

    status, code, _ = expect_error(server.ecr.upload_layer_part, repositoryName=repository, uploadId=unknown,
                                   partFirstByte=0, partLastByte=2, layerPartBlob=b"abc")

    assert (status, code) == (400, "UploadNotFoundException")


def test_part_for_upload_id_in_uppercase(server, repository):
    """ECR's model allows upper-case hex in upload IDs ([0-9a-fA-F]), so such an ID is unknown, not malformed."""
    upload_id = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    status, code, _ = expect_error(server.ecr.upload_layer_part, repositoryName=repository,
                                   uploadId=upload_id.upper(), partFirstByte=0, partLastByte=2,
                                   layerPartBlob=b"abc")

    assert (status, code) == (400, "UploadNotFoundException")


def test_part_for_other_repository_upload(server, repository, repository_name):
    other = repository_name + "-other"
    server.create_repository(other)
    upload_id = server.ecr.initiate_layer_upload(repositoryName=other)["uploadId"]

    status, code, _ = expect_error(server.ecr.upload_layer_part, repositoryName=repository, uploadId=upload_id,
                                   partFirstByte=0, partLastByte=2, layerPartBlob=b"abc")

    assert (status, code) == (400, "UploadNotFoundException")


def test_part_with_malformed_upload_id(server, repository):
    status, code, _ = expect_error(server.ecr_unchecked.upload_layer_part, repositoryName=repository,
                                   uploadId="not-a-uuid", partFirstByte=0, partLastByte=2,
                                   layerPartBlob=b"abc")

    assert (status, code) == (400, "InvalidParameterException")


def test_part_for_unknown_repository(server, repository_name):
    status, code, message = expect_error(server.ecr.upload_layer_part, repositoryName=repository_name,
                                         uploadId="0123abcd-0000-4000-8000-000000000000", partFirstByte=0,
                                         partLastByte=2, layerPartBlob=b"abc")

    assert (status, code) == (400, "RepositoryNotFoundException")
    assert message == repository_not_found_message(repository_name)


# CompleteLayerUpload: errors


def test_small_non_final_part_rejected(server, repository, seed):
    data = layer_bytes(seed, 5 * MIB)
    digest = testimages.sha256_digest(data)
    upload_id = upload_parts(server, repository, data, [5 * MIB - 1, 1])

    status, code, message = expect_error(server.ecr.complete_layer_upload, repositoryName=repository,
                                         uploadId=upload_id, layerDigests=[digest])

    assert (status, code) == (400, "LayerPartTooSmallException")
    assert message == "Layer parts must be at least 5 MiB in size."
    assert server.v2("HEAD", f"/{repository}/blobs/{digest}").status_code == 404


def test_small_middle_part_rejected(server, repository, seed):
    data = layer_bytes(seed, 5 * MIB + 2000)
    digest = testimages.sha256_digest(data)
    upload_id = upload_parts(server, repository, data, [5 * MIB, 1000, 1000])

    status, code, message = expect_error(server.ecr.complete_layer_upload, repositoryName=repository,
                                         uploadId=upload_id, layerDigests=[digest])

    assert (status, code) == (400, "LayerPartTooSmallException")
    assert message == "Layer parts must be at least 5 MiB in size."


def test_complete_without_parts(server, repository):
    upload_id = server.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    status, code, _ = expect_error(server.ecr.complete_layer_upload, repositoryName=repository,
                                   uploadId=upload_id, layerDigests=[testimages.sha256_digest(b"")])

    assert (status, code) == (400, "EmptyUploadException")


def test_complete_with_wrong_digest(server, repository, seed):
    data = layer_bytes(seed, 500)
    wrong = testimages.sha256_digest(data + b"!")
    upload_id = upload_parts(server, repository, data, [500])

    status, code, _ = expect_error(server.ecr.complete_layer_upload, repositoryName=repository,
                                   uploadId=upload_id, layerDigests=[wrong])

    assert (status, code) == (400, "InvalidLayerException")
    assert server.v2("HEAD", f"/{repository}/blobs/{wrong}").status_code == 404
    assert server.v2("HEAD", f"/{repository}/blobs/{testimages.sha256_digest(data)}").status_code == 404


def test_complete_with_malformed_digest(server, repository, seed):
    upload_id = upload_parts(server, repository, layer_bytes(seed, 10), [10])

    status, code, _ = expect_error(server.ecr.complete_layer_upload, repositoryName=repository,
                                   uploadId=upload_id, layerDigests=["sha256:xyz"])

    assert (status, code) == (400, "InvalidParameterException")


def test_complete_layer_already_in_repository(server, repository, seed):
    data = layer_bytes(seed, 700)
    digest = testimages.sha256_digest(data)
    server.push_blob(repository, data)
    upload_id = upload_parts(server, repository, data, [700])

    status, code, _ = expect_error(server.ecr.complete_layer_upload, repositoryName=repository,
                                   uploadId=upload_id, layerDigests=[digest])

    assert (status, code) == (400, "LayerAlreadyExistsException")
    assert server.v2("GET", f"/{repository}/blobs/{digest}").content == data


def test_complete_twice(server, repository, seed):
    data = layer_bytes(seed, 100)
    digest = testimages.sha256_digest(data)
    upload_id = upload_parts(server, repository, data, [100])
    server.ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id, layerDigests=[digest])

    status, code, _ = expect_error(server.ecr.complete_layer_upload, repositoryName=repository,
                                   uploadId=upload_id, layerDigests=[digest])
    part_status, part_code, _ = expect_error(server.ecr.upload_layer_part, repositoryName=repository,
                                             uploadId=upload_id, partFirstByte=100, partLastByte=100,
                                             layerPartBlob=b"x")

    assert (status, code) == (400, "UploadNotFoundException")
    assert (part_status, part_code) == (400, "UploadNotFoundException")


def test_complete_unknown_upload_id(server, repository):
    status, code, _ = expect_error(server.ecr.complete_layer_upload, repositoryName=repository,
                                   uploadId="0123abcd-0000-4000-8000-000000000000",
                                   layerDigests=[testimages.sha256_digest(b"x")])

    assert (status, code) == (400, "UploadNotFoundException")


def test_complete_unknown_repository(server, repository_name):
    status, code, _ = expect_error(server.ecr.complete_layer_upload, repositoryName=repository_name,
                                   uploadId="0123abcd-0000-4000-8000-000000000000",
                                   layerDigests=[testimages.sha256_digest(b"x")])

    assert (status, code) == (400, "RepositoryNotFoundException")


# BatchCheckLayerAvailability


def test_batch_check_mixed(server, repository, seed):
    uploaded = layer_bytes(seed + "-json", 1234)
    uploaded_digest = upload_layer(server, repository, uploaded)
    pushed = layer_bytes(seed + "-v2", 4321)
    pushed_digest = server.push_blob(repository, pushed).headers["Docker-Content-Digest"]
    missing = testimages.sha256_digest(seed.encode() + b"-missing")

    response = server.ecr.batch_check_layer_availability(
        repositoryName=repository, layerDigests=[uploaded_digest, missing, pushed_digest, "sha256:zz"])

    layers = {layer["layerDigest"]: layer for layer in response["layers"]}
    assert sorted(layers) == sorted([uploaded_digest, pushed_digest])
    for digest, size in ((uploaded_digest, len(uploaded)), (pushed_digest, len(pushed))):
        assert layers[digest]["layerAvailability"] == "AVAILABLE"
        assert layers[digest]["layerSize"] == size
        assert isinstance(layers[digest]["mediaType"], str) and layers[digest]["mediaType"]
    failures = {failure["layerDigest"]: failure for failure in response["failures"]}
    assert sorted(failures) == sorted([missing, "sha256:zz"])
    assert failures[missing]["failureCode"] == "MissingLayerDigest"
    assert failures["sha256:zz"]["failureCode"] == "InvalidLayerDigest"
    assert all(failure["failureReason"] for failure in failures.values())


def test_batch_check_is_per_repository(server, repository, repository_name, seed):
    other = repository_name + "-other"
    server.create_repository(other)
    digest = upload_layer(server, other, layer_bytes(seed, 100))

    response = server.ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])

    assert response["layers"] == []
    assert [(f["layerDigest"], f["failureCode"]) for f in response["failures"]] == [
        (digest, "MissingLayerDigest")]


def test_batch_check_unknown_repository(server, repository_name):
    status, code, _ = expect_error(server.ecr.batch_check_layer_availability, repositoryName=repository_name,
                                   layerDigests=[testimages.sha256_digest(b"x")])

    assert (status, code) == (400, "RepositoryNotFoundException")


def test_batch_check_empty_list(server, repository):
    status, code, _ = expect_error(server.ecr_unchecked.batch_check_layer_availability,
                                   repositoryName=repository, layerDigests=[])

    assert (status, code) == (400, "InvalidParameterException")


# GetDownloadUrlForLayer


def test_download_url_needs_no_credentials(server, repository, seed):
    data = layer_bytes(seed, 3000)
    digest = upload_layer(server, repository, data)

    response = server.ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)

    assert response["layerDigest"] == digest
    url = response["downloadUrl"]
    assert url.startswith(f"{server.url}/_localecr/layers/"), url
    with requests.Session() as anonymous:
        anonymous.trust_env = False
        fetched = anonymous.get(url, timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == data


def test_download_url_supports_range(server, repository, seed):
    data = layer_bytes(seed, 1000)
    digest = upload_layer(server, repository, data)
    url = server.ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)["downloadUrl"]

    partial = server.http.get(url, headers={"Range": "bytes=100-199"}, timeout=30)

    assert partial.status_code == 206
    assert partial.headers["Content-Range"] == "bytes 100-199/1000"
    assert partial.content == data[100:200]


def test_download_url_for_blob_pushed_on_v2(server, repository, seed):
    data = layer_bytes(seed, 800)
    digest = server.push_blob(repository, data).headers["Docker-Content-Digest"]

    url = server.ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)["downloadUrl"]

    assert server.http.get(url, timeout=30).content == data


def test_tampered_download_url_forbidden(server, repository, seed):
    digest = upload_layer(server, repository, layer_bytes(seed, 100))
    url = server.ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)["downloadUrl"]
    flipped = url[:-1] + ("A" if url[-1] != "A" else "B")

    response = server.http.get(flipped, timeout=30)

    assert response.status_code == 403


def test_download_url_swapped_claims_forbidden(server, repository, seed):
    """Claims copied from another URL do not match the signature of the first."""
    first = upload_layer(server, repository, layer_bytes(seed + "-1", 100))
    second = upload_layer(server, repository, layer_bytes(seed + "-2", 100))
    url_first = server.ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=first)["downloadUrl"]
    url_second = server.ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=second)["downloadUrl"]
    prefix, token_first = url_first.rsplit("/", 1)
    token_second = url_second.rsplit("/", 1)[1]
    claims_second = token_second.rsplit(".", 1)[0]
    signature_first = token_first.rsplit(".", 1)[1]
    assert claims_second != token_first.rsplit(".", 1)[0]

    response = server.http.get(f"{prefix}/{claims_second}.{signature_first}", timeout=30)

    assert response.status_code == 403


def test_download_url_garbage_token_forbidden(server):
    response = server.http.get(server.url + "/_localecr/layers/not-a-token", timeout=30)

    assert response.status_code == 403


def test_download_url_after_blob_deleted(server, repository, seed):
    digest = upload_layer(server, repository, layer_bytes(seed, 100))
    url = server.ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)["downloadUrl"]
    assert server.v2("DELETE", f"/{repository}/blobs/{digest}").status_code == 202

    response = server.http.get(url, timeout=30)

    assert response.status_code == 404


def test_download_url_unknown_layer(server, repository, seed):
    status, code, _ = expect_error(server.ecr.get_download_url_for_layer, repositoryName=repository,
                                   layerDigest=testimages.sha256_digest(seed.encode()))

    assert (status, code) == (400, "LayersNotFoundException")


def test_download_url_malformed_digest(server, repository):
    status, code, _ = expect_error(server.ecr_unchecked.get_download_url_for_layer, repositoryName=repository,
                                   layerDigest="sha256:not-hex")

    assert (status, code) == (400, "InvalidParameterException")


def test_download_url_unknown_repository(server, repository_name):
    status, code, _ = expect_error(server.ecr.get_download_url_for_layer, repositoryName=repository_name,
                                   layerDigest=testimages.sha256_digest(b"x"))

    assert (status, code) == (400, "RepositoryNotFoundException")


# Layers uploaded through the JSON API, used by manifests


def test_put_image_with_uploaded_layers(server, repository, seed, tmp_path):
    image = testimages.build_image(seed, fmt="oci", layer_count=2)
    for blob in image.blobs:
        upload_layer(server, repository, blob.data)

    put = server.ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode(),
                               imageManifestMediaType=image.media_type, imageTag="v1")

    assert put["image"]["imageId"]["imageDigest"] == image.digest
    assert_skopeo_pull(server, repository, "v1", image, tmp_path)


def test_v2_manifest_with_uploaded_layers(server, repository, seed, tmp_path):
    image = testimages.build_image(seed, fmt="docker")
    for blob in image.blobs:
        upload_layer(server, repository, blob.data)

    put = server.put_manifest(repository, "v1", image.manifest, image.media_type)

    assert put.status_code == 201, put.text
    assert_skopeo_pull(server, repository, "v1", image, tmp_path)


def test_put_image_missing_layer_rejected(server, repository, seed):
    image = testimages.build_image(seed, fmt="oci")
    upload_layer(server, repository, image.config.data)

    status, code, _ = expect_error(server.ecr.put_image, repositoryName=repository,
                                   imageManifest=image.manifest.decode(),
                                   imageManifestMediaType=image.media_type, imageTag="v1")

    assert (status, code) == (400, "LayersNotFoundException")


def assert_skopeo_pull(server, repository, tag, image, tmp_path: Path):
    """Copy the image with skopeo into a dir: folder and compare every byte."""
    folder = tmp_path / "pulled"
    command = [SKOPEO, "copy", "--src-tls-verify=false", "--src-creds", f"AWS:{server.login_password()}",
               f"docker://{server.host}/{repository}:{tag}", f"dir:{folder}"]
    result = subprocess.run(command, capture_output=True, text=True, env=server.env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (folder / "manifest.json").read_bytes() == image.manifest
    for blob in image.blobs:
        assert (folder / blob.digest.split(":")[1]).read_bytes() == blob.data


def test_unknown_upload_id_on_v2(server, repository):
    """An ID that the JSON API never saw is unknown on /v2/ too."""
    response = server.v2("GET", f"/{repository}/blobs/uploads/0123abcd-0000-4000-8000-000000000000")

    assert response.status_code == 404
    assert oci_error_codes(response) == ["BLOB_UPLOAD_UNKNOWN"]
