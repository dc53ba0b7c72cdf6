"""Random small images, a raw /v2/ push client and pull checks for the store safety tests.

A push uploads each blob in one of the two ways registry clients use, picked at
random: one POST with ?digest= and the whole blob as its body (monolithic), or
a POST that opens a session, one to three PATCH requests with Content-Range
and a closing PUT with ?digest= (chunked). Then it PUTs the manifest by tag.
Every step checks the HTTP status, so a reply the protocol does not allow
raises UnexpectedResponse with the request that got it.
"""

import random
from dataclasses import dataclass

import requests

import testimages

OCTET_STREAM = {"Content-Type": "application/octet-stream"}


class UnexpectedResponse(AssertionError):
    """The server replied with a status that the push step does not allow."""

    def __init__(self, step: str, response: requests.Response):
        super().__init__(f"{step}: HTTP {response.status_code} {response.text[:500]}")
        self.response = response


@dataclass
class PushedImage:
    """An image whose manifest PUT the server acknowledged with 201 Created."""

    repository: str
    tag: str
    image: testimages.Image


def random_blob(rng: random.Random, media_type: str, max_bytes: int) -> testimages.Blob:
    return testimages.Blob(rng.randbytes(rng.randint(1, max_bytes)), media_type)


def random_image(rng: random.Random, label: str, *, max_layers: int = 3, max_layer_bytes: int = 200_000,
                 shared_layers=()) -> testimages.Image:
    """Build an image of random layers, sometimes with one of `shared_layers` (raw bytes) first.

    Layers are random bytes, not tar archives: the registry stores blobs without looking inside.
    """
    fmt = rng.choice(sorted(testimages.FORMATS))
    types = testimages.FORMATS[fmt]
    layers = [random_blob(rng, types["layer"], max_layer_bytes) for _ in range(rng.randint(1, max_layers))]
    if shared_layers and rng.random() < 0.5:
        layers.insert(0, testimages.Blob(rng.choice(shared_layers), types["layer"]))
    config_document = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"label": label}},
        "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in layers]},
    }
    config = testimages.Blob(testimages.encode_json(config_document), types["config"])
    manifest_document = {
        "schemaVersion": 2,
        "mediaType": types["manifest"],
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    return testimages.Image(config, layers, testimages.encode_json(manifest_document), types["manifest"],
                            {"architecture": "amd64", "os": "linux"})


def expect_status(step: str, response: requests.Response, status: int):
    if response.status_code != status:
        raise UnexpectedResponse(step, response)


def upload_monolithic(client, repository: str, blob: testimages.Blob, timeout: float):
    response = client.v2("POST", f"/{repository}/blobs/uploads/", params={"digest": blob.digest},
                         data=blob.data, headers=OCTET_STREAM, timeout=timeout)
    expect_status(f"monolithic upload of {blob.digest} to {repository}", response, 201)


def open_session(client, repository: str, timeout: float) -> str:
    """Start a chunked upload and return the absolute URL of its session."""
    response = client.v2("POST", f"/{repository}/blobs/uploads/", timeout=timeout)
    expect_status(f"upload session start in {repository}", response, 202)
    return client.absolute(response.headers["Location"])


def patch_chunk(client, location: str, data: bytes, offset: int, timeout: float) -> str:
    """Append `data` at byte `offset` of the session and return the session URL for the next request."""
    headers = dict(OCTET_STREAM)
    headers["Content-Range"] = f"{offset}-{offset + len(data) - 1}"
    response = client.v2("PATCH", location, data=data, headers=headers, timeout=timeout)
    expect_status(f"PATCH of bytes {offset}-{offset + len(data) - 1} to {location}", response, 202)
    return client.absolute(response.headers["Location"])


def close_session(client, location: str, digest: str, timeout: float):
    response = client.v2("PUT", location, params={"digest": digest}, timeout=timeout)
    expect_status(f"closing PUT of {digest} to {location}", response, 201)


def upload_chunked(client, repository: str, blob: testimages.Blob, rng: random.Random, timeout: float):
    location = open_session(client, repository, timeout)
    chunk_count = min(len(blob.data), rng.randint(1, 3))
    cuts = sorted(rng.sample(range(1, len(blob.data)), chunk_count - 1)) if chunk_count > 1 else []
    offset = 0
    for end in [*cuts, len(blob.data)]:
        location = patch_chunk(client, location, blob.data[offset:end], offset, timeout)
        offset = end
    close_session(client, location, blob.digest, timeout)


def upload_blob(client, repository: str, blob: testimages.Blob, rng: random.Random, timeout: float):
    if rng.random() < 0.5:
        upload_monolithic(client, repository, blob, timeout)
    else:
        upload_chunked(client, repository, blob, rng, timeout)


def push_random_image(client, repository: str, image: testimages.Image, tag: str, rng: random.Random,
                      timeout: float) -> requests.Response:
    """Upload the blobs of `image`, PUT its manifest by `tag` and return the manifest PUT response.

    The caller decides which manifest statuses it accepts. A blob step that fails raises UnexpectedResponse.
    """
    for blob in image.blobs:
        upload_blob(client, repository, blob, rng, timeout)
    return client.v2("PUT", f"/{repository}/manifests/{tag}", data=image.manifest,
                     headers={"Content-Type": image.media_type}, timeout=timeout)


def pull_problems(client, pushed: PushedImage) -> list:
    """Pull `pushed` by tag, by digest and blob by blob, and return a description of each mismatch."""
    image, repository = pushed.image, pushed.repository
    name = f"{repository}:{pushed.tag} ({image.digest})"
    problems = []
    for reference in (pushed.tag, image.digest):
        response = client.v2("GET", f"/{repository}/manifests/{reference}", headers={"Accept": image.media_type})
        if response.status_code != 200:
            problems.append(f"{name}: manifest GET by {reference}: HTTP {response.status_code} {response.text[:200]}")
        elif response.content != image.manifest:
            problems.append(f"{name}: manifest GET by {reference} returned other bytes "
                            f"({testimages.sha256_digest(response.content)})")
    for blob in image.blobs:
        response = client.v2("GET", f"/{repository}/blobs/{blob.digest}")
        if response.status_code != 200:
            problems.append(f"{name}: blob {blob.digest}: HTTP {response.status_code} {response.text[:200]}")
        elif testimages.sha256_digest(response.content) != blob.digest:
            problems.append(f"{name}: blob {blob.digest} GET hashes to {testimages.sha256_digest(response.content)}")
    return problems
