"""skopeo copies the fixture images into localecr and back without changing a byte."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

import testimages

SKOPEO = "/usr/bin/skopeo"
INDEX_TYPES = {testimages.OCI_INDEX, testimages.DOCKER_MANIFEST_LIST}


def skopeo(server, *args, check=True) -> subprocess.CompletedProcess:
    command = [SKOPEO, *args]
    result = subprocess.run(command, capture_output=True, text=True, env=server.env, timeout=1800)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stderr}")
    return result


def push_args(server) -> list:
    return ["--dest-tls-verify=false", "--dest-creds", f"AWS:{server.login_password()}"]


def pull_args(server) -> list:
    return ["--src-tls-verify=false", "--src-creds", f"AWS:{server.login_password()}"]


def read_blob(layout: Path, digest: str) -> bytes:
    algorithm, hex_digest = digest.split(":")
    return (layout / "blobs" / algorithm / hex_digest).read_bytes()


def tagged_descriptor(layout: Path, tag: str) -> dict:
    index = json.loads((layout / "index.json").read_text())
    for descriptor in index["manifests"]:
        if descriptor.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return descriptor
    raise AssertionError(f"{layout} has no image tagged {tag}")


def reachable_blobs(layout: Path, descriptor: dict) -> dict:
    """Return digest -> bytes of the manifest in `descriptor` and everything it references."""
    data = read_blob(layout, descriptor["digest"])
    blobs = {descriptor["digest"]: data}
    document = json.loads(data)
    if descriptor["mediaType"] in INDEX_TYPES:
        for child in document["manifests"]:
            blobs.update(reachable_blobs(layout, child))
    else:
        for blob in [document["config"], *document["layers"]]:
            blobs[blob["digest"]] = read_blob(layout, blob["digest"])
    return blobs


def round_trip(server, source: Path, repository: str, tmp_path: Path, *, all_images=False) -> Path:
    """Copy the `latest` image of an OCI layout into localecr and back into a new layout."""
    extra = ["--all"] if all_images else []
    destination = f"docker://{server.host}/{repository}:latest"
    skopeo(server, "copy", *extra, *push_args(server), f"oci:{source}:latest", destination)
    copied = tmp_path / "copied"
    skopeo(server, "copy", *extra, *pull_args(server), destination, f"oci:{copied}:latest")
    return copied


def assert_same_image(source: Path, copied: Path):
    source_descriptor = tagged_descriptor(source, "latest")
    copied_descriptor = tagged_descriptor(copied, "latest")
    assert copied_descriptor["digest"] == source_descriptor["digest"]
    assert copied_descriptor["mediaType"] == source_descriptor["mediaType"]
    source_blobs = reachable_blobs(source, source_descriptor)
    copied_blobs = reachable_blobs(copied, copied_descriptor)
    assert sorted(copied_blobs) == sorted(source_blobs)
    for digest, data in source_blobs.items():
        assert copied_blobs[digest] == data, f"blob {digest} differs after the round trip"
        assert testimages.sha256_digest(copied_blobs[digest]) == digest


@pytest.mark.parametrize("name", ["single", "multilayer"])
def test_copy_layout_round_trip(server, repository, fixture_images, fixture_manifest, tmp_path, name):
    entry = fixture_manifest[name]
    source = fixture_images / entry["path"]

    copied = round_trip(server, source, repository, tmp_path)

    assert_same_image(source, copied)
    detail = server.ecr.describe_images(repositoryName=repository)["imageDetails"][0]
    assert detail["imageDigest"] == entry["digest"]
    assert detail["imageTags"] == ["latest"]
    assert detail["imageManifestMediaType"] == entry["mediaType"]
    assert detail["imageSizeInBytes"] == sum(layer["size"] for layer in entry["layers"])


def test_copy_multiplatform_all(server, repository, fixture_images, fixture_manifest, tmp_path):
    entry = fixture_manifest["multiplatform"]
    source = fixture_images / entry["path"]

    copied = round_trip(server, source, repository, tmp_path, all_images=True)

    assert_same_image(source, copied)
    listed = {(image_id["imageDigest"], image_id.get("imageTag"))
              for image_id in server.ecr.list_images(repositoryName=repository)["imageIds"]}
    expected = {(entry["digest"], "latest"), *((child["digest"], None) for child in entry["manifests"])}
    assert listed == expected


def test_inspect_reports_digest(server, repository, fixture_images, fixture_manifest):
    entry = fixture_manifest["single"]
    destination = f"docker://{server.host}/{repository}:v1"
    skopeo(server, "copy", *push_args(server), f"oci:{fixture_images / entry['path']}:latest", destination)

    raw = skopeo(server, "inspect", "--raw", "--tls-verify=false", "--creds",
                 f"AWS:{server.login_password()}", destination).stdout
    inspected = json.loads(skopeo(server, "inspect", "--tls-verify=false", "--creds",
                                  f"AWS:{server.login_password()}", destination).stdout)

    assert "sha256:" + hashlib.sha256(raw.encode()).hexdigest() == entry["digest"]
    assert inspected["Digest"] == entry["digest"]
    assert inspected["Architecture"] == entry["platform"]["architecture"]


def test_list_tags(server, repository, fixture_images, fixture_manifest):
    source = f"oci:{fixture_images / fixture_manifest['single']['path']}:latest"
    for tag in ("one", "two"):
        skopeo(server, "copy", *push_args(server), source, f"docker://{server.host}/{repository}:{tag}")

    output = skopeo(server, "list-tags", "--tls-verify=false", "--creds", f"AWS:{server.login_password()}",
                    f"docker://{server.host}/{repository}").stdout

    assert sorted(json.loads(output)["Tags"]) == ["one", "two"]


def test_delete_image(server, repository, fixture_images, fixture_manifest):
    entry = fixture_manifest["single"]
    destination = f"docker://{server.host}/{repository}:v1"
    skopeo(server, "copy", *push_args(server), f"oci:{fixture_images / entry['path']}:latest", destination)

    skopeo(server, "delete", "--tls-verify=false", "--creds", f"AWS:{server.login_password()}",
           f"docker://{server.host}/{repository}@{entry['digest']}")

    assert server.ecr.list_images(repositoryName=repository)["imageIds"] == []


@pytest.mark.parametrize("name", ["single-docker-archive", "multilayer-docker-archive"])
def test_copy_docker_archive(server, repository, fixture_images, fixture_manifest, name):
    entry = fixture_manifest[name]
    destination = f"docker://{server.host}/{repository}:latest"

    skopeo(server, "copy", *push_args(server), f"docker-archive:{fixture_images / entry['path']}", destination)

    raw = skopeo(server, "inspect", "--raw", "--tls-verify=false", "--creds",
                 f"AWS:{server.login_password()}", destination).stdout
    manifest = json.loads(raw)
    assert manifest["mediaType"] == testimages.DOCKER_MANIFEST
    assert manifest["config"]["digest"] == entry["configDigest"]
    assert len(manifest["layers"]) == len(entry["diffIds"])
    config = server.v2("GET", f"/{repository}/blobs/{entry['configDigest']}")
    assert config.status_code == 200
    assert testimages.sha256_digest(config.content) == entry["configDigest"]
    assert json.loads(config.content)["rootfs"]["diff_ids"] == entry["diffIds"]
    detail = server.ecr.describe_images(repositoryName=repository)["imageDetails"][0]
    assert detail["imageDigest"] == testimages.sha256_digest(raw.encode())
    assert detail["imageManifestMediaType"] == testimages.DOCKER_MANIFEST


def test_copy_with_wrong_password_fails(server, repository, fixture_images, fixture_manifest):
    source = f"oci:{fixture_images / fixture_manifest['single']['path']}:latest"

    result = skopeo(server, "copy", "--dest-tls-verify=false", "--dest-creds", "AWS:wrong-password",
                    source, f"docker://{server.host}/{repository}:v1", check=False)

    assert result.returncode != 0
    assert server.ecr.list_images(repositoryName=repository)["imageIds"] == []


def test_copy_to_unknown_repository_fails(server, repository_name, fixture_images, fixture_manifest):
    source = f"oci:{fixture_images / fixture_manifest['single']['path']}:latest"

    result = skopeo(server, "copy", *push_args(server), source,
                    f"docker://{server.host}/{repository_name}:v1", check=False)

    assert result.returncode != 0
    assert f"The repository with name '{repository_name}' does not exist" in result.stderr


@pytest.mark.slow
def test_copy_debian_round_trip(server, repository, debian_layout, fixture_manifest, tmp_path):
    entry = fixture_manifest["debian"]

    copied = round_trip(server, debian_layout, repository, tmp_path)

    assert_same_image(debian_layout, copied)
    detail = server.ecr.describe_images(repositoryName=repository)["imageDetails"][0]
    assert detail["imageDigest"] == entry["digest"]
    assert detail["imageSizeInBytes"] == sum(layer["size"] for layer in entry["layers"])
