"""Lifecycle policies end to end: policy API, grammar validation, previews, runs, archive and restore.

Images get their ages from the server clock: the tests push an image, move the
clock on (POST /_localecr/clock), push the next one, and so on, then apply a
policy with POST /_localecr/lifecycle/run. The outcomes come from the AWS
lifecycle documentation's examples (ecr-semantics.md §4.3, vectors T1 to T6)
plus archive rules. `aws ecr describe-images` and `aws ecr list-images` then
show which images were expired (in neither), archived (listed, not
described) or kept (in both).

Debian's boto3 and awscli do not know the archive fields (imageStatus,
filter.imageStatus, UpdateImageStorageClass, the preview's storage classes), so
those go through signed raw JSON requests.
"""

import json
import time
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

import testimages
from harness import (ACCOUNT_ID, LocalEcrServer, advance_clock, client_error, json_error, oci_error_codes,
                     repository_not_found_message, server_now)

START = "2024-01-01T00:00:00Z"
DAY = 86400
HOUR = 3600
POLICY_ERROR_PREFIX = ("Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
                       "'Lifecycle policy validation failure: ")
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
SBOM_TYPE = "application/vnd.example.sbom.v1+json"
# How long a scheduled run may take to show after it became due (passes run every second).
SCHEDULE_TIMEOUT_SECONDS = 15


@pytest.fixture(scope="module")
def server(localecr_binary, tmp_path_factory):
    """The module's server: its clock starts at START and lifecycle runs only when a test requests a run."""
    server = LocalEcrServer(localecr_binary, tmp_path_factory.mktemp("localecr-lifecycle"),
                            ["--clock", START, "--lifecycle-interval", "0"])
    server.start()
    yield server
    server.stop()


# Policies


def rule(priority, selection, action=None, description=None) -> dict:
    document = {"rulePriority": priority}
    if description is not None:
        document["description"] = description
    document["selection"] = selection
    document["action"] = action or {"type": "expire"}
    return document


def count_more_than(number, tag_status="any", **extra) -> dict:
    return {"tagStatus": tag_status, **extra, "countType": "imageCountMoreThan", "countNumber": number}


def since(count_type, days, tag_status="any", **extra) -> dict:
    return {"tagStatus": tag_status, **extra, "countType": count_type, "countUnit": "days", "countNumber": days}


def tagged(patterns=None, prefixes=None) -> dict:
    selection = {"tagStatus": "tagged"}
    if patterns is not None:
        selection["tagPatternList"] = patterns
    if prefixes is not None:
        selection["tagPrefixList"] = prefixes
    return selection


TRANSITION = {"type": "transition", "targetStorageClass": "archive"}


def policy_text(*rules) -> str:
    text = json.dumps({"rules": list(rules)})
    assert len(text) >= 100, "ECR's lifecyclePolicyText is at least 100 characters"
    return text


# Images with ages


@dataclass
class Aged:
    """An image to push `days` before the check; an empty `tags` pushes it by digest only."""

    name: str
    tags: tuple
    days: float


def push_tags(server, repository, image, tags):
    if not tags:
        server.push_image(repository, image)
        return
    server.push_image(repository, image, tag=tags[0])
    for tag in tags[1:]:
        response = server.put_manifest(repository, tag, image.manifest, image.media_type)
        assert response.status_code == 201, response.text


def push_aged(server, repository, seed, specs) -> dict:
    """Push one image per spec, oldest first, moving the clock so each ends up `days` old less an hour.

    The hour keeps an image of N days short of "older than N days" while the
    clock runs on in real time. Images with equal ages are pushed in the
    order given, so the later one counts as newer. Returns name -> Image.
    """
    images = {}
    ordered = sorted(specs, key=lambda spec: -spec.days)
    for index, spec in enumerate(ordered):
        if index > 0:
            advance_clock(server, (ordered[index - 1].days - spec.days) * DAY)
        server.renew_token()
        image = testimages.build_image(f"{seed}-{spec.name}")
        push_tags(server, repository, image, spec.tags)
        images[spec.name] = image
    advance_clock(server, ordered[-1].days * DAY - HOUR)
    server.renew_token()
    return images


# Reading the outcome


def run_lifecycle(server, repository=None, *, raw_body=None):
    body = raw_body if raw_body is not None else (json.dumps({"repository": repository}).encode()
                                                  if repository is not None else b"")
    return server.http.post(server.url + "/_localecr/lifecycle/run", data=body,
                            headers={"Content-Type": "application/json"}, timeout=60)


def run_ok(server, repository=None) -> dict:
    response = run_lifecycle(server, repository)
    assert response.status_code == 200, response.text
    return response.json()


def cli_state(server, repository) -> tuple:
    """(digests that `aws ecr describe-images` shows, digests that `aws ecr list-images` shows)."""
    described = server.aws_json("ecr", "describe-images", "--repository-name", repository)["imageDetails"]
    listed = server.aws_json("ecr", "list-images", "--repository-name", repository)["imageIds"]
    return {detail["imageDigest"] for detail in described}, {image_id["imageDigest"] for image_id in listed}


def describe_raw(server, repository, image_status=None, **extra) -> list:
    body = {"repositoryName": repository, **extra}
    if image_status is not None:
        body["filter"] = {"imageStatus": image_status}
    response = server.ecr_request("DescribeImages", body)
    assert response.status_code == 200, response.text
    return response.json()["imageDetails"]


def preview_raw(server, repository, **extra) -> dict:
    response = server.ecr_request("GetLifecyclePolicyPreview", {"repositoryName": repository, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def put_policy_cli(server, repository, text) -> dict:
    return server.aws_json("ecr", "put-lifecycle-policy", "--repository-name", repository,
                           "--lifecycle-policy-text", text)


def epoch(value) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


# The documented examples, plus archive rules


VECTORS = {
    "T1": {
        "images": [Aged("A", ("beta-1", "prod-1"), 10), Aged("B", ("beta-2", "prod-2"), 9), Aged("C", ("beta-3",), 8)],
        "rules": [rule(1, count_more_than(1, **tagged(patterns=["prod*"]))),
                  rule(2, count_more_than(1, **tagged(patterns=["beta*"])))],
        "expired": {"A": 1},
    },
    "T1-prefixes": {
        "images": [Aged("A", ("beta-1", "prod-1"), 10), Aged("B", ("beta-2", "prod-2"), 9), Aged("C", ("beta-3",), 8)],
        "rules": [rule(1, count_more_than(1, **tagged(prefixes=["prod"]))),
                  rule(2, count_more_than(1, **tagged(prefixes=["beta"])))],
        "expired": {"A": 1},
    },
    "T2": {
        "images": [Aged("A", ("beta-1", "prod-1"), 10), Aged("B", ("beta-2", "prod-2"), 9), Aged("C", ("beta-3",), 8)],
        "rules": [rule(1, count_more_than(1, **tagged(patterns=["beta*"]))),
                  rule(2, count_more_than(1, **tagged(patterns=["prod*"])))],
        "expired": {"A": 1, "B": 1},
    },
    "T3": {
        "images": [Aged("A", ("alpha-1",), 12), Aged("B", ("beta-1",), 11), Aged("C", ("alpha-2", "beta-2"), 10),
                   Aged("D", ("alpha-3",), 4), Aged("E", ("beta-3",), 3), Aged("F", ("alpha-4", "beta-4"), 2)],
        "rules": [rule(1, since("sinceImagePushed", 5, **tagged(patterns=["alpha*", "beta*"])))],
        "expired": {"C": 1},
    },
    "T4": {
        "images": [Aged("A", ("alpha-1", "beta-1", "gamma-1"), 10), Aged("B", ("alpha-2", "beta-2"), 9),
                   Aged("C", ("alpha-3", "beta-3", "gamma-2"), 8)],
        "rules": [rule(1, count_more_than(1, **tagged(patterns=["alpha*", "beta*"])))],
        "expired": {"A": 1, "B": 1},
    },
    "T5": {
        "images": [Aged("A", ("alpha-1",), 4), Aged("B", ("beta-1",), 3), Aged("C", (), 2), Aged("D", ("alpha-2",), 1)],
        "rules": [rule(1, count_more_than(1))],
        "expired": {"A": 1, "B": 1, "C": 1},
    },
    "T6": {
        # E is pushed after D at the same age, so E counts as the newest image.
        "images": [Aged("A", ("alpha-1", "beta-1"), 4), Aged("B", (), 3), Aged("C", ("alpha-2",), 2),
                   Aged("D", ("9f8e7d6",), 1), Aged("E", (), 1)],
        "rules": [rule(1, count_more_than(1, **tagged(patterns=["alpha*"]))),
                  rule(2, since("sinceImagePushed", 1, tag_status="untagged")),
                  rule(3, count_more_than(1))],
        "expired": {"A": 1, "B": 2, "D": 3},
    },
    "archive-after-30-days": {
        "images": [Aged("P1", ("prod-1",), 40), Aged("D1", ("dev-1",), 40), Aged("U", (), 20),
                   Aged("P2", ("prod-2",), 10), Aged("N", (), 2)],
        "rules": [rule(1, since("sinceImagePushed", 30, **tagged(prefixes=["prod"])), TRANSITION,
                       description="archive production images after 30 days"),
                  rule(2, since("sinceImagePushed", 14, tag_status="untagged")),
                  rule(3, since("sinceImagePushed", 35))],
        "expired": {"U": 2, "D1": 3},
        "archived": {"P1": 1},
    },
    "archive-old-count": {
        # Keep the two newest release images active and archive the rest; expire old untagged images.
        "images": [Aged("R1", ("release-1",), 50), Aged("R2", ("release-2",), 40), Aged("R3", ("release-3",), 30),
                   Aged("R4", ("release-4",), 20), Aged("U1", (), 25), Aged("U2", (), 3)],
        "rules": [rule(1, count_more_than(2, **tagged(patterns=["release-*"])), TRANSITION),
                  rule(2, since("sinceImagePushed", 7, tag_status="untagged"))],
        "expired": {"U1": 2},
        "archived": {"R1": 1, "R2": 1},
    },
}


@pytest.mark.parametrize("vector", list(VECTORS))
def test_policy_vector_end_to_end(server, repository, seed, vector):
    spec = VECTORS[vector]
    images = push_aged(server, repository, seed, spec["images"])
    expired = {images[name].digest: priority for name, priority in spec["expired"].items()}
    archived = {images[name].digest: priority for name, priority in spec.get("archived", {}).items()}
    kept = {image.digest for image in images.values()} - set(expired) - set(archived)
    text = policy_text(*spec["rules"])

    put = put_policy_cli(server, repository, text)
    assert put == {"registryId": ACCOUNT_ID, "repositoryName": repository, "lifecyclePolicyText": text}

    # The preview names exactly the images that the run will act on.
    started = server.ecr.start_lifecycle_policy_preview(repositoryName=repository)
    assert started["status"] == "IN_PROGRESS"
    assert started["lifecyclePolicyText"] == text
    server.ecr.get_waiter("lifecycle_policy_preview_complete").wait(
        repositoryName=repository, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    preview = preview_raw(server, repository)
    assert preview["status"] == "COMPLETE"
    assert preview["lifecyclePolicyText"] == text
    assert "nextToken" not in preview
    pushed_at = {detail["imageDigest"]: detail["imagePushedAt"] for detail in describe_raw(server, repository)}
    results = {result["imageDigest"]: result for result in preview["previewResults"]}
    assert set(results) == set(expired) | set(archived)
    by_digest = {image.digest: (name, image) for name, image in images.items()}
    for digest, result in results.items():
        name, _ = by_digest[digest]
        if digest in expired:
            assert result["action"] == {"type": "EXPIRE"}, name
            assert result["appliedRulePriority"] == expired[digest], name
        else:
            assert result["action"] == {"type": "TRANSITION", "targetStorageClass": "ARCHIVE"}, name
            assert result["appliedRulePriority"] == archived[digest], name
        assert result["storageClass"] == "STANDARD", name
        assert sorted(result["imageTags"]) == sorted(next(s.tags for s in spec["images"] if s.name == name)), name
        assert result["imagePushedAt"] == pytest.approx(pushed_at[digest], abs=0.001), name
    assert preview["summary"]["expiringImageTotalCount"] == len(expired)
    transitioning = {entry["targetStorageClass"]: entry["imageTotalCount"]
                     for entry in preview["summary"].get("transitioningImageTotalCounts", [])}
    assert transitioning.get("ARCHIVE", 0) == len(archived)

    run = run_ok(server, repository)

    assert run["repositoriesEvaluated"] == 1
    assert {entry["imageDigest"]: entry["rulePriority"] for entry in run["expired"]} == expired
    assert {entry["imageDigest"]: entry["rulePriority"] for entry in run["transitioned"]} == archived
    assert all(entry["repositoryName"] == repository for entry in run["expired"] + run["transitioned"])
    assert all(entry["targetStorageClass"] == "ARCHIVE" for entry in run["transitioned"])
    described, listed = cli_state(server, repository)
    assert described == kept, "describe-images shows exactly the kept images"
    assert listed == kept | set(archived), "list-images shows the kept and the archived images"
    archived_details = describe_raw(server, repository, "ARCHIVED")
    assert {detail["imageDigest"] for detail in archived_details} == set(archived)
    assert all(detail["imageStatus"] == "ARCHIVED" for detail in archived_details)

    # Applying the policy again finds nothing more to do.
    again = run_ok(server, repository)
    assert (again["expired"], again["transitioned"]) == ([], [])
    assert cli_state(server, repository) == (kept, kept | set(archived))


def test_run_only_named_repository(server, repository_name, seed):
    first, second = repository_name + "-a", repository_name + "-b"
    images = {}
    for name in (first, second):
        server.create_repository(name)
        images[name] = push_aged(server, name, f"{seed}-{name}", [Aged("old", (), 3), Aged("new", (), 1)])
        server.ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=policy_text(rule(1, count_more_than(1))))

    run = run_ok(server, first)

    assert run["repositoriesEvaluated"] == 1
    assert [entry["imageDigest"] for entry in run["expired"]] == [images[first]["old"].digest]
    assert cli_state(server, second)[0] == {images[second]["old"].digest, images[second]["new"].digest}


def test_run_without_repository_applies_every_policy(server_factory):
    server = server_factory("--clock", START, "--lifecycle-interval", "0")
    images = {}
    for name in ("every-a", "every-b", "every-none"):
        server.create_repository(name)
        images[name] = push_aged(server, name, f"every-{name}", [Aged("old", ("v1",), 3), Aged("new", ("v2",), 1)])
    for name in ("every-a", "every-b"):
        server.ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=policy_text(
            rule(1, count_more_than(1, **tagged(prefixes=["v"])))))

    run = run_ok(server)

    assert run["repositoriesEvaluated"] == 2
    assert sorted((entry["repositoryName"], entry["imageDigest"], entry["imageTags"]) for entry in run["expired"]) == [
        ("every-a", images["every-a"]["old"].digest, ["v1"]),
        ("every-b", images["every-b"]["old"].digest, ["v1"]),
    ]
    assert run["transitioned"] == []
    assert cli_state(server, "every-none")[0] == {images["every-none"]["old"].digest,
                                                  images["every-none"]["new"].digest}


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"every-a"'], ids=["not-json", "array", "string"])
def test_run_rejects_invalid_body(server, body):
    response = run_lifecycle(server, raw_body=body)

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["message"] == 'expected an empty body or {"repository": "<name>"}'


def test_images_listed_by_an_index_are_kept(server, repository, seed):
    index = testimages.build_index(seed + "-index")
    server.push_image(repository, index, tag="multi-1")
    loose = testimages.build_image(seed + "-loose")
    server.push_image(repository, loose)
    advance_clock(server, 10 * DAY)
    server.renew_token()
    children = {child.digest for child in index.images}
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=policy_text(
        rule(1, since("sinceImagePushed", 5, tag_status="untagged"))))

    run = run_ok(server, repository)

    assert [entry["imageDigest"] for entry in run["expired"]] == [loose.digest]
    assert cli_state(server, repository)[1] == children | {index.digest}

    # Once the index itself expires, its children are no longer protected.
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=policy_text(
        rule(1, since("sinceImagePushed", 5, **tagged(prefixes=["multi"]))),
        rule(2, since("sinceImagePushed", 5, tag_status="untagged"))))
    first = run_ok(server, repository)
    second = run_ok(server, repository)

    expired = {entry["imageDigest"]: entry["rulePriority"] for entry in first["expired"] + second["expired"]}
    assert expired == {index.digest: 1, **{child: 2 for child in children}}
    assert cli_state(server, repository) == (set(), set())


def test_since_image_pulled_archives_images_not_pulled(server, repository, seed):
    images = push_aged(server, repository, seed, [Aged("pulled", ("pulled",), 100), Aged("idle", ("idle",), 100)])
    # Pull one image ten days ago on the server clock.
    advance_clock(server, -10 * DAY)
    server.renew_token()
    pull = server.v2("GET", f"/{repository}/manifests/pulled", headers={"Accept": testimages.DOCKER_MANIFEST})
    assert pull.status_code == 200, pull.text
    advance_clock(server, 10 * DAY)
    server.renew_token()
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=policy_text(
        rule(1, since("sinceImagePulled", 90), TRANSITION)))

    run = run_ok(server, repository)

    assert [entry["imageDigest"] for entry in run["transitioned"]] == [images["idle"].digest]
    assert run["expired"] == []
    assert cli_state(server, repository) == ({images["pulled"].digest},
                                             {images["pulled"].digest, images["idle"].digest})


def test_archived_images_expire_after_since_image_transitioned(server, repository, seed):
    images = push_aged(server, repository, seed, [Aged("old", ("prod-1",), 40), Aged("dev", ("dev-1",), 1)])
    text = policy_text(rule(1, since("sinceImagePushed", 30, **tagged(prefixes=["prod"])), TRANSITION),
                       rule(2, since("sinceImageTransitioned", 90, storageClass="archive")))
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=text)
    old, dev = images["old"].digest, images["dev"].digest

    archived = run_ok(server, repository)
    after_archive = cli_state(server, repository)
    advance_clock(server, 89 * DAY)
    too_soon = run_ok(server, repository)
    advance_clock(server, 2 * DAY)
    server.ecr.start_lifecycle_policy_preview(repositoryName=repository)
    preview = preview_raw(server, repository)
    expired = run_ok(server, repository)

    assert [entry["imageDigest"] for entry in archived["transitioned"]] == [old]
    assert archived["expired"] == []
    assert after_archive == ({dev}, {old, dev})
    # 89 days in the archive are not yet "more than 90 days".
    assert (too_soon["expired"], too_soon["transitioned"]) == ([], [])
    # 91 days on, the archive rule expires the archived image.
    assert len(preview["previewResults"]) == 1
    result = preview["previewResults"][0]
    assert result["imageDigest"] == old
    assert result["action"] == {"type": "EXPIRE"}
    assert result["storageClass"] == "ARCHIVE"
    assert result["appliedRulePriority"] == 2
    assert [(entry["imageDigest"], entry["rulePriority"]) for entry in expired["expired"]] == [(old, 2)]
    assert expired["transitioned"] == []
    assert cli_state(server, repository) == ({dev}, {dev})


def test_restored_image_counts_from_its_restore_time(server, repository, seed):
    images = push_aged(server, repository, seed, [Aged("older", ("v1",), 10), Aged("newer", ("v2",), 5)])
    older, newer = images["older"].digest, images["newer"].digest
    for target in ("ARCHIVE", "STANDARD"):
        response = server.ecr_request("UpdateImageStorageClass", {
            "repositoryName": repository, "imageId": {"imageDigest": older}, "targetStorageClass": target})
        assert response.status_code == 200, response.text
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=policy_text(
        rule(1, count_more_than(1, **tagged(prefixes=["v"])))))

    run = run_ok(server, repository)

    # imageCountMoreThan orders a restored image by lastActivatedAt, so the older push is now the newest.
    assert [entry["imageDigest"] for entry in run["expired"]] == [newer]
    assert cli_state(server, repository) == ({older}, {older})


# Referrers and gc


def push_referrer(server, repository, subject, seed) -> str:
    payload = json.dumps({"sbom-of": seed}).encode()
    server.push_blob(repository, payload)
    server.push_blob(repository, EMPTY_CONFIG)
    manifest = testimages.encode_json({
        "schemaVersion": 2,
        "mediaType": testimages.OCI_MANIFEST,
        "artifactType": SBOM_TYPE,
        "config": {"mediaType": EMPTY_CONFIG_TYPE, "digest": testimages.sha256_digest(EMPTY_CONFIG), "size": 2},
        "layers": [{"mediaType": "application/json", "digest": testimages.sha256_digest(payload),
                    "size": len(payload)}],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.manifest)},
    })
    digest = testimages.sha256_digest(manifest)
    response = server.put_manifest(repository, digest, manifest, testimages.OCI_MANIFEST)
    assert response.status_code == 201, response.text
    return digest


def test_referrers_expire_with_subject_and_gc_reclaims_blobs(server_factory):
    server = server_factory("--clock", START, "--lifecycle-interval", "0")
    repository = "referrers"
    server.create_repository(repository)
    subject = testimages.build_image("lifecycle-subject", fmt="oci", layer_count=2)
    server.push_image(repository, subject, tag="v1")
    referrer = push_referrer(server, repository, subject, "lifecycle-subject")
    advance_clock(server, 10 * DAY)
    server.renew_token()
    kept = testimages.build_image("lifecycle-kept", fmt="oci")
    server.push_image(repository, kept, tag="v2")
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=policy_text(
        rule(1, since("sinceImagePushed", 5, **tagged(prefixes=["v"])))))
    blobs_before = server.blob_files()

    run = run_ok(server, repository)

    assert {entry["imageDigest"] for entry in run["expired"]} == {subject.digest, referrer}
    assert all(entry["rulePriority"] == 1 for entry in run["expired"])
    assert cli_state(server, repository) == ({kept.digest}, {kept.digest})
    assert blobs_before >= {blob.digest for blob in subject.blobs}

    gc = server.gc("--grace", "0")

    assert gc.returncode == 0, gc.stdout + gc.stderr
    assert server.blob_files() == {blob.digest for blob in kept.blobs}
    fetched = server.v2("GET", f"/{repository}/blobs/{subject.layers[0].digest}")
    assert fetched.status_code == 404
    assert oci_error_codes(fetched) == ["BLOB_UNKNOWN"]
    pulled = server.v2("GET", f"/{repository}/manifests/v2", headers={"Accept": testimages.OCI_MANIFEST})
    assert pulled.status_code == 200
    assert pulled.content == kept.manifest
    fsck = server.fsck()
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


# Archive and restore


@pytest.fixture
def archived_image(server, repository, seed):
    """Repository with an image tagged v1 that a lifecycle run archived, and an active one tagged v2."""
    images = push_aged(server, repository, seed, [Aged("old", ("v1",), 40), Aged("new", ("v2",), 1)])
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=policy_text(
        rule(1, since("sinceImagePushed", 30, **tagged(prefixes=["v"])), TRANSITION)))
    run = run_ok(server, repository)
    assert [entry["imageDigest"] for entry in run["transitioned"]] == [images["old"].digest]
    server.ecr.delete_lifecycle_policy(repositoryName=repository)
    return images["old"], images["new"], epoch(server_now(server))


def test_archived_image_hidden_from_describe_images(server, repository, archived_image):
    old, new, archived_at = archived_image

    default = server.ecr.describe_images(repositoryName=repository)["imageDetails"]
    active = describe_raw(server, repository, "ACTIVE")
    archived = describe_raw(server, repository, "ARCHIVED")
    every = describe_raw(server, repository, "ANY")

    assert [detail["imageDigest"] for detail in default] == [new.digest]
    assert [detail["imageDigest"] for detail in active] == [new.digest]
    assert [detail["imageDigest"] for detail in archived] == [old.digest]
    assert archived[0]["imageStatus"] == "ARCHIVED"
    assert archived[0]["imageTags"] == ["v1"]
    assert archived[0]["lastArchivedAt"] == pytest.approx(archived_at, abs=30)
    assert "lastActivatedAt" not in archived[0]
    assert {detail["imageDigest"]: detail["imageStatus"] for detail in every} == {
        old.digest: "ARCHIVED", new.digest: "ACTIVE"}


def test_describe_images_rejects_unknown_image_status(server, repository):
    response = server.ecr_request("DescribeImages", {"repositoryName": repository,
                                                     "filter": {"imageStatus": "FROZEN"}})

    status, code, message = json_error(response)
    assert (status, code) == (400, "InvalidParameterException")
    assert "imageStatus" in message


def test_archived_image_still_listed(server, repository, archived_image):
    old, new, _ = archived_image

    listed = server.ecr.list_images(repositoryName=repository)["imageIds"]

    assert sorted((image_id["imageDigest"], image_id["imageTag"]) for image_id in listed) == sorted(
        [(old.digest, "v1"), (new.digest, "v2")])


def test_archived_image_cannot_be_pulled(server, repository, archived_image):
    old, new, _ = archived_image

    by_tag = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": old.media_type})
    by_digest = server.v2("GET", f"/{repository}/manifests/{old.digest}", headers={"Accept": old.media_type})
    head = server.v2("HEAD", f"/{repository}/manifests/v1", headers={"Accept": old.media_type})
    batch = server.ecr.batch_get_image(repositoryName=repository,
                                       imageIds=[{"imageTag": "v1"}, {"imageDigest": old.digest}, {"imageTag": "v2"}])

    for response in (by_tag, by_digest):
        assert response.status_code == 404, response.text
        assert oci_error_codes(response) == ["MANIFEST_UNKNOWN"]
    assert head.status_code == 404
    assert [image["imageId"]["imageDigest"] for image in batch["images"]] == [new.digest]
    assert sorted((failure["imageId"].get("imageTag", ""), failure["failureCode"]) for failure in batch["failures"]) == [
        ("", "ImageNotFound"), ("v1", "ImageNotFound")]


def update_storage_class(server, repository, image_id, target):
    return server.ecr_request("UpdateImageStorageClass", {"repositoryName": repository, "imageId": image_id,
                                                          "targetStorageClass": target})


def test_update_image_storage_class_restores_and_archives(server, repository, archived_image):
    old, _, archived_at = archived_image
    advance_clock(server, HOUR)
    server.renew_token()

    restored = update_storage_class(server, repository, {"imageTag": "v1"}, "STANDARD")
    restored_at = epoch(server_now(server))

    assert restored.status_code == 200, restored.text
    assert restored.json() == {"registryId": ACCOUNT_ID, "repositoryName": repository,
                               "imageId": {"imageDigest": old.digest, "imageTag": "v1"}, "imageStatus": "ACTIVE"}
    detail = describe_raw(server, repository, imageIds=[{"imageTag": "v1"}])[0]
    assert detail["imageStatus"] == "ACTIVE"
    assert detail["lastActivatedAt"] == pytest.approx(restored_at, abs=30)
    assert detail["lastArchivedAt"] == pytest.approx(archived_at, abs=30)
    pulled = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": old.media_type})
    assert pulled.status_code == 200
    assert pulled.content == old.manifest

    archived = update_storage_class(server, repository, {"imageDigest": old.digest}, "ARCHIVE")

    assert archived.status_code == 200, archived.text
    assert archived.json() == {"registryId": ACCOUNT_ID, "repositoryName": repository,
                               "imageId": {"imageDigest": old.digest}, "imageStatus": "ARCHIVED"}
    assert describe_raw(server, repository, "ARCHIVED")[0]["imageDigest"] == old.digest
    rejected = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": old.media_type})
    assert rejected.status_code == 404


def test_update_image_storage_class_to_same_class_rejected(server, repository, archived_image):
    old, new, _ = archived_image

    again = update_storage_class(server, repository, {"imageTag": "v1"}, "ARCHIVE")
    active = update_storage_class(server, repository, {"imageDigest": new.digest}, "STANDARD")

    assert json_error(again)[:2] == (400, "ImageStorageClassUpdateNotSupportedException")
    assert json_error(active)[:2] == (400, "ImageStorageClassUpdateNotSupportedException")
    assert describe_raw(server, repository, "ARCHIVED")[0]["imageDigest"] == old.digest


def test_update_image_storage_class_errors(server, repository, seed):
    image = testimages.build_image(seed)
    server.push_image(repository, image, tag="v1")

    missing_image = update_storage_class(server, repository, {"imageTag": "nope"}, "ARCHIVE")
    missing_repository = update_storage_class(server, repository + "-missing", {"imageTag": "v1"}, "ARCHIVE")
    bad_class = update_storage_class(server, repository, {"imageTag": "v1"}, "GLACIER")

    assert json_error(missing_image)[:2] == (400, "ImageNotFoundException")
    assert json_error(missing_repository) == (400, "RepositoryNotFoundException",
                                              repository_not_found_message(repository + "-missing"))
    assert json_error(bad_class)[:2] == (400, "InvalidParameterException")


@pytest.mark.parametrize("api", ["v2", "PutImage"])
def test_pushing_archived_image_again_restores_it(server, repository, archived_image, api):
    old, _, _ = archived_image

    if api == "v2":
        response = server.put_manifest(repository, "v1", old.manifest, old.media_type)
        assert response.status_code == 201, response.text
    else:
        server.ecr.put_image(repositoryName=repository, imageManifest=old.manifest.decode(), imageTag="v1")
    restored_at = epoch(server_now(server))

    detail = describe_raw(server, repository, imageIds=[{"imageDigest": old.digest}])[0]
    assert detail["imageStatus"] == "ACTIVE"
    assert detail["imageTags"] == ["v1"]
    assert detail["lastActivatedAt"] == pytest.approx(restored_at, abs=30)
    assert describe_raw(server, repository, "ARCHIVED") == []
    pulled = server.v2("GET", f"/{repository}/manifests/v1", headers={"Accept": old.media_type})
    assert pulled.status_code == 200
    assert pulled.content == old.manifest


# The policy API


def test_put_get_delete_lifecycle_policy(server, repository):
    text = policy_text(rule(1, count_more_than(5, tag_status="untagged"), description="keep five untagged"))

    put = server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=text)
    got = server.aws_json("ecr", "get-lifecycle-policy", "--repository-name", repository)
    now = server_now(server)
    deleted = server.ecr.delete_lifecycle_policy(repositoryName=repository)

    assert (put["registryId"], put["repositoryName"], put["lifecyclePolicyText"]) == (ACCOUNT_ID, repository, text)
    assert (got["registryId"], got["repositoryName"], got["lifecyclePolicyText"]) == (ACCOUNT_ID, repository, text)
    assert got["lastEvaluatedAt"]
    assert (deleted["registryId"], deleted["repositoryName"], deleted["lifecyclePolicyText"]) == (
        ACCOUNT_ID, repository, text)
    assert abs(epoch(deleted["lastEvaluatedAt"]) - now.timestamp()) < 30
    with pytest.raises(ClientError) as excinfo:
        server.ecr.get_lifecycle_policy(repositoryName=repository)
    assert client_error(excinfo) == (400, "LifecyclePolicyNotFoundException", policy_not_found(repository))


def policy_not_found(repository) -> str:
    return (f"Lifecycle policy does not exist for the repository with name '{repository}' "
            f"in the registry with id '{ACCOUNT_ID}'")


def test_put_lifecycle_policy_replaces_policy(server, repository):
    first = policy_text(rule(1, count_more_than(5)))
    second = policy_text(rule(1, since("sinceImagePushed", 30, tag_status="untagged")))

    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=first)
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=second)

    assert server.ecr.get_lifecycle_policy(repositoryName=repository)["lifecyclePolicyText"] == second


@pytest.mark.parametrize("operation", ["get-lifecycle-policy", "delete-lifecycle-policy"])
def test_lifecycle_policy_not_found(server, repository, operation):
    result = server.aws("ecr", operation, "--repository-name", repository, check=False)

    assert result.returncode != 0
    assert (f"An error occurred (LifecyclePolicyNotFoundException) when calling the "
            f"{''.join(part.title() for part in operation.split('-'))} operation: "
            f"{policy_not_found(repository)}") in result.stderr


@pytest.mark.parametrize("operation", ["PutLifecyclePolicy", "GetLifecyclePolicy", "DeleteLifecyclePolicy",
                                       "StartLifecyclePolicyPreview", "GetLifecyclePolicyPreview"])
def test_lifecycle_operations_on_missing_repository(server, repository_name, operation):
    body = {"repositoryName": repository_name}
    if operation == "PutLifecyclePolicy":
        body["lifecyclePolicyText"] = policy_text(rule(1, count_more_than(5)))

    response = server.ecr_request(operation, body)

    assert json_error(response) == (400, "RepositoryNotFoundException", repository_not_found_message(repository_name))


def test_policy_text_length_limits(server, repository):
    short = '{"rules":[]}'
    long = json.dumps({"rules": [rule(1, count_more_than(1))]}) + " " * 30720

    responses = [server.ecr_request("PutLifecyclePolicy", {"repositoryName": repository, "lifecyclePolicyText": text})
                 for text in (short, long)]

    for response in responses:
        assert json_error(response)[:2] == (400, "InvalidParameterException")
    with pytest.raises(ClientError):
        server.ecr.get_lifecycle_policy(repositoryName=repository)


# Grammar validation: each invalid policy with the detail its error message must contain


def pad(text: str) -> str:
    """Append JSON whitespace up to ECR's 100-character minimum, so only the grammar is wrong."""
    return text.ljust(100)


def policy(*rules) -> str:
    return pad(json.dumps({"rules": list(rules)}))


ANY_COUNT = count_more_than(1)
EXPIRE = {"type": "expire"}

INVALID_POLICIES = [
    # Shape, in the words of ECR's JSON-schema validator.
    ("not-json", pad("{'rules':["), "Could not map policyString into LifecyclePolicy."),
    ("root-array", pad(json.dumps([rule(1, ANY_COUNT)])), "Could not map policyString into LifecyclePolicy."),
    ("duplicate-key", pad('{"rules": [], "rules": [%s]}' % json.dumps(rule(1, ANY_COUNT))),
     "Could not map policyString into LifecyclePolicy."),
    ("rules-missing", pad(json.dumps({"ruless": [rule(1, ANY_COUNT)]})),
     'object has missing required properties (["rules"])'),
    ("root-unknown-properties", pad(json.dumps({"foo": 1, "rules": [rule(1, ANY_COUNT)], "bar": 2})),
     'object instance has properties which are not allowed by the schema: (["bar","foo"])'),
    ("rules-not-array", pad(json.dumps({"rules": rule(1, ANY_COUNT)})),
     'instance type (object) does not match any allowed primitive type (allowed: ["array"])'),
    ("rules-empty", pad('{"rules": []}'),
     "array is too short: must have at least 1 elements but instance has 0 elements"),
    ("rules-51", json.dumps({"rules": [rule(n, count_more_than(1, **tagged(prefixes=[f"p{n}"])))
                                       for n in range(1, 52)]}),
     "array is too long: must have at most 50 elements but instance has 51 elements"),
    ("rule-not-object", pad('{"rules": [1]}'),
     'instance type (integer) does not match any allowed primitive type (allowed: ["object"])'),
    ("rule-priority-missing", pad(json.dumps({"rules": [{"selection": ANY_COUNT, "action": EXPIRE}]})),
     'object has missing required properties (["rulePriority"])'),
    ("selection-and-action-missing", pad(json.dumps({"rules": [{"rulePriority": 1}]})),
     'object has missing required properties (["action","selection"])'),
    ("rule-unknown-property", pad(json.dumps({"rules": [{**rule(1, ANY_COUNT), "foo": True}]})),
     'object instance has properties which are not allowed by the schema: (["foo"])'),
    ("rule-priority-zero", policy(rule(0, ANY_COUNT)),
     "numeric instance is lower than the required minimum (minimum: 1, found: 0)"),
    ("rule-priority-string", policy(rule("1", ANY_COUNT)),
     'instance type (string) does not match any allowed primitive type (allowed: ["integer"])'),
    ("rule-priority-fraction", policy(rule(1.5, ANY_COUNT)),
     'instance type (number) does not match any allowed primitive type (allowed: ["integer"])'),
    ("description-not-string", policy(rule(1, ANY_COUNT, description=7)),
     'instance type (integer) does not match any allowed primitive type (allowed: ["string"])'),
    ("selection-not-object", policy(rule(1, "any")),
     'instance type (string) does not match any allowed primitive type (allowed: ["object"])'),
    ("count-number-missing", policy(rule(1, {"tagStatus": "any", "countType": "imageCountMoreThan"})),
     'object has missing required properties (["countNumber"])'),
    ("tag-status-missing", policy(rule(1, {"countType": "imageCountMoreThan", "countNumber": 1})),
     'object has missing required properties (["tagStatus"])'),
    ("selection-unknown-property", policy(rule(1, {**ANY_COUNT, "tagList": ["a"]})),
     'object instance has properties which are not allowed by the schema: (["tagList"])'),
    ("tag-status-unknown", policy(rule(1, count_more_than(1, tag_status="bogus"))),
     'instance value ("bogus") not found in enum :(possible values: ["any","tagged","untagged"])'),
    ("tag-status-uppercase", policy(rule(1, count_more_than(1, tag_status="TAGGED", tagPrefixList=["v"]))),
     'instance value ("TAGGED") not found in enum :(possible values: ["any","tagged","untagged"])'),
    ("pattern-list-empty", policy(rule(1, count_more_than(1, **tagged(patterns=[])))),
     "array is too short: must have at least 1 elements but instance has 0 elements"),
    ("pattern-list-not-array", policy(rule(1, count_more_than(1, tag_status="tagged", tagPatternList="a*"))),
     'instance type (string) does not match any allowed primitive type (allowed: ["array"])'),
    ("pattern-empty-string", policy(rule(1, count_more_than(1, **tagged(patterns=["a*", ""])))),
     'string "" is too short (length: 0, required minimum: 1)'),
    ("prefix-not-string", policy(rule(1, count_more_than(1, **tagged(prefixes=["a", 2])))),
     'instance type (integer) does not match any allowed primitive type (allowed: ["string"])'),
    ("storage-class-unknown", policy(rule(1, count_more_than(1, storageClass="glacier"))),
     'instance value ("glacier") not found in enum :(possible values: ["archive","standard"])'),
    ("count-type-unknown", policy(rule(1, {"tagStatus": "any", "countType": "imageCountLessThan", "countNumber": 1})),
     "instance failed to match exactly one schema (matched 0 out of 2)"),
    ("count-unit-unknown", policy(rule(1, {**since("sinceImagePushed", 1), "countUnit": "hours"})),
     'instance value ("hours") not found in enum :(possible values: ["days"])'),
    ("count-number-zero", policy(rule(1, count_more_than(0))),
     "numeric instance is lower than the required minimum (minimum: 1, found: 0)"),
    ("count-number-negative", policy(rule(1, count_more_than(-3))),
     "numeric instance is lower than the required minimum (minimum: 1, found: -3)"),
    ("count-number-string", policy(rule(1, count_more_than("1"))),
     'instance type (string) does not match any allowed primitive type (allowed: ["integer"])'),
    ("action-not-object", policy({**rule(1, ANY_COUNT), "action": "expire"}),
     'instance type (string) does not match any allowed primitive type (allowed: ["object"])'),
    ("action-type-missing", policy(rule(1, ANY_COUNT, {"targetStorageClass": "archive"})),
     'object has missing required properties (["type"])'),
    ("action-unknown-property", policy(rule(1, ANY_COUNT, {"type": "expire", "when": "now"})),
     'object instance has properties which are not allowed by the schema: (["when"])'),
    ("action-type-unknown", policy(rule(1, ANY_COUNT, {"type": "delete"})),
     'instance value ("delete") not found in enum :(possible values: ["expire","transition"])'),
    ("target-storage-class-unknown",
     policy(rule(1, since("sinceImagePulled", 90), {"type": "transition", "targetStorageClass": "standard"})),
     'instance value ("standard") not found in enum :(possible values: ["archive"])'),

    # The documented rules for one rule.
    ("tagged-without-list", policy(rule(4, count_more_than(1, tag_status="tagged"))),
     'Rule with rulePriority 4: tagStatus "tagged" requires tagPatternList or tagPrefixList'),
    ("tagged-with-both-lists", policy(rule(1, count_more_than(1, **tagged(patterns=["a*"], prefixes=["a"])))),
     "Rule with rulePriority 1: tagPatternList and tagPrefixList cannot both be set in one rule"),
    ("untagged-with-patterns", policy(rule(1, count_more_than(1, tag_status="untagged", tagPatternList=["a*"]))),
     'Rule with rulePriority 1: tagPatternList is only allowed with tagStatus "tagged", not "untagged"'),
    ("any-with-prefixes", policy(rule(2, count_more_than(1, tagPrefixList=["a"]))),
     'Rule with rulePriority 2: tagPrefixList is only allowed with tagStatus "tagged", not "any"'),
    ("pattern-six-wildcards", policy(rule(1, count_more_than(1, **tagged(patterns=["test*1*2*3*4*5*6"])))),
     'Rule with rulePriority 1: tagPatternList entry "test*1*2*3*4*5*6" has 6 wildcards (*), '
     "but at most 4 are allowed"),
    ("pattern-five-wildcards", policy(rule(1, count_more_than(1, **tagged(patterns=["ok*", "*a*b*c*d*"])))),
     "has 5 wildcards (*), but at most 4 are allowed"),
    ("count-unit-missing", policy(rule(3, {"tagStatus": "any", "countType": "sinceImagePushed", "countNumber": 1})),
     'Rule with rulePriority 3: countType "sinceImagePushed" requires countUnit "days"'),
    ("count-unit-with-image-count", policy(rule(1, {**ANY_COUNT, "countUnit": "days"})),
     'Rule with rulePriority 1: countUnit is not allowed with countType "imageCountMoreThan"'),
    ("transitioned-in-standard", policy(rule(1, since("sinceImageTransitioned", 365))),
     'Rule with rulePriority 1: countType "sinceImageTransitioned" requires storageClass "archive"'),
    ("pushed-in-archive", policy(rule(1, since("sinceImagePushed", 30, storageClass="archive"))),
     'Rule with rulePriority 1: countType "sinceImagePushed" requires storageClass "standard"'),
    ("count-in-archive", policy(rule(1, count_more_than(3, storageClass="archive"))),
     'Rule with rulePriority 1: countType "imageCountMoreThan" requires storageClass "standard"'),
    ("pulled-in-archive", policy(rule(1, since("sinceImagePulled", 90, storageClass="archive"), TRANSITION)),
     'Rule with rulePriority 1: countType "sinceImagePulled" requires storageClass "standard"'),
    ("transitioned-with-transition",
     policy(rule(1, since("sinceImageTransitioned", 365, storageClass="archive"), TRANSITION)),
     'Rule with rulePriority 1: countType "sinceImageTransitioned" requires action type "expire"'),
    ("pulled-with-expire", policy(rule(1, since("sinceImagePulled", 90))),
     'Rule with rulePriority 1: countType "sinceImagePulled" requires action type "transition"'),
    ("transition-without-target", policy(rule(1, since("sinceImagePulled", 90), {"type": "transition"})),
     'Rule with rulePriority 1: action type "transition" requires targetStorageClass "archive"'),
    ("expire-with-target", policy(rule(1, ANY_COUNT, {"type": "expire", "targetStorageClass": "archive"})),
     'Rule with rulePriority 1: targetStorageClass is only allowed with action type "transition"'),
    ("transitioned-under-90-days", policy(rule(1, since("sinceImageTransitioned", 30, storageClass="archive"))),
     'Rule with rulePriority 1: countNumber for countType "sinceImageTransitioned" must be at least 90 days'),

    # The rules across rules.
    ("priority-duplicate", policy(rule(1, count_more_than(1, **tagged(patterns=["a*"]))),
                                  rule(1, count_more_than(1, **tagged(patterns=["b*"])))),
     "rulePriority 1 is used by more than one rule; each rule needs a unique rulePriority"),
    ("any-not-last", policy(rule(1, count_more_than(5)), rule(2, count_more_than(1, tag_status="untagged"))),
     'Rule with rulePriority 1: a rule with tagStatus "any" must have the highest rulePriority of the rules '
     'for storageClass "standard", but the rule with rulePriority 2 comes later'),
    ("any-not-last-listed-last", policy(rule(9, count_more_than(1, **tagged(prefixes=["v"]))),
                                        rule(3, count_more_than(5))),
     'Rule with rulePriority 3: a rule with tagStatus "any" must have the highest rulePriority'),
    ("any-not-last-in-archive",
     policy(rule(1, since("sinceImageTransitioned", 365, storageClass="archive")),
            rule(2, since("sinceImageTransitioned", 90, tag_status="untagged", storageClass="archive"))),
     'for storageClass "archive", but the rule with rulePriority 2 comes later'),
    ("two-untagged-rules", policy(rule(1, count_more_than(1, tag_status="untagged")),
                                  rule(2, since("sinceImagePushed", 5, tag_status="untagged"))),
     "Rules with rulePriority 1 and 2 both select untagged images; only one rule per storage class "
     '(here "standard") may select untagged images'),
    ("same-prefix-set", policy(rule(1, count_more_than(1, **tagged(prefixes=["a", "b"]))),
                               rule(2, since("sinceImagePushed", 5, **tagged(prefixes=["b", "a", "b"])))),
     "Rules with rulePriority 1 and 2 select the same tagPrefixList; each rule for a storage class "
     '(here "standard") needs a unique set of tags'),
    ("same-pattern-set", policy(rule(5, count_more_than(1, **tagged(patterns=["prod*"]))),
                                rule(7, since("sinceImagePulled", 90, **tagged(patterns=["prod*"])), TRANSITION)),
     "Rules with rulePriority 5 and 7 select the same tagPatternList"),
]


@pytest.mark.parametrize("text, detail", [case[1:] for case in INVALID_POLICIES],
                         ids=[case[0] for case in INVALID_POLICIES])
def test_invalid_policy_rejected(server, repository, text, detail):
    with pytest.raises(ClientError) as excinfo:
        server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=text)

    status, code, message = client_error(excinfo)
    assert (status, code) == (400, "InvalidParameterException")
    assert message.startswith(POLICY_ERROR_PREFIX), message
    assert message.endswith("'"), message
    assert detail in message
    # Nothing was stored, and a preview with the same text is refused the same way.
    with pytest.raises(ClientError) as not_found:
        server.ecr.get_lifecycle_policy(repositoryName=repository)
    assert client_error(not_found)[1] == "LifecyclePolicyNotFoundException"
    with pytest.raises(ClientError) as preview:
        server.ecr.start_lifecycle_policy_preview(repositoryName=repository, lifecyclePolicyText=text)
    assert client_error(preview) == (status, code, message)


@pytest.mark.parametrize("case", ["not-json", "tag-status-unknown", "transitioned-under-90-days",
                                  "two-untagged-rules"])
def test_invalid_policy_rejected_by_cli(server, repository, case):
    text, detail = next(entry[1:] for entry in INVALID_POLICIES if entry[0] == case)

    result = server.aws("ecr", "put-lifecycle-policy", "--repository-name", repository,
                        "--lifecycle-policy-text", text, check=False)

    assert result.returncode == 254, result.stderr
    assert ("An error occurred (InvalidParameterException) when calling the PutLifecyclePolicy operation: "
            + POLICY_ERROR_PREFIX) in result.stderr
    assert detail in result.stderr


VALID_POLICIES = [
    ("image-age", [rule(1, since("sinceImagePushed", 14, **tagged(patterns=["prod*"])))]),
    ("last-pulled", [rule(1, since("sinceImagePulled", 90), TRANSITION)]),
    ("archive-transition-time", [rule(1, since("sinceImageTransitioned", 365, storageClass="archive"))]),
    ("explicit-standard", [rule(1, count_more_than(1, tag_status="untagged", storageClass="standard"))]),
    ("archive-by-count", [rule(1, count_more_than(10, tag_status="untagged"), TRANSITION)]),
    ("archive-then-expire", [rule(1, since("sinceImagePushed", 30), TRANSITION),
                             rule(2, since("sinceImageTransitioned", 365, storageClass="archive"))]),
    ("four-wildcards", [rule(1, count_more_than(1, **tagged(patterns=["*test*1*2*3", "test*1*2*3*"])))]),
    ("priorities-not-contiguous-nor-in-order", [rule(20, count_more_than(3)),
                                                rule(5, count_more_than(1, **tagged(prefixes=["v"])))]),
    ("patterns-and-prefixes-across-rules", [rule(1, count_more_than(1, **tagged(patterns=["prod*"]))),
                                            rule(2, count_more_than(1, **tagged(prefixes=["beta"])))]),
    ("fifty-rules", [rule(n, count_more_than(1, **tagged(prefixes=[f"p{n}"]))) for n in range(1, 51)]),
]


@pytest.mark.parametrize("rules", [case[1] for case in VALID_POLICIES], ids=[case[0] for case in VALID_POLICIES])
def test_valid_policy_accepted(server, repository, rules):
    text = policy_text(*rules)

    put = put_policy_cli(server, repository, text)

    assert put["lifecyclePolicyText"] == text
    assert server.ecr.get_lifecycle_policy(repositoryName=repository)["lifecyclePolicyText"] == text


# Previews


def test_preview_without_policy_or_text(server, repository):
    with pytest.raises(ClientError) as excinfo:
        server.ecr.start_lifecycle_policy_preview(repositoryName=repository)

    assert client_error(excinfo) == (400, "LifecyclePolicyNotFoundException", policy_not_found(repository))


def test_get_preview_before_any(server, repository):
    with pytest.raises(ClientError) as excinfo:
        server.ecr.get_lifecycle_policy_preview(repositoryName=repository)

    status, code, _ = client_error(excinfo)
    assert (status, code) == (400, "LifecyclePolicyPreviewNotFoundException")


def test_preview_with_text_does_not_store_policy(server, repository, seed):
    images = push_aged(server, repository, seed, [Aged("old", ("v1",), 2), Aged("new", ("v2",), 1)])
    text = policy_text(rule(1, count_more_than(1)))

    started = server.ecr.start_lifecycle_policy_preview(repositoryName=repository, lifecyclePolicyText=text)
    preview = server.ecr.get_lifecycle_policy_preview(repositoryName=repository)

    assert (started["registryId"], started["repositoryName"], started["status"]) == (
        ACCOUNT_ID, repository, "IN_PROGRESS")
    assert started["lifecyclePolicyText"] == text
    assert preview["status"] == "COMPLETE"
    assert [result["imageDigest"] for result in preview["previewResults"]] == [images["old"].digest]
    with pytest.raises(ClientError) as excinfo:
        server.ecr.get_lifecycle_policy(repositoryName=repository)
    assert client_error(excinfo)[1] == "LifecyclePolicyNotFoundException"
    # The preview changed nothing.
    assert cli_state(server, repository)[0] == {images["old"].digest, images["new"].digest}


def test_preview_waiter_succeeds(server, repository, seed):
    push_aged(server, repository, seed, [Aged("one", ("v1",), 1)])
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=policy_text(
        rule(1, count_more_than(1))))
    server.ecr.start_lifecycle_policy_preview(repositoryName=repository)
    started = time.monotonic()

    server.ecr.get_waiter("lifecycle_policy_preview_complete").wait(repositoryName=repository)

    # The waiter's first poll returns COMPLETE, so it never sleeps its 5-second delay.
    assert time.monotonic() - started < 5
    assert server.ecr.get_lifecycle_policy_preview(repositoryName=repository)["previewResults"] == []


@pytest.fixture
def preview_of_six(server, repository, seed):
    """Seven images, the newest tagged; a preview of "any, keep one" expires the other six.

    Three of the six are tagged and three are untagged. Returns (tagged digests, untagged digests).
    """
    specs = [Aged(f"i{n}", (f"t{n}",) if n % 2 else (), 10 - n) for n in range(7)]
    images = push_aged(server, repository, seed, specs)
    server.ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=policy_text(
        rule(1, count_more_than(1))))
    server.ecr.start_lifecycle_policy_preview(repositoryName=repository)
    expiring = [images[f"i{n}"].digest for n in range(6)]
    return {d for n, d in enumerate(expiring) if n % 2}, {d for n, d in enumerate(expiring) if not n % 2}


def test_preview_pagination(server, repository, preview_of_six):
    tagged_digests, untagged_digests = preview_of_six

    first = preview_raw(server, repository, maxResults=4)
    second = preview_raw(server, repository, maxResults=4, nextToken=first["nextToken"])

    assert len(first["previewResults"]) == 4
    assert len(second["previewResults"]) == 2
    assert "nextToken" not in second
    digests = [result["imageDigest"] for result in first["previewResults"] + second["previewResults"]]
    assert sorted(digests) == sorted(tagged_digests | untagged_digests)
    for page in (first, second):
        assert page["status"] == "COMPLETE"
        assert page["summary"]["expiringImageTotalCount"] == 6


def test_preview_paginator(server, repository, preview_of_six):
    tagged_digests, untagged_digests = preview_of_six
    paginator = server.ecr.get_paginator("get_lifecycle_policy_preview")

    pages = list(paginator.paginate(repositoryName=repository, PaginationConfig={"PageSize": 2}))

    assert [len(page["previewResults"]) for page in pages] == [2, 2, 2]
    digests = [result["imageDigest"] for page in pages for result in page["previewResults"]]
    assert sorted(digests) == sorted(tagged_digests | untagged_digests)


@pytest.mark.parametrize("tag_status", ["TAGGED", "UNTAGGED", "ANY"])
def test_preview_filter_tag_status(server, repository, preview_of_six, tag_status):
    tagged_digests, untagged_digests = preview_of_six
    expected = {"TAGGED": tagged_digests, "UNTAGGED": untagged_digests,
                "ANY": tagged_digests | untagged_digests}[tag_status]

    preview = server.ecr.get_lifecycle_policy_preview(repositoryName=repository, filter={"tagStatus": tag_status})
    paged = preview_raw(server, repository, filter={"tagStatus": tag_status}, maxResults=2)

    assert {result["imageDigest"] for result in preview["previewResults"]} == expected
    assert {result["imageDigest"] for result in paged["previewResults"]} <= expected
    assert len(paged["previewResults"]) == 2
    assert ("nextToken" in paged) == (len(expected) > 2)


def test_preview_image_ids(server, repository, preview_of_six):
    tagged_digests, _ = preview_of_six
    wanted = sorted(tagged_digests)[0]

    preview = server.ecr.get_lifecycle_policy_preview(repositoryName=repository,
                                                      imageIds=[{"imageDigest": wanted}])

    assert [result["imageDigest"] for result in preview["previewResults"]] == [wanted]


@pytest.mark.parametrize("max_results", [0, 101])
def test_preview_max_results_range(server, repository, preview_of_six, max_results):
    with pytest.raises(ClientError) as excinfo:
        server.ecr_unchecked.get_lifecycle_policy_preview(repositoryName=repository, maxResults=max_results)

    assert client_error(excinfo)[:2] == (400, "InvalidParameterException")


# Scheduled runs


def images_in(server, repository) -> set:
    return {image_id["imageDigest"] for image_id in server.ecr.list_images(repositoryName=repository)["imageIds"]}


def wait_until_gone(server, repository, digest) -> bool:
    deadline = time.monotonic() + SCHEDULE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if digest not in images_in(server, repository):
            return True
        time.sleep(0.25)
    return False


def test_scheduled_run_uses_clock_for_ages(server_factory):
    server = server_factory("--clock", START, "--lifecycle-interval", "2")
    server.create_repository("scheduled")
    image = testimages.build_image("scheduled-ages")
    server.push_image("scheduled", image, tag="v1")
    server.ecr.put_lifecycle_policy(repositoryName="scheduled", lifecyclePolicyText=policy_text(
        rule(1, since("sinceImagePushed", 1, **tagged(prefixes=["v"])))))

    # Runs every 2 seconds find an image younger than a day.
    time.sleep(5)
    assert image.digest in images_in(server, "scheduled")

    advance_clock(server, 2 * DAY)

    assert wait_until_gone(server, "scheduled", image.digest), "no scheduled run expired the image"
    run_line = "scheduled lifecycle run: 1 repositories, 1 expired, 0 archived"
    assert run_line in server.wait_for_log(run_line)


def test_scheduled_run_interval_follows_clock(server_factory):
    # Lifecycle every 3 days of server time; the 2-second upload expiry makes the maintenance pass run each second.
    server = server_factory("--clock", START, "--lifecycle-interval", str(3 * DAY), "--upload-expiry", "2")
    server.create_repository("interval")
    image = testimages.build_image("scheduled-interval")
    server.push_image("interval", image, tag="v1")
    server.ecr.put_lifecycle_policy(repositoryName="interval", lifecyclePolicyText=policy_text(
        rule(1, since("sinceImagePushed", 1, **tagged(prefixes=["v"])))))

    # Old enough to expire, but the next run is not due for another day of server time.
    advance_clock(server, 2 * DAY)
    time.sleep(4)
    assert image.digest in images_in(server, "interval")

    advance_clock(server, DAY + 60)

    assert wait_until_gone(server, "interval", image.digest), "the run that became due did not happen"


def test_no_scheduled_run_with_zero_interval(server_factory):
    server = server_factory("--clock", START, "--lifecycle-interval", "0", "--upload-expiry", "2")
    server.create_repository("manual")
    image = testimages.build_image("scheduled-manual")
    server.push_image("manual", image, tag="v1")
    server.ecr.put_lifecycle_policy(repositoryName="manual", lifecyclePolicyText=policy_text(
        rule(1, since("sinceImagePushed", 1, **tagged(prefixes=["v"])))))

    advance_clock(server, 30 * DAY)
    time.sleep(4)
    assert image.digest in images_in(server, "manual")

    run = run_ok(server, "manual")

    assert [entry["imageDigest"] for entry in run["expired"]] == [image.digest]
