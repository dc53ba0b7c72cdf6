"""Images written through one API are visible through the other, with the same digest and tags."""

import datetime

import pytest
from botocore.exceptions import ClientError

import testimages
from harness import client_error, oci_error_codes, repository_not_found_message


def test_v2_push_visible_in_json_api(server, repository, seed):
    image = testimages.build_image(seed, layer_count=3)
    before = datetime.datetime.now(datetime.timezone.utc)

    server.push_image(repository, image, tag="v1")

    listed = server.ecr.list_images(repositoryName=repository)["imageIds"]
    assert listed == [{"imageDigest": image.digest, "imageTag": "v1"}]
    detail = server.ecr.describe_images(repositoryName=repository)["imageDetails"][0]
    assert detail["imageDigest"] == image.digest
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == image.layers_size
    assert detail["imageManifestMediaType"] == image.media_type
    assert detail["imagePushedAt"] >= before - datetime.timedelta(seconds=5)
    fetched = server.ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": "v1"}])
    assert fetched["images"][0]["imageManifest"] == image.manifest.decode()


def test_v2_index_push_visible_in_json_api(server, repository, seed):
    index = testimages.build_index(seed, fmt="oci")

    server.push_image(repository, index, tag="multi")

    listed = {(entry["imageDigest"], entry.get("imageTag"))
              for entry in server.ecr.list_images(repositoryName=repository)["imageIds"]}
    assert listed == {(index.digest, "multi"), *((child.digest, None) for child in index.images)}
    detail = server.ecr.describe_images(repositoryName=repository,
                                        imageIds=[{"imageTag": "multi"}])["imageDetails"][0]
    assert detail["imageManifestMediaType"] == testimages.OCI_INDEX


def test_json_put_visible_in_v2(server, repository, seed):
    image = testimages.build_image(seed, fmt="oci")
    for blob in image.blobs:
        server.push_blob(repository, blob.data)

    digest = server.ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode(),
                                  imageTag="v1")["image"]["imageId"]["imageDigest"]

    got = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": image.media_type})
    assert got.status_code == 200
    assert got.content == image.manifest
    assert got.headers["Docker-Content-Digest"] == digest
    assert digest == image.digest
    tags = server.v2("GET", f"/{repository}/tags/list").json()["tags"]
    assert tags == ["v1"]


def test_json_delete_visible_in_v2(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="v1")

    server.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": image.digest}])

    got = server.v2("GET", f"/{repository}/manifests/{image.digest}", headers={"Accept": image.media_type})
    assert got.status_code == 404
    assert oci_error_codes(got) == ["MANIFEST_UNKNOWN"]


def test_v2_delete_visible_in_json_api(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="v1")

    deleted = server.v2("DELETE", f"/{repository}/manifests/{image.digest}")
    assert deleted.status_code == 202

    with pytest.raises(ClientError) as excinfo:
        server.ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": image.digest}])
    _, code, _ = client_error(excinfo)
    assert code == "ImageNotFoundException"


def test_v2_tag_move_visible_in_json_api(server, repository, seed):
    first = testimages.build_image(seed + "-1")
    second = testimages.build_image(seed + "-2")
    server.push_image(repository, first, tag="latest")

    server.push_image(repository, second, tag="latest")

    listed = {(entry["imageDigest"], entry.get("imageTag"))
              for entry in server.ecr.list_images(repositoryName=repository)["imageIds"]}
    assert listed == {(second.digest, "latest"), (first.digest, None)}


def test_force_delete_visible_in_v2(server, repository, seed):
    server.push_image(repository, testimages.build_image(seed), tag="v1")

    server.ecr.delete_repository(repositoryName=repository, force=True)

    got = server.v2("GET", f"/{repository}/tags/list")
    assert got.status_code == 404
    assert oci_error_codes(got) == ["NAME_UNKNOWN"]
    assert got.json()["errors"][0]["message"] == repository_not_found_message(repository)


def test_create_on_push_creates_repository(server_factory, seed):
    server = server_factory("--create-on-push")
    name = "created/on-push"
    image = testimages.build_image(seed)

    server.push_image(name, image, tag="v1")

    repository = server.ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    assert repository["repositoryName"] == name
    assert repository["repositoryUri"] == f"{server.host}/{name}"
    listed = server.ecr.list_images(repositoryName=name)["imageIds"]
    assert listed == [{"imageDigest": image.digest, "imageTag": "v1"}]


def test_push_without_create_on_push_rejected(server, repository_name, seed):
    image = testimages.build_image(seed)

    response = server.v2("POST", f"/{repository_name}/blobs/uploads/",
                         params={"digest": image.config.digest}, data=image.config.data)

    assert response.status_code == 404
    assert oci_error_codes(response) == ["NAME_UNKNOWN"]
    with pytest.raises(ClientError) as excinfo:
        server.ecr.describe_repositories(repositoryNames=[repository_name])
    _, code, _ = client_error(excinfo)
    assert code == "RepositoryNotFoundException"
