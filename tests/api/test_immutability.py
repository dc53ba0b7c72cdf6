"""Tag immutability with exclusion filters, enforced on both APIs and seen through skopeo and docker.

A tag is protected in an IMMUTABLE repository, in an IMMUTABLE_WITH_EXCLUSION
repository when no filter matches it, and in a MUTABLE_WITH_EXCLUSION
repository when a filter matches it (ecr-semantics.md §3). Pushing a protected
tag that already exists fails, also with the digest it already names, unless
the server runs with --allow-immutable-repush. Pushes by digest and new tags
always work.

Debian's boto3 and awscli do not know imageTagMutabilityExclusionFilters, so
the repository settings go through signed raw JSON requests. The JavaScript
SDK tests in tests/js send the same fields through a client that has them.
test_tag_immutability.py covers plain IMMUTABLE repositories with raw requests.
"""

import subprocess

import pytest
from botocore.exceptions import ClientError

import testimages
from harness import ACCOUNT_ID, client_error, json_error, oci_error_codes
from test_docker import login, private_docker

SKOPEO = "/usr/bin/skopeo"
EXCLUSION_MODES = ["IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"]


def wildcard(*patterns) -> list:
    return [{"filterType": "WILDCARD", "filter": pattern} for pattern in patterns]


def immutable_message(repository: str, tag: str) -> str:
    return (f"The image tag '{tag}' already exists in the '{repository}' repository "
            "and cannot be overwritten because the tag is immutable.")


def null_filters_message(mode: str) -> str:
    return ("Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
            f"'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as {mode}'")


def create_raw(server, name, mode, filters=None):
    body = {"repositoryName": name, "imageTagMutability": mode}
    if filters is not None:
        body["imageTagMutabilityExclusionFilters"] = filters
    return server.ecr_request("CreateRepository", body)


def create_ok(server, name, mode, filters=None) -> dict:
    response = create_raw(server, name, mode, filters)
    assert response.status_code == 200, response.text
    return response.json()["repository"]


def put_mutability_raw(server, name, mode, filters=None):
    body = {"repositoryName": name, "imageTagMutability": mode}
    if filters is not None:
        body["imageTagMutabilityExclusionFilters"] = filters
    return server.ecr_request("PutImageTagMutability", body)


def describe_repository_raw(server, name) -> dict:
    response = server.ecr_request("DescribeRepositories", {"repositoryNames": [name]})
    assert response.status_code == 200, response.text
    return response.json()["repositories"][0]


def tag_target(server, repository, tag) -> str:
    images = server.ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}])["images"]
    return images[0]["imageId"]["imageDigest"]


def push_blobs(server, repository, image):
    for blob in image.blobs:
        server.push_blob(repository, blob.data)


def put_image(server, repository, image, tag):
    return server.ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode(), imageTag=tag)


# Settings


@pytest.mark.parametrize("mode", EXCLUSION_MODES)
def test_create_repository_with_exclusion_filters(server, repository_name, mode):
    filters = wildcard("latest", "dev-*")

    created = create_ok(server, repository_name, mode, filters)
    described = describe_repository_raw(server, repository_name)

    for repository in (created, described):
        assert repository["imageTagMutability"] == mode
        assert repository["imageTagMutabilityExclusionFilters"] == filters
    boto = server.ecr.describe_repositories(repositoryNames=[repository_name])["repositories"][0]
    assert boto["imageTagMutability"] == mode


@pytest.mark.parametrize("mode", ["MUTABLE", "IMMUTABLE"])
def test_create_repository_plain_mode_has_no_filters(server, repository_name, mode):
    created = create_ok(server, repository_name, mode)

    assert created["imageTagMutability"] == mode
    assert "imageTagMutabilityExclusionFilters" not in created
    assert "imageTagMutabilityExclusionFilters" not in describe_repository_raw(server, repository_name)


def test_put_image_tag_mutability_sets_and_clears_filters(server, repository):
    filters = wildcard("release-*")

    set_response = put_mutability_raw(server, repository, "MUTABLE_WITH_EXCLUSION", filters)
    with_filters = describe_repository_raw(server, repository)
    clear_response = put_mutability_raw(server, repository, "IMMUTABLE")
    without_filters = describe_repository_raw(server, repository)

    assert set_response.status_code == 200, set_response.text
    assert set_response.json() == {"registryId": ACCOUNT_ID, "repositoryName": repository,
                                   "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
                                   "imageTagMutabilityExclusionFilters": filters}
    assert with_filters["imageTagMutability"] == "MUTABLE_WITH_EXCLUSION"
    assert with_filters["imageTagMutabilityExclusionFilters"] == filters
    assert clear_response.json() == {"registryId": ACCOUNT_ID, "repositoryName": repository,
                                     "imageTagMutability": "IMMUTABLE"}
    assert without_filters["imageTagMutability"] == "IMMUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in without_filters


@pytest.mark.parametrize("mode", ["MUTABLE", "IMMUTABLE"])
def test_filters_with_plain_mode_rejected(server, repository_name, mode):
    created = create_raw(server, repository_name, mode, wildcard("latest"))
    server.create_repository(repository_name)
    put = put_mutability_raw(server, repository_name, mode, wildcard("latest"))

    assert json_error(created)[:2] == (400, "InvalidParameterException")
    assert json_error(put)[:2] == (400, "InvalidParameterException")
    assert describe_repository_raw(server, repository_name)["imageTagMutability"] == "MUTABLE"


@pytest.mark.parametrize("mode", EXCLUSION_MODES)
@pytest.mark.parametrize("filters", [None, "null"], ids=["absent", "null"])
def test_exclusion_mode_without_filters_rejected(server, repository_name, mode, filters):
    body = {"repositoryName": repository_name, "imageTagMutability": mode}
    if filters == "null":
        body["imageTagMutabilityExclusionFilters"] = None

    created = server.ecr_request("CreateRepository", body)
    server.create_repository(repository_name)
    put = server.ecr_request("PutImageTagMutability", body)

    assert json_error(created) == (400, "InvalidParameterException", null_filters_message(mode))
    assert json_error(put) == (400, "InvalidParameterException", null_filters_message(mode))
    assert describe_repository_raw(server, repository_name)["imageTagMutability"] == "MUTABLE"


INVALID_FILTERS = {
    "empty-list": [],
    "six-filters": wildcard("a", "b", "c", "d", "e", "f"),
    "empty-filter": wildcard(""),
    "filter-129-characters": wildcard("a" * 129),
    "space": wildcard("dev 1"),
    "slash": wildcard("dev/1"),
    "question-mark": wildcard("dev-?"),
    "colon": wildcard("dev:1"),
    "filter-type-regex": [{"filterType": "REGEX", "filter": "dev-.*"}],
    "filter-type-lowercase": [{"filterType": "wildcard", "filter": "dev-*"}],
    "filter-type-missing": [{"filter": "dev-*"}],
    "filter-missing": [{"filterType": "WILDCARD"}],
}


@pytest.mark.parametrize("name", list(INVALID_FILTERS))
def test_invalid_exclusion_filters_rejected(server, repository_name, name):
    created = create_raw(server, repository_name, "IMMUTABLE_WITH_EXCLUSION", INVALID_FILTERS[name])
    server.create_repository(repository_name)
    put = put_mutability_raw(server, repository_name, "MUTABLE_WITH_EXCLUSION", INVALID_FILTERS[name])

    for response in (created, put):
        status, code, message = json_error(response)
        assert (status, code) == (400, "InvalidParameterException"), response.text
        assert "imageTagMutabilityExclusionFilters" in message
    assert describe_repository_raw(server, repository_name)["imageTagMutability"] == "MUTABLE"


def test_largest_valid_filters_accepted(server, repository_name):
    filters = wildcard("a" * 128, "Z9._-*", "*", "**", "x*y*z")

    created = create_ok(server, repository_name, "IMMUTABLE_WITH_EXCLUSION", filters)

    assert created["imageTagMutabilityExclusionFilters"] == filters


# Enforcement on both APIs


# (mode, filters, tag, protected)
MATRIX = [
    ("IMMUTABLE", None, "v1", True),
    ("IMMUTABLE", None, "latest", True),
    ("MUTABLE", None, "v1", False),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "dev-*"), "latest", False),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "dev-*"), "dev-1", False),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "dev-*"), "dev-", False),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "dev-*"), "v1", True),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "dev-*"), "mydev-1", True),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "dev-*"), "latest2", True),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "dev-*"), "dev", True),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "dev-*"), "Latest", True),
    ("IMMUTABLE_WITH_EXCLUSION", ("*",), "anything", False),
    ("IMMUTABLE_WITH_EXCLUSION", ("v*-rc",), "v1.2-rc", False),
    ("IMMUTABLE_WITH_EXCLUSION", ("v*-rc",), "v1.2-rc1", True),
    ("IMMUTABLE_WITH_EXCLUSION", ("*-snapshot*",), "1.0-snapshot-2", False),
    ("MUTABLE_WITH_EXCLUSION", ("release-*", "*-final"), "release-1", True),
    ("MUTABLE_WITH_EXCLUSION", ("release-*", "*-final"), "1.0-final", True),
    ("MUTABLE_WITH_EXCLUSION", ("release-*", "*-final"), "latest", False),
    ("MUTABLE_WITH_EXCLUSION", ("release-*", "*-final"), "prerelease-1", False),
    ("MUTABLE_WITH_EXCLUSION", ("release-*", "*-final"), "1.0-final-2", False),
]


def matrix_id(case) -> str:
    mode, filters, tag, protected = case
    return f"{mode}-{'+'.join(filters or ())}-{tag}-{'protected' if protected else 'mutable'}"


@pytest.fixture(params=MATRIX, ids=[matrix_id(case) for case in MATRIX])
def matrix_case(request, server, repository_name, seed):
    """Repository set up per one MATRIX row, with a first image pushed to the row's tag."""
    mode, filters, tag, protected = request.param
    create_ok(server, repository_name, mode, wildcard(*filters) if filters else None)
    first = testimages.build_image(seed + "-1")
    second = testimages.build_image(seed + "-2")
    server.push_image(repository_name, first, tag=tag)
    push_blobs(server, repository_name, second)
    return repository_name, tag, protected, first, second


def test_v2_overwrite_follows_mutability(server, matrix_case):
    repository, tag, protected, first, second = matrix_case

    response = server.put_manifest(repository, tag, second.manifest, second.media_type)

    if protected:
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["code"] == "TAG_INVALID"
        assert response.json()["errors"][0]["message"] == immutable_message(repository, tag)
        assert tag_target(server, repository, tag) == first.digest
    else:
        assert response.status_code == 201, response.text
        assert tag_target(server, repository, tag) == second.digest


def test_put_image_overwrite_follows_mutability(server, matrix_case):
    repository, tag, protected, first, second = matrix_case

    if protected:
        with pytest.raises(ClientError) as excinfo:
            put_image(server, repository, second, tag)
        assert client_error(excinfo) == (400, "ImageTagAlreadyExistsException", immutable_message(repository, tag))
        assert tag_target(server, repository, tag) == first.digest
    else:
        put_image(server, repository, second, tag)
        assert tag_target(server, repository, tag) == second.digest


def test_same_digest_repush_follows_mutability(server, matrix_case):
    repository, tag, protected, first, _ = matrix_case

    response = server.put_manifest(repository, tag, first.manifest, first.media_type)
    with pytest.raises(ClientError) as excinfo:
        put_image(server, repository, first, tag)

    if protected:
        assert response.status_code == 400, response.text
        assert oci_error_codes(response) == ["TAG_INVALID"]
        assert client_error(excinfo) == (400, "ImageTagAlreadyExistsException", immutable_message(repository, tag))
    else:
        # A mutable tag takes the same image again on /v2/; PutImage reports that nothing changed.
        assert response.status_code == 201, response.text
        assert client_error(excinfo)[:2] == (400, "ImageAlreadyExistsException")
    assert tag_target(server, repository, tag) == first.digest


def test_digest_and_new_tag_pushes_always_work(server, matrix_case):
    repository, tag, _, first, second = matrix_case

    by_digest = server.put_manifest(repository, second.digest, second.manifest, second.media_type)
    new_tag = server.put_manifest(repository, tag + "-new", second.manifest, second.media_type)
    put_image(server, repository, first, tag + "-json")

    assert by_digest.status_code == 201, by_digest.text
    assert new_tag.status_code == 201, new_tag.text
    listed = {(entry["imageDigest"], entry.get("imageTag"))
              for entry in server.ecr.list_images(repositoryName=repository)["imageIds"]}
    assert listed == {(first.digest, tag), (first.digest, tag + "-json"), (second.digest, tag + "-new")}


def test_changing_mode_applies_to_existing_tags(server, repository, seed):
    first = testimages.build_image(seed + "-1")
    second = testimages.build_image(seed + "-2")
    server.push_image(repository, first, tag="v1")
    server.push_image(repository, first, tag="dev-1")
    push_blobs(server, repository, second)

    assert put_mutability_raw(server, repository, "IMMUTABLE_WITH_EXCLUSION", wildcard("dev-*")).status_code == 200
    protected = server.put_manifest(repository, "v1", second.manifest, second.media_type)
    excluded = server.put_manifest(repository, "dev-1", second.manifest, second.media_type)
    assert put_mutability_raw(server, repository, "MUTABLE").status_code == 200
    released = server.put_manifest(repository, "v1", second.manifest, second.media_type)

    assert protected.status_code == 400
    assert excluded.status_code == 201, excluded.text
    assert released.status_code == 201, released.text
    assert tag_target(server, repository, "v1") == second.digest


# --allow-immutable-repush


@pytest.fixture
def repush_server(server_factory):
    return server_factory("--allow-immutable-repush")


@pytest.mark.parametrize("mode, filters, tag", [
    ("IMMUTABLE", None, "v1"),
    ("IMMUTABLE_WITH_EXCLUSION", ("dev-*",), "v1"),
    ("MUTABLE_WITH_EXCLUSION", ("v*",), "v1"),
])
def test_allow_immutable_repush_accepts_same_digest(repush_server, mode, filters, tag):
    server = repush_server
    create_ok(server, "repush", mode, wildcard(*filters) if filters else None)
    first = testimages.build_image(f"repush-{mode}-1")
    second = testimages.build_image(f"repush-{mode}-2")
    server.push_image("repush", first, tag=tag)
    push_blobs(server, "repush", second)

    same = server.put_manifest("repush", tag, first.manifest, first.media_type)
    other = server.put_manifest("repush", tag, second.manifest, second.media_type)
    with pytest.raises(ClientError) as other_json:
        put_image(server, "repush", second, tag)

    assert same.status_code == 201, same.text
    assert other.status_code == 400, other.text
    assert other.json()["errors"][0]["message"] == immutable_message("repush", tag)
    assert client_error(other_json) == (400, "ImageTagAlreadyExistsException", immutable_message("repush", tag))
    assert tag_target(server, "repush", tag) == first.digest


def test_allow_immutable_repush_put_image_same_digest(repush_server):
    server = repush_server
    create_ok(server, "repush-json", "IMMUTABLE")
    image = testimages.build_image("repush-json")
    server.push_image("repush-json", image, tag="v1")

    with pytest.raises(ClientError) as excinfo:
        put_image(server, "repush-json", image, "v1")

    # As in a mutable repository: nothing changed, so PutImage reports that the image already exists.
    status, code, message = client_error(excinfo)
    assert (status, code) == (400, "ImageAlreadyExistsException")
    assert message == (f"Image with digest '{image.digest}' and tag 'v1' already exists in the repository "
                       f"with name 'repush-json' in registry with id '{ACCOUNT_ID}'")


# skopeo


def skopeo(server, *args) -> subprocess.CompletedProcess:
    return subprocess.run([SKOPEO, *args], capture_output=True, text=True, env=server.env, timeout=1800)


def skopeo_copy(server, source, destination, *extra) -> subprocess.CompletedProcess:
    return skopeo(server, "copy", *extra, "--dest-tls-verify=false", "--dest-creds",
                  f"AWS:{server.login_password()}", source, f"docker://{server.host}/{destination}")


def layout(fixture_images, fixture_manifest, name) -> str:
    return f"oci:{fixture_images / fixture_manifest[name]['path']}:latest"


def test_skopeo_overwrite_of_immutable_tag_fails(server, repository_name, fixture_images, fixture_manifest):
    create_ok(server, repository_name, "IMMUTABLE")
    first = skopeo_copy(server, layout(fixture_images, fixture_manifest, "single"), f"{repository_name}:v1")
    assert first.returncode == 0, first.stderr

    second = skopeo_copy(server, layout(fixture_images, fixture_manifest, "multilayer"), f"{repository_name}:v1")

    assert second.returncode != 0
    assert immutable_message(repository_name, "v1") in second.stderr
    assert tag_target(server, repository_name, "v1") == fixture_manifest["single"]["digest"]


@pytest.mark.parametrize("mode, filters, tag", [
    ("IMMUTABLE_WITH_EXCLUSION", ("latest",), "latest"),
    ("MUTABLE_WITH_EXCLUSION", ("release-*",), "latest"),
])
def test_skopeo_overwrite_of_excluded_tag_works(server, repository_name, fixture_images, fixture_manifest,
                                                mode, filters, tag):
    create_ok(server, repository_name, mode, wildcard(*filters))
    first = skopeo_copy(server, layout(fixture_images, fixture_manifest, "single"), f"{repository_name}:{tag}")
    assert first.returncode == 0, first.stderr

    second = skopeo_copy(server, layout(fixture_images, fixture_manifest, "multilayer"), f"{repository_name}:{tag}")

    assert second.returncode == 0, second.stderr
    assert tag_target(server, repository_name, tag) == fixture_manifest["multilayer"]["digest"]


def test_skopeo_multiplatform_into_immutable(server, repository_name, fixture_images, fixture_manifest):
    entry = fixture_manifest["multiplatform"]
    create_ok(server, repository_name, "IMMUTABLE")
    source = layout(fixture_images, fixture_manifest, "multiplatform")

    first = skopeo_copy(server, source, f"{repository_name}:v1", "--all")
    again = skopeo_copy(server, source, f"{repository_name}:v1", "--all")
    other_tag = skopeo_copy(server, source, f"{repository_name}:v2", "--all")

    assert first.returncode == 0, first.stderr
    listed = {(image_id["imageDigest"], image_id.get("imageTag"))
              for image_id in server.ecr.list_images(repositoryName=repository_name)["imageIds"]}
    children = {(child["digest"], None) for child in entry["manifests"]}
    assert listed == {(entry["digest"], "v1"), (entry["digest"], "v2"), *children}
    # The same index to the same tag again is refused (no --allow-immutable-repush), a new tag is not.
    assert again.returncode != 0
    assert immutable_message(repository_name, "v1") in again.stderr
    assert other_tag.returncode == 0, other_tag.stderr


def test_skopeo_multiplatform_repush_allowed_with_flag(repush_server, fixture_images, fixture_manifest):
    server = repush_server
    create_ok(server, "multi", "IMMUTABLE")
    source = layout(fixture_images, fixture_manifest, "multiplatform")

    first = skopeo_copy(server, source, "multi:v1", "--all")
    again = skopeo_copy(server, source, "multi:v1", "--all")

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert tag_target(server, "multi", "v1") == fixture_manifest["multiplatform"]["digest"]


# docker


@pytest.fixture(scope="module")
def docker(server, tmp_path_factory):
    yield from private_docker(server.env, tmp_path_factory)


def docker_push_two(docker, server, repository, fixture_images, fixture_manifest, tag):
    """Push the single fixture image, then the multilayer one, to the same tag; return the second push."""
    assert login(docker, server, server.login_password()).returncode == 0
    target = f"{server.host}/{repository}:{tag}"
    for name in ("single-docker-archive", "multilayer-docker-archive"):
        entry = fixture_manifest[name]
        docker.run("load", "--input", str(fixture_images / entry["path"]))
        docker.run("tag", entry["reference"], target)
        result = docker.run("push", target, check=False)
        if name == "single-docker-archive":
            assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_docker_push_over_immutable_tag_fails(docker, server, repository_name, fixture_images, fixture_manifest):
    create_ok(server, repository_name, "IMMUTABLE_WITH_EXCLUSION", wildcard("latest"))

    result = docker_push_two(docker, server, repository_name, fixture_images, fixture_manifest, "v1")

    assert result.returncode != 0
    assert f"tag invalid: {immutable_message(repository_name, 'v1')}" in result.stderr


@pytest.mark.slow
def test_docker_push_over_excluded_tag_works(docker, server, repository_name, fixture_images, fixture_manifest):
    create_ok(server, repository_name, "IMMUTABLE_WITH_EXCLUSION", wildcard("latest"))

    result = docker_push_two(docker, server, repository_name, fixture_images, fixture_manifest, "latest")

    assert result.returncode == 0, result.stderr
    detail = server.ecr.describe_images(repositoryName=repository_name, imageIds=[{"imageTag": "latest"}])
    assert detail["imageDetails"][0]["imageManifestMediaType"] == testimages.DOCKER_MANIFEST
    assert len(server.ecr.list_images(repositoryName=repository_name)["imageIds"]) == 2
