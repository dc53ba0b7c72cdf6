"""OCI 1.1 referrers: manifests with a subject, GET /v2/<name>/referrers/<digest> and ListImageReferrers.

ListImageReferrers is missing from Debian's boto3, so it is sent as signed raw JSON.
"""

import json

import pytest

import testimages
from harness import oci_error_codes, repository_not_found_message

EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
EMPTY_CONFIG_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
SBOM_TYPE = "application/vnd.example.sbom.v1+json"
SIGNATURE_TYPE = "application/vnd.example.signature.v1+json"
SIGNATURE_CONFIG_TYPE = "application/vnd.example.signature.config.v1+json"


def subject_descriptor(image) -> dict:
    return {"mediaType": image.media_type, "digest": image.digest, "size": len(image.manifest)}


def push_artifact(server, repository, subject, seed, *, artifact_type=SBOM_TYPE, annotations=None,
                  config_type=None, tag=None):
    """Push an OCI artifact manifest whose subject is `subject` and return (digest, bytes, response).

    With `config_type` the manifest has no artifactType and a config blob of
    that media type, so its artifact type comes from the config.
    """
    payload = json.dumps({"seed": seed, "type": artifact_type}).encode()
    server.push_blob(repository, payload)
    document = {"schemaVersion": 2, "mediaType": testimages.OCI_MANIFEST}
    if config_type is None:
        server.push_blob(repository, EMPTY_CONFIG)
        document["artifactType"] = artifact_type
        document["config"] = {"mediaType": EMPTY_CONFIG_TYPE, "digest": EMPTY_CONFIG_DIGEST, "size": 2}
    else:
        config = json.dumps({"config-of": seed}).encode()
        server.push_blob(repository, config)
        document["config"] = {"mediaType": config_type, "digest": testimages.sha256_digest(config),
                              "size": len(config)}
    document["layers"] = [{"mediaType": "application/json", "digest": testimages.sha256_digest(payload),
                           "size": len(payload)}]
    if subject is not None:
        document["subject"] = subject
    if annotations is not None:
        document["annotations"] = annotations
    manifest = testimages.encode_json(document)
    digest = testimages.sha256_digest(manifest)
    response = server.put_manifest(repository, tag or digest, manifest, testimages.OCI_MANIFEST)
    assert response.status_code == 201, response.text
    return digest, manifest, response


def referrers(server, repository, digest, **params):
    response = server.v2("GET", f"/{repository}/referrers/{digest}", params=params)
    assert response.status_code == 200, response.text
    return response


def list_image_referrers(server, repository, digest, **extra):
    response = server.ecr_request("ListImageReferrers", {"repositoryName": repository,
                                                         "subjectId": {"imageDigest": digest}, **extra})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def subject(server, repository, seed):
    image = testimages.build_image(seed, fmt="oci")
    server.push_image(repository, image, tag="v1")
    return image


# Manifest PUT with a subject


def test_put_with_subject_sets_header(server, repository, subject, seed):
    _, _, response = push_artifact(server, repository, subject_descriptor(subject), seed)

    assert response.headers["OCI-Subject"] == subject.digest


def test_put_without_subject_no_header(server, repository, seed):
    image = testimages.build_image(seed, fmt="oci")

    for blob in image.blobs:
        server.push_blob(repository, blob.data)
    response = server.put_manifest(repository, "plain", image.manifest, image.media_type)

    assert response.status_code == 201
    assert "OCI-Subject" not in response.headers


def test_artifact_is_stored_and_listed(server, repository, subject, seed):
    digest, manifest, _ = push_artifact(server, repository, subject_descriptor(subject), seed, tag="sbom")

    fetched = server.v2("GET", f"/{repository}/manifests/{digest}",
                        headers={"Accept": testimages.OCI_MANIFEST})
    listed = server.ecr.list_images(repositoryName=repository)["imageIds"]
    described = server.ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])

    assert fetched.status_code == 200
    assert fetched.content == manifest
    assert {"imageDigest": digest, "imageTag": "sbom"} in listed
    detail = described["imageDetails"][0]
    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["sbom"]
    assert detail["imageManifestMediaType"] == testimages.OCI_MANIFEST


def test_untagged_artifact_listed_by_digest(server, repository, subject, seed):
    digest, _, _ = push_artifact(server, repository, subject_descriptor(subject), seed)

    listed = server.ecr.list_images(repositoryName=repository)["imageIds"]

    assert {"imageDigest": digest} in listed


# GET /v2/<name>/referrers/<digest>


def test_referrers_lists_artifacts(server, repository, subject, seed):
    sbom, sbom_bytes, _ = push_artifact(server, repository, subject_descriptor(subject), seed + "-sbom",
                                        annotations={"org.example.kind": "sbom"})
    signature, signature_bytes, _ = push_artifact(server, repository, subject_descriptor(subject),
                                                  seed + "-sig", artifact_type=SIGNATURE_TYPE)

    response = referrers(server, repository, subject.digest)

    assert response.headers["Content-Type"] == testimages.OCI_INDEX
    assert "OCI-Filters-Applied" not in response.headers
    body = response.json()
    assert body["schemaVersion"] == 2
    assert body["mediaType"] == testimages.OCI_INDEX
    by_digest = {descriptor["digest"]: descriptor for descriptor in body["manifests"]}
    assert sorted(by_digest) == sorted([sbom, signature])
    assert by_digest[sbom] == {"mediaType": testimages.OCI_MANIFEST, "digest": sbom, "size": len(sbom_bytes),
                               "artifactType": SBOM_TYPE, "annotations": {"org.example.kind": "sbom"}}
    assert by_digest[signature]["artifactType"] == SIGNATURE_TYPE
    assert by_digest[signature]["size"] == len(signature_bytes)
    assert by_digest[signature].get("annotations", {}) == {}


def test_referrers_artifact_type_from_config(server, repository, subject, seed):
    digest, _, _ = push_artifact(server, repository, subject_descriptor(subject), seed,
                                 config_type=SIGNATURE_CONFIG_TYPE)

    body = referrers(server, repository, subject.digest).json()

    assert [(d["digest"], d["artifactType"]) for d in body["manifests"]] == [(digest, SIGNATURE_CONFIG_TYPE)]


def test_referrers_filter_by_artifact_type(server, repository, subject, seed):
    push_artifact(server, repository, subject_descriptor(subject), seed + "-sbom")
    signature, _, _ = push_artifact(server, repository, subject_descriptor(subject), seed + "-sig",
                                    artifact_type=SIGNATURE_TYPE)

    response = referrers(server, repository, subject.digest, artifactType=SIGNATURE_TYPE)

    assert response.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in response.json()["manifests"]] == [signature]


def test_referrers_filter_matching_nothing(server, repository, subject, seed):
    push_artifact(server, repository, subject_descriptor(subject), seed)

    response = referrers(server, repository, subject.digest, artifactType="application/vnd.example.none")

    assert response.headers["OCI-Filters-Applied"] == "artifactType"
    assert response.json()["manifests"] == []


def test_referrers_unknown_subject_empty(server, repository, seed):
    response = referrers(server, repository, testimages.sha256_digest(seed.encode()))

    assert response.headers["Content-Type"] == testimages.OCI_INDEX
    assert response.json() == {"schemaVersion": 2, "mediaType": testimages.OCI_INDEX, "manifests": []}


def test_referrers_only_of_their_subject(server, repository, subject, seed):
    other = testimages.build_image(seed + "-other", fmt="oci")
    server.push_image(repository, other, tag="v2")
    mine, _, _ = push_artifact(server, repository, subject_descriptor(subject), seed + "-mine")
    theirs, _, _ = push_artifact(server, repository, subject_descriptor(other), seed + "-theirs")

    assert [d["digest"] for d in referrers(server, repository, subject.digest).json()["manifests"]] == [mine]
    assert [d["digest"] for d in referrers(server, repository, other.digest).json()["manifests"]] == [theirs]


def test_referrers_are_per_repository(server, repository, repository_name, subject, seed):
    other = repository_name + "-other"
    server.create_repository(other)
    server.push_image(other, subject, tag="v1")
    push_artifact(server, repository, subject_descriptor(subject), seed)

    assert referrers(server, other, subject.digest).json()["manifests"] == []


def test_referrer_of_an_index(server, repository, seed):
    index = testimages.build_index(seed, fmt="oci")
    server.push_image(repository, index, tag="multi")

    digest, _, response = push_artifact(server, repository, subject_descriptor(index), seed)

    assert response.headers["OCI-Subject"] == index.digest
    assert [d["digest"] for d in referrers(server, repository, index.digest).json()["manifests"]] == [digest]


def test_referrer_index_manifest(server, repository, subject, seed):
    """An image index can itself refer to a subject, and its artifactType is listed."""
    child, _, _ = push_artifact(server, repository, None, seed + "-child")
    child_size = len(server.v2("GET", f"/{repository}/manifests/{child}",
                               headers={"Accept": testimages.OCI_MANIFEST}).content)
    document = {"schemaVersion": 2, "mediaType": testimages.OCI_INDEX, "artifactType": SBOM_TYPE,
                "manifests": [{"mediaType": testimages.OCI_MANIFEST, "digest": child, "size": child_size}],
                "subject": subject_descriptor(subject)}
    manifest = testimages.encode_json(document)
    digest = testimages.sha256_digest(manifest)

    put = server.put_manifest(repository, digest, manifest, testimages.OCI_INDEX)

    assert put.status_code == 201, put.text
    assert put.headers["OCI-Subject"] == subject.digest
    listed = referrers(server, repository, subject.digest).json()["manifests"]
    assert len(listed) == 1
    assert listed[0]["digest"] == digest
    assert listed[0]["mediaType"] == testimages.OCI_INDEX
    assert listed[0]["size"] == len(manifest)
    assert listed[0]["artifactType"] == SBOM_TYPE


def test_deleted_referrer_not_listed(server, repository, subject, seed):
    kept_digest, _, _ = push_artifact(server, repository, subject_descriptor(subject), seed + "-kept")
    deleted_digest, _, _ = push_artifact(server, repository, subject_descriptor(subject), seed + "-gone")

    deleted = server.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": deleted_digest}])

    assert deleted["failures"] == []
    assert [d["digest"] for d in referrers(server, repository, subject.digest).json()["manifests"]] == [kept_digest]


def test_referrers_unknown_repository(server, repository_name, seed):
    response = server.v2("GET", f"/{repository_name}/referrers/{testimages.sha256_digest(seed.encode())}")

    assert response.status_code == 404
    assert oci_error_codes(response) == ["NAME_UNKNOWN"]


def test_referrers_malformed_digest(server, repository):
    response = server.v2("GET", f"/{repository}/referrers/sha256:nothex")

    assert response.status_code == 400
    assert oci_error_codes(response) == ["DIGEST_INVALID"]


def test_referrers_need_credentials(server, repository, subject):
    response = server.v2("GET", f"/{repository}/referrers/{subject.digest}", auth=False)

    assert response.status_code == 401


# ListImageReferrers (JSON API)


def test_list_image_referrers(server, repository, subject, seed):
    sbom, sbom_bytes, _ = push_artifact(server, repository, subject_descriptor(subject), seed + "-sbom",
                                        annotations={"org.example.kind": "sbom"})
    signature, _, _ = push_artifact(server, repository, subject_descriptor(subject), seed + "-sig",
                                    config_type=SIGNATURE_CONFIG_TYPE)

    body = list_image_referrers(server, repository, subject.digest)

    by_digest = {referrer["digest"]: referrer for referrer in body["referrers"]}
    assert sorted(by_digest) == sorted([sbom, signature])
    assert by_digest[sbom] == {"digest": sbom, "mediaType": testimages.OCI_MANIFEST, "artifactType": SBOM_TYPE,
                               "size": len(sbom_bytes), "annotations": {"org.example.kind": "sbom"},
                               "artifactStatus": "ACTIVE"}
    assert by_digest[signature]["artifactType"] == SIGNATURE_CONFIG_TYPE
    assert by_digest[signature]["artifactStatus"] == "ACTIVE"
    assert "nextToken" not in body


def test_list_image_referrers_filter(server, repository, subject, seed):
    sbom, _, _ = push_artifact(server, repository, subject_descriptor(subject), seed + "-sbom")
    signature, _, _ = push_artifact(server, repository, subject_descriptor(subject), seed + "-sig",
                                    artifact_type=SIGNATURE_TYPE)
    push_artifact(server, repository, subject_descriptor(subject), seed + "-other",
                  artifact_type="application/vnd.example.other")

    only_sbom = list_image_referrers(server, repository, subject.digest,
                                     filter={"artifactTypes": [SBOM_TYPE]})
    both = list_image_referrers(server, repository, subject.digest,
                                filter={"artifactTypes": [SBOM_TYPE, SIGNATURE_TYPE]})

    assert [r["digest"] for r in only_sbom["referrers"]] == [sbom]
    assert sorted(r["digest"] for r in both["referrers"]) == sorted([sbom, signature])


def test_list_image_referrers_unknown_subject(server, repository, seed):
    body = list_image_referrers(server, repository, testimages.sha256_digest(seed.encode()))

    assert body["referrers"] == []


def test_list_image_referrers_pages(server, repository, subject, seed):
    pushed = {push_artifact(server, repository, subject_descriptor(subject), f"{seed}-{index}")[0]
              for index in range(3)}

    first = list_image_referrers(server, repository, subject.digest, maxResults=2)
    assert len(first["referrers"]) == 2
    assert first.get("nextToken")
    second = list_image_referrers(server, repository, subject.digest, maxResults=2,
                                  nextToken=first["nextToken"])

    seen = [r["digest"] for r in first["referrers"] + second["referrers"]]
    assert sorted(seen) == sorted(pushed)
    assert "nextToken" not in second


def test_list_image_referrers_unknown_repository(server, repository_name, seed):
    response = server.ecr_request("ListImageReferrers", {
        "repositoryName": repository_name, "subjectId": {"imageDigest": testimages.sha256_digest(b"x")}})

    assert response.status_code == 400
    assert response.json()["__type"] == "RepositoryNotFoundException"
    assert response.json()["message"] == repository_not_found_message(repository_name)


@pytest.mark.parametrize("body", [
    {"subjectId": {"imageDigest": "sha256:nothex"}},
    {},
    {"subjectId": {}},
], ids=["malformed-digest", "no-subject", "no-digest"])
def test_list_image_referrers_bad_subject(server, repository, body):
    response = server.ecr_request("ListImageReferrers", {"repositoryName": repository, **body})

    assert response.status_code == 400
    assert response.json()["__type"] == "InvalidParameterException"
