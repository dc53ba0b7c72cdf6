"""Repositories created with imageTagMutability=IMMUTABLE keep each tag on its first image."""

import pytest
from botocore.exceptions import ClientError

import testimages
from harness import client_error, oci_error_codes


@pytest.fixture
def immutable_repository(server, repository_name) -> str:
    server.create_repository(repository_name, imageTagMutability="IMMUTABLE")
    return repository_name


def tag_target(server, repository, tag) -> str:
    images = server.ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}])["images"]
    return images[0]["imageId"]["imageDigest"]


def test_put_image_overwrite_rejected(server, immutable_repository, seed):
    first = testimages.build_image(seed + "-1")
    second = testimages.build_image(seed + "-2")
    server.push_image(immutable_repository, first, tag="v1")
    for blob in second.blobs:
        server.push_blob(immutable_repository, blob.data)

    with pytest.raises(ClientError) as excinfo:
        server.ecr.put_image(repositoryName=immutable_repository, imageManifest=second.manifest.decode(),
                             imageTag="v1")

    status, code, _ = client_error(excinfo)
    assert status == 400
    assert code == "ImageTagAlreadyExistsException"
    assert tag_target(server, immutable_repository, "v1") == first.digest


def test_v2_overwrite_rejected(server, immutable_repository, seed):
    first = testimages.build_image(seed + "-1")
    second = testimages.build_image(seed + "-2")
    server.push_image(immutable_repository, first, tag="v1")
    for blob in second.blobs:
        server.push_blob(immutable_repository, blob.data)

    put = server.put_manifest(immutable_repository, "v1", second.manifest, second.media_type)

    assert put.status_code == 400
    assert oci_error_codes(put) == ["TAG_INVALID"]
    assert put.json()["errors"][0]["message"] == (
        f"The image tag 'v1' already exists in the '{immutable_repository}' repository "
        "and cannot be overwritten because the tag is immutable.")
    assert tag_target(server, immutable_repository, "v1") == first.digest


def test_v2_same_image_same_tag_rejected(server, immutable_repository, seed):
    image = testimages.build_image(seed)
    server.push_image(immutable_repository, image, tag="v1")

    put = server.put_manifest(immutable_repository, "v1", image.manifest, image.media_type)

    assert put.status_code == 400
    assert oci_error_codes(put) == ["TAG_INVALID"]


def test_new_tags_and_digest_pushes_accepted(server, immutable_repository, seed):
    image = testimages.build_image(seed)
    server.push_image(immutable_repository, image, tag="v1")

    by_digest = server.put_manifest(immutable_repository, image.digest, image.manifest, image.media_type)
    new_tag = server.put_manifest(immutable_repository, "v2", image.manifest, image.media_type)

    assert by_digest.status_code == 201
    assert new_tag.status_code == 201
    listed = {(entry["imageDigest"], entry["imageTag"])
              for entry in server.ecr.list_images(repositoryName=immutable_repository)["imageIds"]}
    assert listed == {(image.digest, "v1"), (image.digest, "v2")}
