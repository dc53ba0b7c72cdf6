"""Seed files: `serve --seed`, `localecr seed`, POST /_localecr/seed and reset to the seeded state."""

import json
import subprocess
import time

import pytest

from harness import sanitizer_reports

LIFECYCLE_POLICY = {"rules": [{
    "rulePriority": 1, "description": "keep the two newest images",
    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2},
    "action": {"type": "expire"}}]}

REPOSITORY_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "PartnerPull", "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}


def seed_document(images_dir) -> dict:
    return {
        "repositories": [
            {"name": "team/app",
             "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
             "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "dev-*"}],
             "scanOnPush": True,
             "tags": [{"Key": "team", "Value": "payments"}],
             "repositoryPolicy": REPOSITORY_POLICY,
             "lifecyclePolicy": LIFECYCLE_POLICY,
             "images": [{"oci": f"{images_dir}/single", "tag": "v1"},
                        {"oci": f"{images_dir}/multiplatform", "tag": "multi"},
                        {"dockerArchive": f"{images_dir}/single.docker.tar", "tag": "dev-1"}]},
            {"name": "empty/repo"},
        ],
        "accountSettings": [{"name": "BASIC_SCAN_TYPE_VERSION", "value": "AWS_NATIVE"}],
        "faults": [{"operation": "ListImages", "repository": "empty/*", "fault": "server_error", "count": 1}],
    }


def write_seed(path, document) -> str:
    path.write_text(json.dumps(document, indent=2))
    return str(path)


def tags_of(server, repository) -> set:
    details = server.ecr.describe_images(repositoryName=repository)["imageDetails"]
    return {tag for detail in details for tag in detail.get("imageTags", [])}


def check_seeded_state(server, fixture_manifest):
    # Raw JSON, because the botocore of Debian 12 drops imageTagMutabilityExclusionFilters.
    listed = server.ecr_request("DescribeRepositories", {}).json()["repositories"]
    repositories = {r["repositoryName"]: r for r in listed}
    assert set(repositories) == {"team/app", "empty/repo"}
    app = repositories["team/app"]
    assert app["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert app["imageTagMutabilityExclusionFilters"] == [{"filterType": "WILDCARD", "filter": "dev-*"}]
    assert app["imageScanningConfiguration"]["scanOnPush"] is True
    assert server.ecr.list_tags_for_resource(resourceArn=app["repositoryArn"])["tags"] == [
        {"Key": "team", "Value": "payments"}]
    assert json.loads(server.ecr.get_repository_policy(repositoryName="team/app")["policyText"]) == REPOSITORY_POLICY
    assert json.loads(server.ecr.get_lifecycle_policy(repositoryName="team/app")["lifecyclePolicyText"]) == (
        LIFECYCLE_POLICY)
    setting = server.ecr_request("GetAccountSetting", {"name": "BASIC_SCAN_TYPE_VERSION"}).json()
    assert setting["value"] == "AWS_NATIVE"
    assert tags_of(server, "team/app") == {"v1", "multi", "dev-1"}
    by_tag = {}
    for detail in server.ecr.describe_images(repositoryName="team/app")["imageDetails"]:
        for tag in detail.get("imageTags", []):
            by_tag[tag] = detail
    assert by_tag["v1"]["imageDigest"] == fixture_manifest["single"]["digest"]
    assert by_tag["multi"]["imageDigest"] == fixture_manifest["multiplatform"]["digest"]
    assert by_tag["dev-1"]["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    faults = server.http.get(server.url + "/_localecr/faults").json()["faults"]
    assert [(f["operation"], f["repository"], f["fault"]) for f in faults] == [
        ("ListImages", "empty/*", "server_error")]


def test_serve_seed_loads_everything(server_factory, fixture_images, fixture_manifest, tmp_path):
    seed = write_seed(tmp_path / "seed.json", seed_document(fixture_images))
    server = server_factory("--seed", seed)
    check_seeded_state(server, fixture_manifest)


def test_seed_docker_archive_layers_uncompressed(server_factory, fixture_images, fixture_manifest, tmp_path):
    seed = write_seed(tmp_path / "seed.json", seed_document(fixture_images))
    server = server_factory("--seed", seed)
    manifest = json.loads(server.ecr.batch_get_image(
        repositoryName="team/app", imageIds=[{"imageTag": "dev-1"}])["images"][0]["imageManifest"])
    archive = fixture_manifest["single-docker-archive"]
    assert [layer["digest"] for layer in manifest["layers"]] == archive["diffIds"]
    assert {layer["mediaType"] for layer in manifest["layers"]} == {
        "application/vnd.docker.image.rootfs.diff.tar"}
    assert manifest["config"]["digest"] == archive["configDigest"]


def test_seed_relative_paths_resolve_against_file(server_factory, fixture_images, tmp_path):
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "images").symlink_to(fixture_images)
    seed = write_seed(folder / "seed.json", {"repositories": [
        {"name": "relative/app", "images": [{"oci": "images/single"}]}]})
    server = server_factory("--seed", seed)
    assert tags_of(server, "relative/app") == {"latest"}


def test_seed_command_against_running_server(fresh_server, localecr_binary, fixture_images, fixture_manifest,
                                             tmp_path):
    seed = write_seed(tmp_path / "seed.json", seed_document(fixture_images))
    result = subprocess.run([str(localecr_binary), "seed", seed, "--server", fresh_server.url],
                            capture_output=True, text=True, env=fresh_server.env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "seeded 2 repositories, 5 images, 1 account settings, 1 fault rules\n"
    assert not sanitizer_reports(result.stderr)
    check_seeded_state(fresh_server, fixture_manifest)


def test_seed_twice_is_idempotent(fresh_server, localecr_binary, fixture_images, tmp_path):
    """A second seed finds the repositories and tags in place, even in an immutable repository."""
    seed = write_seed(tmp_path / "seed.json", seed_document(fixture_images))
    command = [str(localecr_binary), "seed", seed, "--server", fresh_server.url]
    first = subprocess.run(command, capture_output=True, text=True, env=fresh_server.env, timeout=60)
    second = subprocess.run(command, capture_output=True, text=True, env=fresh_server.env, timeout=60)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stdout == "seeded 2 repositories, 0 images, 1 account settings, 1 fault rules\n"
    assert tags_of(fresh_server, "team/app") == {"v1", "multi", "dev-1"}


# Validation errors: the seed document (or raw text), and a substring the message must contain.
# "{images}" is replaced by the fixture folder.
VALIDATION_CASES = [
    ("bad_json_line", '{\n  "repositories": [\n    {"name": "team/app",}\n  ]\n}\n',
     "seed.json:3:25: invalid JSON"),
    ("duplicate_key", '{"repositories": [], "repositories": []}', "seed.json:1:"),
    ("unknown_top_field", {"repository": []}, "seed.json: unknown field 'repository'"),
    ("unknown_repository_field", {"repositories": [{"name": "team/app", "imageTagMutabilty": "IMMUTABLE"}]},
     "seed.json: repositories[0]: unknown field 'imageTagMutabilty'"),
    ("unknown_image_field", {"repositories": [{"name": "team/app", "images": [
        {"oci": "{images}/single", "digest": "x"}]}]},
     "seed.json: repositories[0].images[0]: unknown field 'digest'"),
    ("missing_name", {"repositories": [{"scanOnPush": True}]},
     "seed.json: repositories[0]: missing field 'name'"),
    ("invalid_name", {"repositories": [{"name": "Team/App"}]}, "seed.json: repositories[0].name: "),
    ("duplicate_repository", {"repositories": [{"name": "team/app"}, {"name": "team/app"}]},
     "seed.json: repositories[1]: repository 'team/app' is already listed as repositories[0]"),
    ("missing_oci_layout", {"repositories": [{"name": "team/app"}, {"name": "team/web", "images": [
        {"oci": "./x"}]}]},
     "seed.json: repositories[1].images[0].oci: cannot read OCI layout ./x: No such file or directory"),
    ("missing_ref", {"repositories": [{"name": "team/app", "images": [{"oci": "{images}/single", "ref": "v9"}]}]},
     "has no manifest tagged 'v9' in index.json"),
    ("missing_docker_archive", {"repositories": [{"name": "team/app", "images": [
        {"dockerArchive": "nope.tar", "tag": "v1"}]}]},
     "seed.json: repositories[0].images[0].dockerArchive: cannot read docker archive nope.tar: "
     "No such file or directory"),
    ("docker_archive_without_tag", {"repositories": [{"name": "team/app", "images": [
        {"dockerArchive": "{images}/single.docker.tar"}]}]},
     "repositories[0].images[0]: a dockerArchive image needs a tag"),
    ("invalid_tag", {"repositories": [{"name": "team/app", "images": [{"oci": "{images}/single", "tag": "-x"}]}]},
     "repositories[0].images[0].tag: invalid tag '-x'"),
    ("invalid_repository_policy", {"repositories": [{"name": "team/app", "repositoryPolicy": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:*",
                                                "Condition": {"StringEqualz": {"aws:username": "x"}}}]}}]},
     "seed.json: repositories[0].repositoryPolicy: Statement[0].Condition: unknown operator 'StringEqualz'"),
    ("repository_policy_resource", {"repositories": [{"name": "team/app", "repositoryPolicy": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:*",
                                                "Resource": "*"}]}}]},
     "repositories[0].repositoryPolicy: a repository policy applies to its repository and may not name a Resource"),
    ("invalid_lifecycle_policy", {"repositories": [{"name": "team/app", "lifecyclePolicy": {"rules": [{
        "rulePriority": 1, "selection": {"tagStatus": "tagged", "countType": "imageCountMoreThan",
                                         "countNumber": 2}, "action": {"type": "expire"}}]}}]},
     "seed.json: repositories[0].lifecyclePolicy: Invalid parameter at 'LifecyclePolicyText'"),
    ("filters_without_exclusion_mode", {"repositories": [{"name": "team/app", "imageTagMutability": "IMMUTABLE",
                                                          "imageTagMutabilityExclusionFilters": [
                                                              {"filterType": "WILDCARD", "filter": "dev-*"}]}]},
     "repositories[0].imageTagMutabilityExclusionFilters: exclusion filters need imageTagMutability"),
    ("invalid_mutability", {"repositories": [{"name": "team/app", "imageTagMutability": "FROZEN"}]},
     "repositories[0].imageTagMutability: expected MUTABLE, IMMUTABLE"),
    ("reserved_resource_tag", {"repositories": [{"name": "team/app", "tags": [{"Key": "aws:x", "Value": "y"}]}]},
     "repositories[0].tags[0]: Key must be 1 to 128 characters and not start with 'aws:'"),
    ("scan_on_push_not_boolean", {"repositories": [{"name": "team/app", "scanOnPush": "yes"}]},
     "repositories[0].scanOnPush: expected true or false"),
    ("unknown_account_setting", {"accountSettings": [{"name": "NO_SUCH_SETTING", "value": "x"}]},
     "seed.json: accountSettings[0]: "),
    ("invalid_fault", {"faults": [{"fault": "explode"}]},
     "seed.json: faults[0]: fault must be one of throttle"),
    ("unknown_fault_field", {"faults": [{"fault": "throttle", "times": 2}]},
     "seed.json: faults[0]: unknown field 'times'"),
]


@pytest.mark.parametrize("document,expected", [case[1:] for case in VALIDATION_CASES],
                         ids=[case[0] for case in VALIDATION_CASES])
def test_seed_validation_error(fresh_server, localecr_binary, fixture_images, tmp_path, document, expected):
    text = document if isinstance(document, str) else json.dumps(document)
    (tmp_path / "seed.json").write_text(text.replace("{images}", str(fixture_images)))
    result = subprocess.run([str(localecr_binary), "seed", "seed.json", "--server", fresh_server.url],
                            capture_output=True, text=True, env=fresh_server.env, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert expected in result.stderr
    state = fresh_server.http.get(fresh_server.url + "/_localecr/state").json()
    assert state["repositories"] == 0, "a seed that fails validation must change nothing"


def test_serve_seed_invalid_file_stops_start(localecr_binary, tmp_path):
    seed = write_seed(tmp_path / "seed.json", {"repositories": [{"name": "team/app", "images": [{"oci": "./x"}]}]})
    result = subprocess.run([str(localecr_binary), "serve", "--listen", "127.0.0.1:0", "--data-dir",
                             str(tmp_path / "data"), "--seed", seed],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"{seed}: repositories[0].images[0].oci: cannot read OCI layout ./x: No such file or directory" in (
        result.stderr)


def test_reset_returns_to_seeded_state(server_factory, fixture_images, fixture_manifest, tmp_path):
    seed = write_seed(tmp_path / "seed.json", seed_document(fixture_images))
    server = server_factory("--seed", seed)
    # Change everything a test might: new repository, new image, deleted image, policy, settings, faults.
    server.create_repository("added/by-test")
    server.ecr.batch_delete_image(repositoryName="team/app", imageIds=[{"imageTag": "dev-1"}])
    server.ecr.delete_repository_policy(repositoryName="team/app")
    server.ecr.put_image_tag_mutability(repositoryName="team/app", imageTagMutability="MUTABLE")
    changed = server.ecr_request("PutAccountSetting", {"name": "BASIC_SCAN_TYPE_VERSION", "value": "CLAIR"})
    assert changed.status_code == 200, changed.text
    server.http.delete(server.url + "/_localecr/faults")
    server.http.post(server.url + "/_localecr/faults", json={"fault": "throttle", "operation": "PutImage"})
    started = time.monotonic()
    response = server.http.post(server.url + "/_localecr/reset")
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "reset", "seed": {"repositories": 2, "images": 5, "accountSettings": 1,
                                                           "faults": 1}}
    state = server.http.get(server.url + "/_localecr/state").json()
    assert state["auditRecords"] == 0
    assert state["repositories"] == 2
    # Seeded images in a scan-on-push repository are scanned again; nothing else may be left.
    events = server.http.get(server.url + "/_localecr/events").json()["events"]
    assert {event["event"]["detail-type"] for event in events} <= {"ECR Image Scan"}
    check_seeded_state(server, fixture_manifest)
    print(f"reset of the seeded server took {elapsed * 1000:.1f} ms")


def test_reset_with_broken_seed_keeps_state(server_factory, fixture_images, tmp_path):
    path = tmp_path / "seed.json"
    seed = write_seed(path, seed_document(fixture_images))
    server = server_factory("--seed", seed)
    server.create_repository("added/by-test")
    path.write_text("{")
    response = server.http.post(server.url + "/_localecr/reset")
    assert response.status_code == 400
    assert f"{seed}:1:" in response.json()["message"]
    names = {r["repositoryName"] for r in server.ecr.describe_repositories()["repositories"]}
    assert names == {"team/app", "empty/repo", "added/by-test"}


def test_admin_seed_relative_paths_use_base(fresh_server, fixture_images):
    body = json.dumps({"repositories": [{"name": "base/app", "images": [{"oci": "single", "tag": "v1"}]}]})
    response = fresh_server.http.post(fresh_server.url + "/_localecr/seed",
                                      params={"base": str(fixture_images), "name": "inline"}, data=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "seeded", "repositories": 1, "images": 1, "accountSettings": 0,
                               "faults": 0}
    assert tags_of(fresh_server, "base/app") == {"v1"}
    missing = fresh_server.http.post(fresh_server.url + "/_localecr/seed", data=body)
    assert missing.status_code == 400
    assert missing.json()["message"] == ("seed: repositories[0].images[0].oci: cannot read OCI layout single: "
                                         "No such file or directory")


def test_seed_region_and_registry_id(server_factory, fixture_images, tmp_path):
    seed = write_seed(tmp_path / "seed.json", {"repositories": [
        {"name": "west/app", "region": "us-west-2", "registryId": "000000000000"}]})
    server = server_factory("--seed", seed)
    west = server.boto3_client(region="us-west-2")
    assert [r["repositoryName"] for r in west.describe_repositories()["repositories"]] == ["west/app"]
    assert server.ecr.describe_repositories()["repositories"] == []
