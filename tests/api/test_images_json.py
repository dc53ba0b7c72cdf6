"""PutImage, BatchGetImage, ListImages, DescribeImages and BatchDeleteImage through the JSON API.

PutImage needs the image's blobs in the repository first, so the tests upload
them through /v2/ and then send the manifest with PutImage.
"""

import datetime
import json

import pytest
from botocore.exceptions import ClientError

import testimages
from harness import ACCOUNT_ID, client_error, repository_not_found_message


def upload_blobs(server, repository, image):
    for blob in image.blobs:
        server.push_blob(repository, blob.data)


def put_image(server, repository, image, tag=None, **kwargs):
    """Upload the image's blobs, then send its manifest with PutImage; return the image object."""
    upload_blobs(server, repository, image)
    request = {"repositoryName": repository, "imageManifest": image.manifest.decode(), **kwargs}
    if tag is not None:
        request["imageTag"] = tag
    return server.ecr.put_image(**request)["image"]


def image_ids(server, repository, **kwargs):
    """Return ListImages' imageIds as a set of (digest, tag) pairs; tag is None if absent."""
    ids = server.ecr.list_images(repositoryName=repository, **kwargs)["imageIds"]
    return {(entry["imageDigest"], entry.get("imageTag")) for entry in ids}


def describe_one(server, repository, **image_id):
    details = server.ecr.describe_images(repositoryName=repository, imageIds=[image_id])["imageDetails"]
    assert len(details) == 1
    return details[0]


# PutImage


def test_put_image_returns_image(server, repository, seed):
    image = testimages.build_image(seed)

    stored = put_image(server, repository, image, tag="v1")

    assert stored["registryId"] == ACCOUNT_ID
    assert stored["repositoryName"] == repository
    assert stored["imageId"] == {"imageDigest": image.digest, "imageTag": "v1"}
    assert stored["imageManifest"] == image.manifest.decode()
    assert stored["imageManifestMediaType"] == testimages.DOCKER_MANIFEST


def test_put_image_oci_media_type(server, repository, seed):
    image = testimages.build_image(seed, fmt="oci")

    stored = put_image(server, repository, image, tag="v1")

    assert stored["imageId"]["imageDigest"] == image.digest
    assert stored["imageManifestMediaType"] == testimages.OCI_MANIFEST


def test_put_image_without_tag(server, repository, seed):
    image = testimages.build_image(seed)

    stored = put_image(server, repository, image)

    assert stored["imageId"] == {"imageDigest": image.digest}
    assert image_ids(server, repository) == {(image.digest, None)}


def test_put_image_matching_digest_accepted(server, repository, seed):
    image = testimages.build_image(seed)

    stored = put_image(server, repository, image, tag="v1", imageDigest=image.digest)

    assert stored["imageId"]["imageDigest"] == image.digest


def test_put_image_digest_mismatch_rejected(server, repository, seed):
    image = testimages.build_image(seed)
    other = testimages.build_image(seed + "-other")

    with pytest.raises(ClientError) as excinfo:
        put_image(server, repository, image, tag="v1", imageDigest=other.digest)

    status, code, _ = client_error(excinfo)
    assert status == 400
    assert code == "ImageDigestDoesNotMatchException"
    assert image_ids(server, repository) == set()


def test_put_image_same_tag_twice_rejected(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")

    with pytest.raises(ClientError) as excinfo:
        server.ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode(),
                             imageTag="v1")

    status, code, message = client_error(excinfo)
    assert status == 400
    assert code == "ImageAlreadyExistsException"
    assert message == (f"Image with digest '{image.digest}' and tag 'v1' already exists in the "
                       f"repository with name '{repository}' in registry with id '{ACCOUNT_ID}'")


def test_put_image_second_tag_added(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")

    server.ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode(),
                         imageTag="latest")

    assert image_ids(server, repository) == {(image.digest, "v1"), (image.digest, "latest")}
    detail = describe_one(server, repository, imageDigest=image.digest)
    assert sorted(detail["imageTags"]) == ["latest", "v1"]


def test_put_image_moves_tag(server, repository, seed):
    first = testimages.build_image(seed + "-1")
    second = testimages.build_image(seed + "-2")
    put_image(server, repository, first, tag="latest")

    put_image(server, repository, second, tag="latest")

    # In a mutable repository the tag moves; the old image stays, untagged.
    assert image_ids(server, repository) == {(second.digest, "latest"), (first.digest, None)}
    old = describe_one(server, repository, imageDigest=first.digest)
    assert "imageTags" not in old or old["imageTags"] == []


def test_put_image_missing_layer_rejected(server, repository, seed):
    image = testimages.build_image(seed, layer_count=2)
    server.push_blob(repository, image.config.data)
    server.push_blob(repository, image.layers[0].data)

    with pytest.raises(ClientError) as excinfo:
        server.ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode(),
                             imageTag="v1")

    status, code, message = client_error(excinfo)
    assert status == 400
    assert code == "LayersNotFoundException"
    assert image.layers[1].digest in message
    assert image_ids(server, repository) == set()


def test_put_image_blob_in_other_repository_rejected(server, repository, seed):
    other = repository + "-other"
    server.create_repository(other)
    image = testimages.build_image(seed)
    upload_blobs(server, other, image)

    with pytest.raises(ClientError) as excinfo:
        server.ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode())

    _, code, _ = client_error(excinfo)
    assert code == "LayersNotFoundException"


def test_put_image_index_with_missing_child_rejected(server, repository, seed):
    index = testimages.build_index(seed)
    upload_blobs(server, repository, index.images[0])
    upload_blobs(server, repository, index.images[1])
    server.ecr.put_image(repositoryName=repository, imageManifest=index.images[0].manifest.decode())

    with pytest.raises(ClientError) as excinfo:
        server.ecr.put_image(repositoryName=repository, imageManifest=index.manifest.decode(),
                             imageTag="multi")

    status, code, _ = client_error(excinfo)
    assert status == 400
    assert code == "ReferencedImagesNotFoundException"


def test_put_image_index_accepted(server, repository, seed):
    index = testimages.build_index(seed, fmt="oci")
    for child in index.images:
        put_image(server, repository, child)

    stored = server.ecr.put_image(repositoryName=repository, imageManifest=index.manifest.decode(),
                                  imageTag="multi")["image"]

    assert stored["imageId"] == {"imageDigest": index.digest, "imageTag": "multi"}
    assert stored["imageManifestMediaType"] == testimages.OCI_INDEX


def test_put_image_invalid_manifest_rejected(server, repository):
    with pytest.raises(ClientError) as excinfo:
        server.ecr.put_image(repositoryName=repository, imageManifest="{not json", imageTag="v1")

    status, code, _ = client_error(excinfo)
    assert status == 400
    assert code == "InvalidParameterException"


def test_put_image_unknown_repository_rejected(server, repository_name, seed):
    image = testimages.build_image(seed)

    with pytest.raises(ClientError) as excinfo:
        server.ecr.put_image(repositoryName=repository_name, imageManifest=image.manifest.decode())

    status, code, message = client_error(excinfo)
    assert status == 400
    assert code == "RepositoryNotFoundException"
    assert message == repository_not_found_message(repository_name)


def test_put_image_media_type_parameter(server, repository, seed):
    image = testimages.build_image(seed, fmt="oci")
    document = json.loads(image.manifest)
    del document["mediaType"]
    manifest = testimages.encode_json(document)
    upload_blobs(server, repository, image)

    # An OCI manifest may omit mediaType, so the caller names it in the request.
    stored = server.ecr.put_image(repositoryName=repository, imageManifest=manifest.decode(),
                                  imageManifestMediaType=testimages.OCI_MANIFEST, imageTag="v1")["image"]

    assert stored["imageManifestMediaType"] == testimages.OCI_MANIFEST
    assert stored["imageId"]["imageDigest"] == testimages.sha256_digest(manifest)
    got = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": testimages.OCI_MANIFEST})
    assert got.headers["Content-Type"] == testimages.OCI_MANIFEST
    assert got.content == manifest


def test_put_image_tag_too_long_rejected(server, repository, seed):
    image = testimages.build_image(seed)
    upload_blobs(server, repository, image)

    # The ECR API model limits imageTag to 1-300 characters.
    with pytest.raises(ClientError) as excinfo:
        server.ecr_unchecked.put_image(repositoryName=repository, imageManifest=image.manifest.decode(),
                                       imageTag="t" * 301)

    status, code, _ = client_error(excinfo)
    assert status == 400
    assert code in ("InvalidParameterException", "ValidationException")
    assert image_ids(server, repository) == set()


# BatchGetImage


def test_batch_get_by_tag_and_digest(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")

    for image_id in ({"imageTag": "v1"}, {"imageDigest": image.digest}):
        response = server.ecr.batch_get_image(repositoryName=repository, imageIds=[image_id])

        assert response["failures"] == []
        assert len(response["images"]) == 1
        found = response["images"][0]
        assert found["imageManifest"] == image.manifest.decode()
        assert found["imageId"]["imageDigest"] == image.digest
        assert found["imageManifestMediaType"] == testimages.DOCKER_MANIFEST
        assert found["registryId"] == ACCOUNT_ID
        assert found["repositoryName"] == repository


def test_batch_get_missing_listed_in_failures(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")
    missing_digest = testimages.sha256_digest(b"missing " + seed.encode())

    response = server.ecr.batch_get_image(
        repositoryName=repository,
        imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}, {"imageDigest": missing_digest}])

    assert [found["imageId"]["imageDigest"] for found in response["images"]] == [image.digest]
    failures = {tuple(sorted(failure["imageId"].items())): failure for failure in response["failures"]}
    assert set(failures) == {(("imageTag", "nope"),), (("imageDigest", missing_digest),)}
    for failure in failures.values():
        assert failure["failureCode"] == "ImageNotFound"
        assert failure["failureReason"] == "Requested image not found"


def test_batch_get_unknown_repository_rejected(server, repository_name):
    with pytest.raises(ClientError) as excinfo:
        server.ecr.batch_get_image(repositoryName=repository_name, imageIds=[{"imageTag": "v1"}])

    _, code, message = client_error(excinfo)
    assert code == "RepositoryNotFoundException"
    assert message == repository_not_found_message(repository_name)


def test_batch_get_with_cli(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")

    output = server.aws_json("ecr", "batch-get-image", "--repository-name", repository,
                             "--image-ids", "imageTag=v1")

    assert output["images"][0]["imageManifest"] == image.manifest.decode()


def test_batch_get_accepted_media_types(server, repository, seed):
    image = testimages.build_image(seed, fmt="oci")
    put_image(server, repository, image, tag="v1")

    response = server.ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": "v1"}],
                                          acceptedMediaTypes=[testimages.DOCKER_MANIFEST, testimages.OCI_MANIFEST])

    assert response["failures"] == []
    assert response["images"][0]["imageManifest"] == image.manifest.decode()
    assert response["images"][0]["imageManifestMediaType"] == testimages.OCI_MANIFEST


@pytest.mark.parametrize("operation", ["batch_get_image", "batch_delete_image"])
def test_batch_over_100_ids_rejected(server, repository, operation):
    # The ECR API model allows 1-100 imageIds per BatchGetImage or BatchDeleteImage call.
    image_id_list = [{"imageTag": f"t{index}"} for index in range(101)]

    with pytest.raises(ClientError) as excinfo:
        getattr(server.ecr_unchecked, operation)(repositoryName=repository, imageIds=image_id_list)

    status, code, _ = client_error(excinfo)
    assert status == 400
    assert code in ("InvalidParameterException", "ValidationException")


# ListImages


def test_list_images_one_entry_per_tag(server, repository, seed):
    tagged = testimages.build_image(seed + "-tagged")
    untagged = testimages.build_image(seed + "-untagged")
    put_image(server, repository, tagged, tag="v1")
    server.ecr.put_image(repositoryName=repository, imageManifest=tagged.manifest.decode(),
                         imageTag="v2")
    put_image(server, repository, untagged)

    assert image_ids(server, repository) == {
        (tagged.digest, "v1"), (tagged.digest, "v2"), (untagged.digest, None)}


def test_list_images_tag_status_filter(server, repository, seed):
    tagged = testimages.build_image(seed + "-tagged")
    untagged = testimages.build_image(seed + "-untagged")
    put_image(server, repository, tagged, tag="v1")
    put_image(server, repository, untagged)

    assert image_ids(server, repository, filter={"tagStatus": "TAGGED"}) == {(tagged.digest, "v1")}
    assert image_ids(server, repository, filter={"tagStatus": "UNTAGGED"}) == {(untagged.digest, None)}
    assert image_ids(server, repository, filter={"tagStatus": "ANY"}) == {
        (tagged.digest, "v1"), (untagged.digest, None)}


def test_list_images_pagination(server, repository, seed):
    expected = set()
    for index in range(5):
        image = testimages.build_image(f"{seed}-{index}")
        put_image(server, repository, image, tag=f"t{index}")
        expected.add((image.digest, f"t{index}"))

    seen = []
    request = {"repositoryName": repository, "maxResults": 2}
    for _ in range(10):
        response = server.ecr.list_images(**request)
        assert len(response["imageIds"]) <= 2
        seen.extend((entry["imageDigest"], entry.get("imageTag")) for entry in response["imageIds"])
        if "nextToken" not in response:
            break
        request["nextToken"] = response["nextToken"]

    assert sorted(seen) == sorted(expected)


def test_list_images_empty_repository(server, repository):
    response = server.ecr.list_images(repositoryName=repository)

    assert response["imageIds"] == []
    assert "nextToken" not in response


def test_list_images_unknown_repository_rejected(server, repository_name):
    with pytest.raises(ClientError) as excinfo:
        server.ecr.list_images(repositoryName=repository_name)

    status, code, message = client_error(excinfo)
    assert status == 400
    assert code == "RepositoryNotFoundException"
    assert message == repository_not_found_message(repository_name)


@pytest.mark.parametrize("max_results", [0, 1001])
def test_list_images_max_results_out_of_range(server, repository, max_results):
    with pytest.raises(ClientError) as excinfo:
        server.ecr_unchecked.list_images(repositoryName=repository, maxResults=max_results)

    status, code, _ = client_error(excinfo)
    assert status == 400
    assert code in ("InvalidParameterException", "ValidationException")


def test_delete_image_keeps_other_repository(server, repository, seed):
    other = repository + "-other"
    server.create_repository(other)
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="v1")
    server.push_image(other, image, tag="v1")

    server.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": image.digest}])

    assert image_ids(server, other) == {(image.digest, "v1")}
    for blob in image.blobs:
        assert server.v2("GET", f"/{other}/blobs/{blob.digest}").content == blob.data


def test_list_images_invalid_tag_status_rejected(server, repository):
    with pytest.raises(ClientError) as excinfo:
        server.ecr_unchecked.list_images(repositoryName=repository, filter={"tagStatus": "SOME"})

    status, code, _ = client_error(excinfo)
    assert status == 400
    assert code in ("InvalidParameterException", "ValidationException")


# DescribeImages


def test_describe_images_detail(server, repository, seed):
    image = testimages.build_image(seed, layer_count=3)
    before = datetime.datetime.now(datetime.timezone.utc)
    put_image(server, repository, image, tag="v1")

    detail = describe_one(server, repository, imageTag="v1")

    assert detail["registryId"] == ACCOUNT_ID
    assert detail["repositoryName"] == repository
    assert detail["imageDigest"] == image.digest
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == image.layers_size
    assert detail["imageManifestMediaType"] == testimages.DOCKER_MANIFEST
    assert detail["artifactMediaType"] == testimages.DOCKER_CONFIG
    pushed = detail["imagePushedAt"]
    assert before - datetime.timedelta(seconds=5) <= pushed
    assert pushed <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)


def test_describe_images_all_and_filter(server, repository, seed):
    tagged = testimages.build_image(seed + "-tagged")
    untagged = testimages.build_image(seed + "-untagged")
    put_image(server, repository, tagged, tag="v1")
    put_image(server, repository, untagged)

    every = server.ecr.describe_images(repositoryName=repository)["imageDetails"]
    only_tagged = server.ecr.describe_images(repositoryName=repository,
                                             filter={"tagStatus": "TAGGED"})["imageDetails"]
    only_untagged = server.ecr.describe_images(repositoryName=repository,
                                               filter={"tagStatus": "UNTAGGED"})["imageDetails"]

    # DescribeImages returns one entry per image, not per tag.
    assert sorted(detail["imageDigest"] for detail in every) == sorted([tagged.digest, untagged.digest])
    assert [detail["imageDigest"] for detail in only_tagged] == [tagged.digest]
    assert [detail["imageDigest"] for detail in only_untagged] == [untagged.digest]


def test_describe_images_pagination(server, repository, seed):
    digests = set()
    for index in range(5):
        image = testimages.build_image(f"{seed}-{index}")
        put_image(server, repository, image, tag=f"t{index}")
        digests.add(image.digest)

    paginator = server.ecr.get_paginator("describe_images")
    pages = list(paginator.paginate(repositoryName=repository, PaginationConfig={"PageSize": 2}))

    seen = [detail["imageDigest"] for page in pages for detail in page["imageDetails"]]
    assert sorted(seen) == sorted(digests)
    assert max(len(page["imageDetails"]) for page in pages) <= 2


def test_describe_images_unknown_image_rejected(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")

    with pytest.raises(ClientError) as excinfo:
        server.ecr.describe_images(repositoryName=repository,
                                   imageIds=[{"imageTag": "v1"}, {"imageTag": "missing"}])

    status, code, message = client_error(excinfo)
    assert status == 400
    assert code == "ImageNotFoundException"
    assert "missing" in message
    assert f"'{repository}'" in message
    assert f"'{ACCOUNT_ID}'" in message


def test_describe_images_max_results_with_ids_rejected(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")

    # The ECR API reference: maxResults "cannot be used when you specify images with imageIds".
    with pytest.raises(ClientError) as excinfo:
        server.ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "v1"}],
                                   maxResults=1)

    _, code, _ = client_error(excinfo)
    assert code == "InvalidParameterException"


def test_describe_images_unknown_repository_rejected(server, repository_name):
    with pytest.raises(ClientError) as excinfo:
        server.ecr.describe_images(repositoryName=repository_name)

    _, code, message = client_error(excinfo)
    assert code == "RepositoryNotFoundException"
    assert message == repository_not_found_message(repository_name)


# BatchDeleteImage


def test_delete_tag_keeps_image_with_other_tag(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")
    server.ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode(),
                         imageTag="v2")

    response = server.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": "v1"}])

    assert response["failures"] == []
    assert response["imageIds"] == [{"imageDigest": image.digest, "imageTag": "v1"}]
    assert image_ids(server, repository) == {(image.digest, "v2")}


def test_delete_last_tag_deletes_image(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")

    server.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": "v1"}])

    # ECR user guide: "When you delete the last tag for an image, the image is deleted."
    assert image_ids(server, repository) == set()


def test_delete_by_digest_removes_all_tags(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")
    server.ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode(),
                         imageTag="v2")

    response = server.ecr.batch_delete_image(repositoryName=repository,
                                             imageIds=[{"imageDigest": image.digest}])

    assert response["failures"] == []
    deleted = {(entry["imageDigest"], entry.get("imageTag")) for entry in response["imageIds"]}
    assert {digest for digest, _ in deleted} == {image.digest}
    assert image_ids(server, repository) == set()
    got = server.ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": image.digest}])
    assert got["images"] == []


def test_delete_missing_listed_in_failures(server, repository, seed):
    image = testimages.build_image(seed)
    put_image(server, repository, image, tag="v1")

    response = server.ecr.batch_delete_image(repositoryName=repository,
                                             imageIds=[{"imageTag": "nope"}, {"imageTag": "v1"}])

    assert response["imageIds"] == [{"imageDigest": image.digest, "imageTag": "v1"}]
    assert len(response["failures"]) == 1
    failure = response["failures"][0]
    assert failure["imageId"] == {"imageTag": "nope"}
    assert failure["failureCode"] == "ImageNotFound"
    assert failure["failureReason"] == "Requested image not found"


def test_delete_without_digest_or_tag_fails(server, repository):
    response = server.ecr_unchecked.batch_delete_image(repositoryName=repository, imageIds=[{}])

    assert response["imageIds"] == []
    assert [failure["failureCode"] for failure in response["failures"]] == ["MissingDigestAndTag"]


def test_delete_invalid_digest_fails(server, repository):
    response = server.ecr.batch_delete_image(repositoryName=repository,
                                             imageIds=[{"imageDigest": "sha256:not-hex"}])

    assert response["imageIds"] == []
    assert [failure["failureCode"] for failure in response["failures"]] == ["InvalidImageDigest"]


def test_delete_child_of_index_fails(server, repository, seed):
    index = testimages.build_index(seed)
    for child in index.images:
        put_image(server, repository, child)
    server.ecr.put_image(repositoryName=repository, imageManifest=index.manifest.decode(),
                         imageTag="multi")
    child_digest = index.images[0].digest

    response = server.ecr.batch_delete_image(repositoryName=repository,
                                             imageIds=[{"imageDigest": child_digest}])

    assert response["imageIds"] == []
    assert [failure["failureCode"] for failure in response["failures"]] == ["ImageReferencedByManifestList"]
    assert (child_digest, None) in image_ids(server, repository)


def test_delete_unknown_repository_rejected(server, repository_name):
    with pytest.raises(ClientError) as excinfo:
        server.ecr.batch_delete_image(repositoryName=repository_name, imageIds=[{"imageTag": "v1"}])

    _, code, message = client_error(excinfo)
    assert code == "RepositoryNotFoundException"
    assert message == repository_not_found_message(repository_name)


# The same operations through the AWS CLI


def test_cli_image_lifecycle(server, repository, seed, tmp_path):
    image = testimages.build_image(seed)
    upload_blobs(server, repository, image)
    manifest_file = tmp_path / "manifest.json"
    manifest_file.write_bytes(image.manifest)

    put = server.aws_json("ecr", "put-image", "--repository-name", repository, "--image-tag", "v1",
                          "--image-manifest", f"file://{manifest_file}")
    tagged = server.aws_json("ecr", "list-images", "--repository-name", repository,
                             "--filter", "tagStatus=TAGGED")
    described = server.aws_json("ecr", "describe-images", "--repository-name", repository,
                                "--image-ids", "imageTag=v1")
    deleted = server.aws_json("ecr", "batch-delete-image", "--repository-name", repository,
                              "--image-ids", "imageTag=v1")
    after = server.aws_json("ecr", "list-images", "--repository-name", repository)

    assert put["image"]["imageId"] == {"imageDigest": image.digest, "imageTag": "v1"}
    assert tagged["imageIds"] == [{"imageDigest": image.digest, "imageTag": "v1"}]
    assert described["imageDetails"][0]["imageDigest"] == image.digest
    assert deleted["imageIds"] == [{"imageDigest": image.digest, "imageTag": "v1"}]
    assert after["imageIds"] == []
