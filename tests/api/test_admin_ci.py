"""Admin endpoints for CI suites: POST /_localecr/reset, GET /_localecr/state and /_localecr/faults.

A CI suite resets the server between two tests, reads the state to check what
a test left behind, and injects faults (throttling, 5xx responses, slow responses,
failed scans) to test a client's retries. Each test here starts a server of its
own, so no test depends on reset working except the reset tests themselves.

Clients and their retry behaviour (Debian's versions):
- boto3 1.26 in `standard` retry mode retries ThrottlingException (HTTP 400)
  and 5xx responses; `total_max_attempts` counts the first attempt.
- The aws CLI 2.9 reads AWS_RETRY_MODE and AWS_MAX_ATTEMPTS.
- skopeo 1.9.3, as observed here, retries a 429 on a request without a body
  (such as the POST that starts an upload) up to 5 times, waiting Retry-After
  seconds. It retries a 429 on a PATCH, which carries the layer, only with
  --retry-times, and does not retry a 503 on a PATCH even with --retry-times.
"""

import collections
import json
import random
import subprocess
import threading
import time

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

import testimages
from harness import (ACCOUNT_ID, AWS_CLI, REGION, SKOPEO, VULN_DB, add_fault, audit_records, clear_faults,
                     client_error, fault_rules, fsck_lines, oci_error_codes, policy_document, post_fault,
                     push_layout_image, recent_events, reset_server, server_state, skopeo_push, wait_for_scan,
                     wait_until)

OTHER_REGION = "us-west-2"
OTHER_ACCOUNT = "111122223333"
STATE_COUNTS = ("repositories", "images", "tags", "blobs", "blobBytes", "uploads", "scans", "archivedImages",
                "lifecyclePolicies", "repositoryPolicies", "auditRecords")
OCTET_STREAM = {"Content-Type": "application/octet-stream"}
AUDIT_TIMEOUT_SECONDS = 10.0
PROBABILITY_REQUESTS = 200
LIFECYCLE_POLICY = json.dumps({"rules": [{
    "rulePriority": 1, "description": "expire untagged images after a day",
    "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1},
    "action": {"type": "expire"}}]})
PULL_POLICY = policy_document({"Sid": "Pull", "Effect": "Allow",
                               "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                               "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]})
REGISTRY_POLICY = policy_document({"Sid": "Replicate", "Effect": "Allow",
                                   "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                                   "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                                   "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/*"})


@pytest.fixture
def ci_server(server_factory):
    """A server of the test's own that scans against the sample OSV database."""
    return server_factory("--vuln-db", str(VULN_DB))


# Helpers


def layout(fixture_images, fixture_manifest, name):
    return fixture_images / fixture_manifest[name]["path"]


def retrying_client(server, total_max_attempts: int, region: str = REGION):
    """boto3 ECR client in standard retry mode with at most `total_max_attempts` attempts per call.

    server.ecr is no substitute for retrying_client(server, 1): `max_attempts` in its legacy retry mode
    counts retries, so it retries a failed call once.
    """
    return boto3.client(
        "ecr", endpoint_url=server.url, region_name=region, aws_access_key_id="test", aws_secret_access_key="test",
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": total_max_attempts}))


def aws_with_retries(server, max_attempts: int, *args) -> subprocess.CompletedProcess:
    """Run the aws CLI in standard retry mode with at most `max_attempts` attempts per call."""
    env = dict(server.env, AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS=str(max_attempts))
    command = [AWS_CLI, "--endpoint-url", server.url, "--region", REGION, "--output", "json", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def skopeo_copy(server, source, repository: str, tag: str, *extra) -> subprocess.CompletedProcess:
    """Copy the `latest` image of an OCI layout to the server with skopeo; the caller checks the exit status."""
    command = [SKOPEO, "copy", *extra, "--dest-tls-verify=false", "--dest-creds", f"AWS:{server.login_password()}",
               f"oci:{source}:latest", f"docker://{server.host}/{repository}:{tag}"]
    return subprocess.run(command, capture_output=True, text=True, env=server.env, timeout=600)


def attempts_of(server, event_name: str, count: int) -> list:
    """Wait for `count` audit records of `event_name` and return their error codes, oldest first.

    Records are written when a request ends, which may be just after the client has read the response.
    """
    def enough():
        records = audit_records(server, eventName=event_name, limit=10000)
        return records if len(records) >= count else None

    records = wait_until(enough, AUDIT_TIMEOUT_SECONDS, what=f"{count} audit records of {event_name}")
    return [record.get("errorCode") for record in reversed(records)]


def rule_by_id(server, rule_id: str) -> dict:
    return next(rule for rule in fault_rules(server) if rule["id"] == rule_id)


def json_error(response) -> tuple:
    return response.status_code, response.json().get("__type")


def v2_error(response) -> tuple:
    return response.status_code, oci_error_codes(response)


def describe_repository_names(client, **kwargs) -> list:
    return [repository["repositoryName"] for repository in client.describe_repositories(**kwargs)["repositories"]]


def open_upload(server, repository: str) -> str:
    response = server.v2("POST", f"/{repository}/blobs/uploads/")
    assert response.status_code == 202, response.text
    return server.absolute(response.headers["Location"])


def settled_audit_count(server) -> tuple:
    """Return (auditRecords of /_localecr/state, length of /_localecr/audit) once two reads agree."""
    def agree():
        listed = len(audit_records(server, limit=10000))
        state = server_state(server)["auditRecords"]
        listed_again = len(audit_records(server, limit=10000))
        return (state, listed) if listed == listed_again else None

    return wait_until(agree, AUDIT_TIMEOUT_SECONDS, what="the audit trail to settle")


# POST /_localecr/reset


def populate(server, fixture_images, fixture_manifest) -> dict:
    """Store one of everything that reset must remove; return what a later check needs."""
    ecr = server.ecr
    ecr.create_repository(repositoryName="ci/app", imageTagMutability="IMMUTABLE",
                          imageScanningConfiguration={"scanOnPush": True},
                          tags=[{"Key": "team", "Value": "ci"}])
    ecr.create_repository(repositoryName="ci/scanned")
    server.boto3_client(region=OTHER_REGION).create_repository(repositoryName="ci/west")
    ecr.create_repository(registryId=OTHER_ACCOUNT, repositoryName="ci/other-account")

    image = testimages.build_image("reset-v1")
    old = testimages.build_image("reset-old")
    index = testimages.build_index("reset-multi")
    server.push_image("ci/app", image, tag="v1")
    server.push_image("ci/app", old, tag="old")
    server.push_image("ci/app", index, tag="multi")
    archived = server.ecr_request("UpdateImageStorageClass", {
        "repositoryName": "ci/app", "imageId": {"imageDigest": old.digest}, "targetStorageClass": "ARCHIVE"})
    assert archived.status_code == 200, archived.text

    apps = push_layout_image(server, layout(fixture_images, fixture_manifest, "apps"), "ci/scanned", "latest")
    ecr.start_image_scan(repositoryName="ci/scanned", imageId={"imageDigest": apps["digest"]})
    assert wait_for_scan(server, "ci/scanned", {"imageDigest": apps["digest"]})["imageScanStatus"]["status"] \
        == "COMPLETE"

    ecr.put_lifecycle_policy(repositoryName="ci/app", lifecyclePolicyText=LIFECYCLE_POLICY)
    ecr.start_lifecycle_policy_preview(repositoryName="ci/app")
    ecr.set_repository_policy(repositoryName="ci/app", policyText=PULL_POLICY)
    ecr.put_registry_policy(policyText=REGISTRY_POLICY)
    setting = server.ecr_request("PutAccountSetting", {"name": "BLOB_MOUNTING", "value": "ENABLED"})
    assert setting.status_code == 200, setting.text
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[{
        "scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "ci/*", "filterType": "WILDCARD"}]}])

    # An unfinished /v2/ upload with bytes in it, and an unfinished InitiateLayerUpload.
    session = open_upload(server, "ci/app")
    patched = server.v2("PATCH", session, data=b"partial layer" * 1000,
                        headers={**OCTET_STREAM, "Content-Range": "0-12999"})
    assert patched.status_code == 202, patched.text
    ecr.initiate_layer_upload(repositoryName="ci/scanned")

    # A rule that would fail the CreateRepository of the next test, if it outlived the reset.
    add_fault(server, operation="CreateRepository", repository="ci/*", fault="server_error", count=5)
    # The last JSON call goes over the same connection as the reset, so its audit record is written before it.
    assert server.ecr_request("DescribeRepositories", {}).status_code == 200
    return {"image": image, "old": old, "index": index, "apps": apps, "session": session}


def assert_state_empty(state: dict):
    for name in STATE_COUNTS:
        assert state[name] == 0, f"{name} is {state[name]} after the reset"


def test_reset_leaves_no_trace(ci_server, fixture_images, fixture_manifest):
    server = ci_server
    stored = populate(server, fixture_images, fixture_manifest)
    token_before = server.basic_auth
    before = server_state(server)
    assert before["repositories"] == 4
    assert before["images"] == 6
    assert before["scans"] >= 1
    assert before["archivedImages"] == 1
    assert before["lifecyclePolicies"] == 1
    assert before["repositoryPolicies"] == 1
    assert before["uploads"] == 2
    assert before["auditRecords"] > 0
    assert recent_events(server) != []
    assert server.blob_files() != set()
    assert len(server.upload_files()) == 2

    started = time.monotonic()
    response = reset_server(server)
    elapsed = time.monotonic() - started
    print(f"POST /_localecr/reset took {elapsed * 1000:.1f} ms "
          f"({before['blobs']} blobs, {before['images']} images, {before['auditRecords']} audit records)")

    assert response.status_code == 200, response.text
    # Read the admin views before any API call writes a new audit record.
    assert_state_empty(server_state(server))
    assert audit_records(server, limit=10000) == []
    assert recent_events(server) == []
    assert fault_rules(server) == []
    assert [path for path in (server.data_dir / "blobs").rglob("*") if path.is_file()] == []
    assert server.upload_files() == set()

    # Every API shows an empty registry, in every region and account.
    assert describe_repository_names(server.ecr) == []
    assert describe_repository_names(server.boto3_client(region=OTHER_REGION)) == []
    assert describe_repository_names(server.ecr, registryId=OTHER_ACCOUNT) == []
    assert server.v2("GET", "/_catalog").json() == {"repositories": []}
    with pytest.raises(ClientError) as excinfo:
        server.ecr.describe_images(repositoryName="ci/app")
    assert client_error(excinfo)[1] == "RepositoryNotFoundException"
    assert v2_error(server.v2("GET", "/ci/app/manifests/v1")) == (404, ["NAME_UNKNOWN"])
    assert server.v2("HEAD", f"/ci/app/blobs/{stored['image'].layers[0].digest}").status_code == 404
    session = server.v2("GET", stored["session"])
    assert session.status_code == 404, session.text
    assert set(oci_error_codes(session)) <= {"BLOB_UPLOAD_UNKNOWN", "NAME_UNKNOWN"}
    with pytest.raises(ClientError) as excinfo:
        server.ecr.get_registry_policy()
    assert client_error(excinfo)[1] == "RegistryPolicyNotFoundException"
    assert server.ecr_request("GetAccountSetting", {"name": "BLOB_MOUNTING"}).json()["value"] == "DISABLED"
    assert server.ecr.get_registry_scanning_configuration()["scanningConfiguration"] == {"scanType": "BASIC",
                                                                                         "rules": []}

    # The next test starts from scratch: same names, same images, defaults everywhere.
    created = server.ecr.create_repository(repositoryName="ci/app")["repository"]
    assert created["imageTagMutability"] == "MUTABLE"
    assert created["imageScanningConfiguration"] == {"scanOnPush": False}
    assert server.ecr.list_tags_for_resource(resourceArn=created["repositoryArn"])["tags"] == []
    with pytest.raises(ClientError) as excinfo:
        server.ecr.get_repository_policy(repositoryName="ci/app")
    assert client_error(excinfo)[1] == "RepositoryPolicyNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        server.ecr.get_lifecycle_policy(repositoryName="ci/app")
    assert client_error(excinfo)[1] == "LifecyclePolicyNotFoundException"
    assert server.ecr.list_images(repositoryName="ci/app")["imageIds"] == []
    for blob in stored["image"].blobs:
        assert server.v2("HEAD", f"/ci/app/blobs/{blob.digest}").status_code == 404

    # server.basic_auth still contains the registry token minted before the reset.
    assert server.basic_auth == token_before
    server.push_image("ci/app", stored["image"], tag="v1")
    pulled = server.v2("GET", "/ci/app/manifests/v1", headers={"Accept": stored["image"].media_type})
    assert pulled.status_code == 200, pulled.text
    assert pulled.content == stored["image"].manifest
    for blob in stored["image"].blobs:
        assert server.v2("GET", f"/ci/app/blobs/{blob.digest}").content == blob.data
        assert server.blob_file(blob.digest).read_bytes() == blob.data

    # The scan quota of one scan per image per day does not carry over.
    server.ecr.create_repository(repositoryName="ci/scanned")
    apps = push_layout_image(server, layout(fixture_images, fixture_manifest, "apps"), "ci/scanned", "latest")
    assert apps["digest"] == stored["apps"]["digest"]
    image_id = {"imageDigest": apps["digest"]}
    with pytest.raises(ClientError) as excinfo:
        server.ecr.describe_image_scan_findings(repositoryName="ci/scanned", imageId=image_id)
    assert client_error(excinfo)[1] == "ScanNotFoundException"
    server.ecr.start_image_scan(repositoryName="ci/scanned", imageId=image_id)
    assert wait_for_scan(server, "ci/scanned", image_id)["imageScanStatus"]["status"] == "COMPLETE"

    after = server_state(server)
    assert (after["repositories"], after["images"], after["tags"], after["scans"]) == (2, 2, 2, 1)
    assert (after["archivedImages"], after["lifecyclePolicies"], after["repositoryPolicies"]) == (0, 0, 0)
    assert {entry["event"]["detail"].get("repository-name") for entry in recent_events(server)} \
        == {"ci/app", "ci/scanned"}


def test_reset_keeps_registry_tokens_valid(ci_server, fixture_images, fixture_manifest):
    server = ci_server
    password = server.login_password()
    token = server.basic_auth
    server.create_repository("before")
    server.push_image("before", testimages.build_image("token-before"), tag="v1")

    assert reset_server(server).status_code == 200

    # server.v2 sends the registry token cached before the reset.
    assert server.basic_auth == token
    assert server.v2("GET", "/").status_code == 200
    server.create_repository("after")
    server.push_image("after", testimages.build_image("token-after"), tag="v1")
    skopeo_push(server, layout(fixture_images, fixture_manifest, "single"), "after", "skopeo", password=password)
    tags = {image_id.get("imageTag") for image_id in server.ecr.list_images(repositoryName="after")["imageIds"]}
    assert tags == {"v1", "skopeo"}


def test_reset_of_empty_server(ci_server):
    first = reset_server(ci_server)
    second = reset_server(ci_server)

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert_state_empty(server_state(ci_server))
    ci_server.create_repository("fresh")
    ci_server.push_image("fresh", testimages.build_image("empty-reset"), tag="v1")
    assert server_state(ci_server)["images"] == 1


CHURN_ROUNDS = 4
CHURN_ROUND_SECONDS = 1.5
CHURN_THREADS = 6
RESET_INTERVAL_SECONDS = 0.02


def churn_round(server, round_number: int) -> collections.Counter:
    """Upload random blobs from CHURN_THREADS threads while resetting the server; return the upload statuses."""
    deadline = time.monotonic() + CHURN_ROUND_SECONDS
    statuses = collections.Counter()
    lock = threading.Lock()

    def push_blobs(number):
        client = server.thread_client()
        generator = random.Random(f"{round_number}/{number}")
        while time.monotonic() < deadline:
            data = generator.randbytes(generator.randint(1000, 200000))
            response = client.v2("POST", "/churn/blobs/uploads/", params={"digest": testimages.sha256_digest(data)},
                                 data=data, headers=OCTET_STREAM)
            with lock:
                statuses[response.status_code] += 1

    workers = [threading.Thread(target=push_blobs, args=(number,)) for number in range(CHURN_THREADS)]
    for worker in workers:
        worker.start()
    while time.monotonic() < deadline:
        assert reset_server(server).status_code == 200
        time.sleep(RESET_INTERVAL_SECONDS)
    for worker in workers:
        worker.join(timeout=60)
    return statuses


def test_reset_during_pushes_keeps_store_consistent(server_factory):
    """Resets racing with blob uploads may fail those uploads, but must not leave rows without files.

    Each reset removes what an earlier one damaged, so the store is checked after every round.
    """
    server = server_factory("--create-on-push")
    server.basic_auth
    blobs_without_file = []
    uploads_without_file = []
    fsck_problems = []

    for round_number in range(CHURN_ROUNDS):
        statuses = churn_round(server, round_number)
        print(f"round {round_number}: upload statuses {dict(statuses)}")
        blob_rows = [digest for (digest,) in server.query_database("SELECT digest FROM blobs")]
        upload_rows = [uuid for (uuid,) in server.query_database("SELECT uuid FROM uploads")]
        blobs_without_file += [digest for digest in blob_rows if not server.blob_file(digest).exists()]
        uploads_without_file += [uuid for uuid in upload_rows if uuid not in server.upload_files()]
        fsck_problems += fsck_lines(server.fsck(), "problem")

    assert blobs_without_file == []
    assert uploads_without_file == []
    assert fsck_problems == []


# GET /_localecr/state


def test_state_counts_match_store(ci_server, fixture_images, fixture_manifest):
    server = ci_server
    initial = server_state(server)
    assert_state_empty(initial)
    assert initial["authMode"] == "open"

    server.create_repository("state/a")
    server.create_repository("state/b")
    server.boto3_client(region=OTHER_REGION).create_repository(repositoryName="state/west")
    first = testimages.build_image("state-first", layer_count=2)
    second = testimages.build_image("state-second")
    index = testimages.build_index("state-index")
    server.push_image("state/a", first, tag="v1")
    server.ecr.put_image(repositoryName="state/a", imageManifest=first.manifest.decode(), imageTag="latest")
    server.push_image("state/a", second, tag="v2")
    server.push_image("state/b", index, tag="multi")
    # The same image in a second repository adds an image and a tag, but no blob.
    server.push_image("state/b", first, tag="copy")
    apps = push_layout_image(server, layout(fixture_images, fixture_manifest, "apps"), "state/b", "apps")
    apps_blobs = {}
    apps_manifest = json.loads((layout(fixture_images, fixture_manifest, "apps") / "blobs" / "sha256"
                                / apps["digest"].split(":")[1]).read_text())
    for descriptor in [apps_manifest["config"], *apps_manifest["layers"]]:
        apps_blobs[descriptor["digest"]] = descriptor["size"]

    server.ecr.start_image_scan(repositoryName="state/b", imageId={"imageDigest": apps["digest"]})
    wait_for_scan(server, "state/b", {"imageDigest": apps["digest"]})
    archived = server.ecr_request("UpdateImageStorageClass", {
        "repositoryName": "state/a", "imageId": {"imageDigest": second.digest}, "targetStorageClass": "ARCHIVE"})
    assert archived.status_code == 200, archived.text
    server.ecr.put_lifecycle_policy(repositoryName="state/a", lifecyclePolicyText=LIFECYCLE_POLICY)
    server.ecr.set_repository_policy(repositoryName="state/a", policyText=PULL_POLICY)
    server.ecr.set_repository_policy(repositoryName="state/b", policyText=PULL_POLICY)
    open_upload(server, "state/a")
    open_upload(server, "state/b")
    server.ecr.initiate_layer_upload(repositoryName="state/a")

    blobs = {blob.digest: blob.size for blob in [*first.blobs, *second.blobs]}
    for child in index.images:
        blobs.update({blob.digest: blob.size for blob in child.blobs})
    blobs.update(apps_blobs)
    audit_in_state, audit_listed = settled_audit_count(server)
    state = server_state(server)

    assert state["repositories"] == 3
    # state/a: first, second. state/b: the index, its two children, first, apps.
    assert state["images"] == 7
    # v1, latest, v2, multi, copy, apps
    assert state["tags"] == 6
    assert state["blobs"] == len(blobs)
    assert state["blobBytes"] == sum(blobs.values())
    assert state["uploads"] == 3
    assert state["scans"] == 1
    assert state["archivedImages"] == 1
    assert state["lifecyclePolicies"] == 1
    assert state["repositoryPolicies"] == 2
    assert audit_in_state == audit_listed
    assert audit_in_state > 0
    assert state["authMode"] == "open"

    # Deleting a tag, a policy and a repository lowers the counts.
    server.ecr.batch_delete_image(repositoryName="state/a", imageIds=[{"imageTag": "latest"}])
    server.ecr.delete_repository_policy(repositoryName="state/b")
    server.ecr.delete_repository(repositoryName="state/a", force=True)
    state = server_state(server)
    assert state["repositories"] == 2
    assert state["images"] == 5
    assert state["tags"] == 3
    assert state["uploads"] == 1
    assert state["archivedImages"] == 0
    assert state["lifecyclePolicies"] == 0
    assert state["repositoryPolicies"] == 0
    assert state["scans"] == 1


def test_state_clock_follows_the_server_clock(ci_server):
    response = ci_server.http.post(ci_server.url + "/_localecr/clock", json={"now": "2031-05-06T07:08:09Z"})
    assert response.status_code == 200, response.text

    clock = server_state(ci_server)["clock"]

    assert clock.startswith("2031-05-06T07:08:"), clock
    assert clock.endswith("Z")


def test_state_reports_iam_mode(example_iam_server):
    state = server_state(example_iam_server)

    assert state["authMode"] == "iam"
    assert set(STATE_COUNTS) <= set(state)


# Fault injection: throttle


def test_throttle_json_boto3_retries(ci_server):
    rule = add_fault(ci_server, operation="CreateRepository", repository="throttled", fault="throttle", count=2)

    response = retrying_client(ci_server, 5).create_repository(repositoryName="throttled")

    assert response["repository"]["repositoryName"] == "throttled"
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert attempts_of(ci_server, "CreateRepository", 3) == ["ThrottlingException", "ThrottlingException", None]
    listed = rule_by_id(ci_server, rule["id"])
    assert listed["fired"] == 2
    assert listed["remaining"] == 0


def test_throttle_json_boto3_gives_up(ci_server):
    rule = add_fault(ci_server, operation="DescribeRepositories", fault="throttle", count=10)

    with pytest.raises(ClientError) as excinfo:
        retrying_client(ci_server, 3).describe_repositories()

    status, code, message = client_error(excinfo)
    assert (status, code) == (400, "ThrottlingException")
    assert message
    assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert attempts_of(ci_server, "DescribeRepositories", 3) == ["ThrottlingException"] * 3
    assert rule_by_id(ci_server, rule["id"])["fired"] == 3


def test_throttle_json_raw_answer(ci_server):
    add_fault(ci_server, operation="ListImages", fault="throttle", count=1)
    ci_server.create_repository("raw")

    throttled = ci_server.ecr_request("ListImages", {"repositoryName": "raw"})
    served = ci_server.ecr_request("ListImages", {"repositoryName": "raw"})

    assert json_error(throttled) == (400, "ThrottlingException")
    assert throttled.json()["message"]
    assert served.status_code == 200, served.text
    assert served.json()["imageIds"] == []


def test_throttle_json_aws_cli(ci_server):
    add_fault(ci_server, operation="DescribeRepositories", fault="throttle", count=2)
    retried = aws_with_retries(ci_server, 3, "ecr", "describe-repositories")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["repositories"] == []
    assert attempts_of(ci_server, "DescribeRepositories", 3) == ["ThrottlingException", "ThrottlingException", None]

    add_fault(ci_server, operation="DescribeRepositories", fault="throttle", count=10)
    failed = aws_with_retries(ci_server, 3, "ecr", "describe-repositories")

    assert failed.returncode != 0
    assert "ThrottlingException" in failed.stderr
    assert attempts_of(ci_server, "DescribeRepositories", 6)[3:] == ["ThrottlingException"] * 3


def test_throttle_v2_raw_answer(ci_server):
    ci_server.create_repository("raw")
    image = testimages.build_image("throttle-raw")
    ci_server.push_image("raw", image, tag="v1")
    rule = add_fault(ci_server, operation="manifest.get", repository="raw", fault="throttle", count=1)

    throttled = ci_server.v2("GET", "/raw/manifests/v1", headers={"Accept": image.media_type})
    served = ci_server.v2("GET", "/raw/manifests/v1", headers={"Accept": image.media_type})

    assert v2_error(throttled) == (429, ["TOOMANYREQUESTS"])
    assert throttled.headers.get("Retry-After", "").isdigit(), throttled.headers
    assert served.status_code == 200, served.text
    assert served.content == image.manifest
    assert rule_by_id(ci_server, rule["id"])["fired"] == 1


def test_throttle_v2_skopeo_retries_upload_start(ci_server, fixture_images, fixture_manifest):
    ci_server.create_repository("pushed")
    rule = add_fault(ci_server, operation="upload.start", repository="pushed", fault="throttle", count=2)

    result = skopeo_copy(ci_server, layout(fixture_images, fixture_manifest, "single"), "pushed", "v1")

    assert result.returncode == 0, result.stderr
    detail = ci_server.ecr.describe_images(repositoryName="pushed")["imageDetails"]
    assert [(image["imageDigest"], image["imageTags"]) for image in detail] == [
        (fixture_manifest["single"]["digest"], ["v1"])]
    assert rule_by_id(ci_server, rule["id"])["fired"] == 2


def test_throttle_v2_skopeo_gives_up(ci_server, fixture_images, fixture_manifest):
    ci_server.create_repository("pushed")
    add_fault(ci_server, operation="upload.start", repository="pushed", fault="throttle", count=1000)
    source = layout(fixture_images, fixture_manifest, "single")

    failed = skopeo_copy(ci_server, source, "pushed", "v1")

    assert failed.returncode != 0
    assert "toomanyrequests" in failed.stderr.lower(), failed.stderr
    assert ci_server.ecr.list_images(repositoryName="pushed")["imageIds"] == []
    clear_faults(ci_server)
    retried = skopeo_copy(ci_server, source, "pushed", "v1")
    assert retried.returncode == 0, retried.stderr


def test_throttle_v2_skopeo_retry_times(ci_server, fixture_images, fixture_manifest):
    ci_server.create_repository("pushed")
    source = layout(fixture_images, fixture_manifest, "single")
    add_fault(ci_server, operation="upload.patch", repository="pushed", fault="throttle", count=1)
    without_retries = skopeo_copy(ci_server, source, "pushed", "v1")
    assert without_retries.returncode != 0
    assert "toomanyrequests" in without_retries.stderr.lower(), without_retries.stderr

    rule = add_fault(ci_server, operation="upload.patch", repository="pushed", fault="throttle", count=1)
    with_retries = skopeo_copy(ci_server, source, "pushed", "v1", "--retry-times", "2")

    assert with_retries.returncode == 0, with_retries.stderr
    assert rule_by_id(ci_server, rule["id"])["fired"] == 1
    assert ci_server.ecr.describe_images(repositoryName="pushed")["imageDetails"][0]["imageDigest"] \
        == fixture_manifest["single"]["digest"]


# Fault injection: server_error, unavailable, slow


def test_server_error_json(ci_server):
    add_fault(ci_server, operation="CreateRepository", fault="server_error", count=1)
    with pytest.raises(ClientError) as excinfo:
        retrying_client(ci_server, 1).create_repository(repositoryName="broken")
    assert client_error(excinfo)[:2] == (500, "ServerException")
    assert describe_repository_names(ci_server.ecr) == []

    add_fault(ci_server, operation="CreateRepository", fault="server_error", count=1)
    response = retrying_client(ci_server, 3).create_repository(repositoryName="broken")

    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert describe_repository_names(ci_server.ecr) == ["broken"]


def test_server_error_v2_manifest_put(ci_server):
    ci_server.create_repository("broken")
    image = testimages.build_image("server-error")
    for blob in image.blobs:
        ci_server.push_blob("broken", blob.data)
    add_fault(ci_server, operation="manifest.put", repository="broken", fault="server_error", count=1)

    failed = ci_server.put_manifest("broken", "v1", image.manifest, image.media_type)

    assert v2_error(failed) == (500, ["UNKNOWN"])
    assert ci_server.v2("GET", "/broken/manifests/v1", headers={"Accept": image.media_type}).status_code == 404
    assert ci_server.put_manifest("broken", "v1", image.manifest, image.media_type).status_code == 201


def test_unavailable_json(ci_server):
    add_fault(ci_server, operation="DescribeRepositories", fault="unavailable", count=1)

    with pytest.raises(ClientError) as excinfo:
        retrying_client(ci_server, 1).describe_repositories()

    assert client_error(excinfo)[:2] == (503, "ServerException")
    assert ci_server.ecr.describe_repositories()["repositories"] == []


def test_unavailable_v2_upload_start(ci_server):
    ci_server.create_repository("flaky")
    rule = add_fault(ci_server, operation="upload.start", repository="flaky", fault="unavailable", count=1)

    failed = ci_server.v2("POST", "/flaky/blobs/uploads/")

    assert v2_error(failed) == (503, ["UNAVAILABLE"])
    assert server_state(ci_server)["uploads"] == 0
    assert ci_server.upload_files() == set()
    open_upload(ci_server, "flaky")
    assert rule_by_id(ci_server, rule["id"])["fired"] == 1


def test_unavailable_v2_patch_keeps_session(ci_server):
    ci_server.create_repository("flaky")
    data = random.Random("upload.patch").randbytes(8 * 1024 * 1024)
    digest = testimages.sha256_digest(data)
    session = open_upload(ci_server, "flaky")
    fresh_range = ci_server.v2("GET", session).headers.get("Range")
    add_fault(ci_server, operation="upload.patch", repository="flaky", fault="unavailable", count=1)

    failed = ci_server.v2("PATCH", session, data=data, headers=OCTET_STREAM)

    assert v2_error(failed) == (503, ["UNAVAILABLE"])
    status = ci_server.v2("GET", session)
    assert status.status_code == 204, status.text
    assert status.headers.get("Range") == fresh_range, "the failed PATCH wrote into the session"
    patched = ci_server.v2("PATCH", session, data=data, headers=OCTET_STREAM)
    assert patched.status_code == 202, patched.text
    completed = ci_server.v2("PUT", ci_server.absolute(patched.headers["Location"]), params={"digest": digest})
    assert completed.status_code == 201, completed.text
    assert ci_server.v2("GET", f"/flaky/blobs/{digest}").content == data


def test_unavailable_v2_put_keeps_session(ci_server):
    ci_server.create_repository("flaky")
    data = b"layer bytes for a failed upload.put" * 100
    digest = testimages.sha256_digest(data)
    session = open_upload(ci_server, "flaky")
    patched = ci_server.v2("PATCH", session, data=data, headers=OCTET_STREAM)
    assert patched.status_code == 202, patched.text
    location = ci_server.absolute(patched.headers["Location"])
    add_fault(ci_server, operation="upload.put", repository="flaky", fault="unavailable", count=1)

    failed = ci_server.v2("PUT", location, params={"digest": digest})

    assert v2_error(failed) == (503, ["UNAVAILABLE"])
    assert ci_server.v2("HEAD", f"/flaky/blobs/{digest}").status_code == 404
    completed = ci_server.v2("PUT", location, params={"digest": digest})
    assert completed.status_code == 201, completed.text
    assert ci_server.v2("GET", f"/flaky/blobs/{digest}").content == data


def test_unavailable_v2_skopeo_push_fails(ci_server, fixture_images, fixture_manifest):
    ci_server.create_repository("flaky")
    source = layout(fixture_images, fixture_manifest, "single")
    rule = add_fault(ci_server, operation="upload.patch", repository="flaky", fault="unavailable", count=1)

    failed = skopeo_copy(ci_server, source, "flaky", "v1", "--retry-times", "2")
    pushed = skopeo_copy(ci_server, source, "flaky", "v1")

    assert failed.returncode != 0
    assert "503" in failed.stderr, failed.stderr
    assert pushed.returncode == 0, pushed.stderr
    assert rule_by_id(ci_server, rule["id"])["fired"] == 1


SLOW_MS = 400


def test_slow_json_and_v2(ci_server):
    ci_server.create_repository("slow")
    image = testimages.build_image("slow")
    ci_server.push_image("slow", image, tag="v1")
    add_fault(ci_server, operation="DescribeRepositories", fault="slow", delay_ms=SLOW_MS, count=1)
    add_fault(ci_server, operation="blob.get", repository="slow", fault="slow", delay_ms=SLOW_MS, count=1)

    started = time.monotonic()
    described = ci_server.ecr.describe_repositories()
    json_seconds = time.monotonic() - started
    started = time.monotonic()
    blob = ci_server.v2("GET", f"/slow/blobs/{image.layers[0].digest}")
    v2_seconds = time.monotonic() - started

    assert [repository["repositoryName"] for repository in described["repositories"]] == ["slow"]
    assert json_seconds >= SLOW_MS / 1000
    assert blob.status_code == 200, blob.text
    assert blob.content == image.layers[0].data
    assert v2_seconds >= SLOW_MS / 1000
    assert [rule["fired"] for rule in fault_rules(ci_server)] == [1, 1]


def test_slow_request_blocks_no_other(ci_server):
    ci_server.create_repository("slow")
    image = testimages.build_image("slow-concurrent")
    ci_server.push_image("slow", image, tag="v1")
    add_fault(ci_server, operation="blob.get", repository="slow", fault="slow", delay_ms=3000, count=1)
    slow_client = ci_server.thread_client()
    outcome = {}

    def fetch_slowly():
        started = time.monotonic()
        outcome["status"] = slow_client.v2("GET", f"/slow/blobs/{image.layers[0].digest}").status_code
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=fetch_slowly)
    worker.start()
    wait_until(lambda: fault_rules(ci_server)[0]["fired"] == 1, 5.0, 0.02, what="the slow rule to fire")
    started = time.monotonic()
    described = ci_server.ecr_request("DescribeRepositories", {})
    blob = ci_server.v2("GET", f"/slow/blobs/{image.config.digest}")
    other_seconds = time.monotonic() - started
    worker.join(timeout=30)

    assert described.status_code == 200, described.text
    assert blob.status_code == 200, blob.text
    assert other_seconds < 2.0
    assert not worker.is_alive()
    assert outcome["status"] == 200
    assert outcome["seconds"] >= 3.0


# Fault injection: scan_failed


def test_scan_failed_matching_repository(ci_server, fixture_images, fixture_manifest):
    apps_layout = layout(fixture_images, fixture_manifest, "apps")
    for name in ("scan-fail/app", "scan-ok/app"):
        ci_server.create_repository(name)
    failing = push_layout_image(ci_server, apps_layout, "scan-fail/app", "latest")
    passing = push_layout_image(ci_server, apps_layout, "scan-ok/app", "latest")
    alpine = push_layout_image(ci_server, layout(fixture_images, fixture_manifest, "alpine-like"),
                               "scan-fail/app", "alpine")
    rule = add_fault(ci_server, repository="scan-fail/*", fault="scan_failed", count=1)

    started = ci_server.ecr.start_image_scan(repositoryName="scan-fail/app",
                                             imageId={"imageDigest": failing["digest"]})
    failed = wait_for_scan(ci_server, "scan-fail/app", {"imageDigest": failing["digest"]})
    ci_server.ecr.start_image_scan(repositoryName="scan-ok/app", imageId={"imageDigest": passing["digest"]})
    passed = wait_for_scan(ci_server, "scan-ok/app", {"imageDigest": passing["digest"]})
    ci_server.ecr.start_image_scan(repositoryName="scan-fail/app", imageId={"imageDigest": alpine["digest"]})
    next_scan = wait_for_scan(ci_server, "scan-fail/app", {"imageDigest": alpine["digest"]})

    assert started["imageScanStatus"]["status"] == "IN_PROGRESS"
    assert failed["imageScanStatus"]["status"] == "FAILED"
    assert failed["imageScanStatus"].get("description")
    detail = ci_server.ecr.describe_images(repositoryName="scan-fail/app",
                                           imageIds=[{"imageDigest": failing["digest"]}])["imageDetails"][0]
    assert detail["imageScanStatus"]["status"] == "FAILED"
    assert passed["imageScanStatus"]["status"] == "COMPLETE"
    assert passed["imageScanFindings"]["findings"] != []
    assert next_scan["imageScanStatus"]["status"] == "COMPLETE"
    listed = rule_by_id(ci_server, rule["id"])
    assert listed["fired"] == 1
    assert listed["remaining"] == 0


def test_scan_failed_reports_no_findings(ci_server, fixture_images, fixture_manifest):
    ci_server.create_repository("scan-fail/app")
    image = push_layout_image(ci_server, layout(fixture_images, fixture_manifest, "apps"), "scan-fail/app", "latest")
    image_id = {"imageDigest": image["digest"]}
    add_fault(ci_server, repository="scan-fail/app", fault="scan_failed")

    ci_server.ecr.start_image_scan(repositoryName="scan-fail/app", imageId=image_id)
    failed = wait_for_scan(ci_server, "scan-fail/app", image_id)
    detail = ci_server.ecr.describe_images(repositoryName="scan-fail/app", imageIds=[image_id])["imageDetails"][0]

    assert failed["imageScanStatus"]["status"] == "FAILED"
    # A failed scan reports no findings, whatever the scanner read before the failure.
    assert failed.get("imageScanFindings", {}).get("findings", []) == []
    assert failed.get("imageScanFindings", {}).get("findingSeverityCounts", {}) == {}
    assert detail.get("imageScanFindingsSummary", {}).get("findingSeverityCounts", {}) == {}


def test_scan_failed_rule_with_operation(ci_server, fixture_images, fixture_manifest):
    """A scan_failed rule that names StartImageScan must be rejected or fail the scan, never be a silent no-op."""
    ci_server.create_repository("scan-named")
    image = push_layout_image(ci_server, layout(fixture_images, fixture_manifest, "apps"), "scan-named", "latest")
    image_id = {"imageDigest": image["digest"]}

    response = post_fault(ci_server, {"operation": "StartImageScan", "repository": "scan-named",
                                      "fault": "scan_failed"})
    if response.status_code == 400:
        return
    assert response.status_code == 201, response.text
    ci_server.ecr.start_image_scan(repositoryName="scan-named", imageId=image_id)
    scanned = wait_for_scan(ci_server, "scan-named", image_id)

    assert scanned["imageScanStatus"]["status"] == "FAILED", fault_rules(ci_server)


# Fault injection: matching, probability, the rule list


def test_repository_wildcard_matching(ci_server):
    for name in ("team-a", "team-b/api", "other", "prod/app", "dev/app", "app", "app2"):
        ci_server.create_repository(name)
    add_fault(ci_server, operation="ListImages", repository="team-*", fault="throttle", count=100)
    add_fault(ci_server, operation="tags.list", repository="prod/*", fault="throttle", count=100)
    add_fault(ci_server, operation="*", repository="app", fault="server_error", count=100)

    def list_images(name):
        return ci_server.ecr_request("ListImages", {"repositoryName": name})

    assert json_error(list_images("team-a")) == (400, "ThrottlingException")
    assert json_error(list_images("team-b/api")) == (400, "ThrottlingException")
    assert list_images("other").status_code == 200
    assert ci_server.ecr_request("DescribeRepositories", {"repositoryNames": ["team-a"]}).status_code == 200
    assert v2_error(ci_server.v2("GET", "/prod/app/tags/list")) == (429, ["TOOMANYREQUESTS"])
    assert ci_server.v2("GET", "/dev/app/tags/list").status_code == 200
    assert json_error(ci_server.ecr_request("DescribeImages", {"repositoryName": "app"})) == (500, "ServerException")
    assert v2_error(ci_server.v2("GET", "/app/tags/list")) == (500, ["UNKNOWN"])
    assert list_images("app2").status_code == 200
    assert ci_server.v2("GET", "/app2/tags/list").status_code == 200
    assert [rule["fired"] for rule in fault_rules(ci_server)] == [2, 1, 2]


def test_put_image_rule_matches_put_image(ci_server):
    ci_server.create_repository("put")
    image = testimages.build_image("put-image-rule")
    for blob in image.blobs:
        ci_server.push_blob("put", blob.data)
    rule = add_fault(ci_server, operation="PutImage", repository="put", fault="throttle", count=1)

    with pytest.raises(ClientError) as excinfo:
        retrying_client(ci_server, 1).put_image(repositoryName="put", imageManifest=image.manifest.decode(),
                                                imageTag="v1")
    put = ci_server.ecr.put_image(repositoryName="put", imageManifest=image.manifest.decode(), imageTag="v1")

    assert client_error(excinfo)[:2] == (400, "ThrottlingException")
    assert put["image"]["imageId"]["imageDigest"] == image.digest
    assert rule_by_id(ci_server, rule["id"])["fired"] == 1


def test_probability_half_fires_bounded(ci_server):
    ci_server.create_repository("prob/app")
    rule = add_fault(ci_server, operation="tags.list", repository="prob/*", fault="throttle", probability=0.5)

    statuses = [ci_server.v2("GET", "/prob/app/tags/list").status_code for _ in range(PROBABILITY_REQUESTS)]

    throttled = statuses.count(429)
    print(f"probability 0.5: {throttled} of {PROBABILITY_REQUESTS} requests throttled")
    assert set(statuses) <= {200, 429}
    assert 50 <= throttled <= 150
    assert rule_by_id(ci_server, rule["id"])["fired"] == throttled


def test_probability_one_always_fires(ci_server):
    ci_server.create_repository("prob/app")
    rule = add_fault(ci_server, operation="tags.list", fault="server_error", probability=1)

    statuses = [ci_server.v2("GET", "/prob/app/tags/list").status_code for _ in range(20)]

    assert statuses == [500] * 20
    assert rule_by_id(ci_server, rule["id"])["fired"] == 20


INVALID_RULES = {
    "not JSON": b"throttle please",
    "empty body": b"",
    "JSON array": b"[{\"fault\": \"throttle\"}]",
    "no fault": {"operation": "PutImage", "count": 1},
    "unknown fault": {"operation": "PutImage", "fault": "explode"},
    "fault not a string": {"operation": "PutImage", "fault": 3},
    "count zero": {"fault": "throttle", "count": 0},
    "count negative": {"fault": "throttle", "count": -1},
    "count fractional": {"fault": "throttle", "count": 1.5},
    "count a string": {"fault": "throttle", "count": "2"},
    "probability zero": {"fault": "throttle", "probability": 0},
    "probability above one": {"fault": "throttle", "probability": 1.5},
    "probability a string": {"fault": "throttle", "probability": "0.5"},
    "delay negative": {"fault": "slow", "delay_ms": -1},
    "delay too long": {"fault": "slow", "delay_ms": 600001},
    "operation not a string": {"operation": 5, "fault": "throttle"},
    "repository not a string": {"operation": "PutImage", "repository": ["team-*"], "fault": "throttle"},
}


@pytest.mark.parametrize("body", INVALID_RULES.values(), ids=INVALID_RULES.keys())
def test_invalid_rule_is_rejected(ci_server, body):
    response = post_fault(ci_server, body)

    assert response.status_code == 400, response.text
    assert response.headers.get("Content-Type", "").startswith("application/json")
    error = response.json()
    assert isinstance(error.get("message"), str) and error["message"], error
    assert fault_rules(ci_server) == []


def test_rules_list_and_clear(ci_server):
    ci_server.create_repository("listed")
    first = add_fault(ci_server, operation="ListImages", repository="listed", fault="throttle", count=3)
    second = add_fault(ci_server, operation="upload.patch", repository="team-*", fault="unavailable",
                       probability=0.25)
    third = add_fault(ci_server, operation="DescribeRepositories", fault="slow", delay_ms=10, count=1)
    for _ in range(2):
        assert json_error(ci_server.ecr_request("ListImages", {"repositoryName": "listed"})) \
            == (400, "ThrottlingException")

    rules = fault_rules(ci_server)

    assert [rule["id"] for rule in rules] == [first["id"], second["id"], third["id"]]
    assert {key: rules[0][key] for key in ("operation", "repository", "fault", "fired", "remaining")} == {
        "operation": "ListImages", "repository": "listed", "fault": "throttle", "fired": 2, "remaining": 1}
    assert {key: rules[1][key] for key in ("operation", "repository", "fault", "fired", "probability")} == {
        "operation": "upload.patch", "repository": "team-*", "fault": "unavailable", "fired": 0,
        "probability": 0.25}
    assert rules[2]["delayMs"] == 10
    cleared = ci_server.http.delete(ci_server.url + "/_localecr/faults")
    assert cleared.status_code == 200, cleared.text
    assert fault_rules(ci_server) == []
    assert ci_server.ecr_request("ListImages", {"repositoryName": "listed"}).status_code == 200


def test_faults_spare_admin_endpoints(ci_server):
    add_fault(ci_server, operation="*", fault="server_error", count=100)
    add_fault(ci_server, operation="*", fault="throttle", probability=1)

    assert ci_server.http.get(ci_server.url + "/_localecr/health").status_code == 200
    assert ci_server.http.get(ci_server.url + "/_localecr/state").status_code == 200
    assert len(fault_rules(ci_server)) == 2
    assert json_error(ci_server.ecr_request("DescribeRepositories", {})) == (500, "ServerException")
    clear_faults(ci_server)
    assert ci_server.ecr_request("DescribeRepositories", {}).status_code == 200
