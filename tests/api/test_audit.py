"""The CloudTrail-format audit trail: records, queries, export, secrets and load.

Every ECR JSON call and every /v2/ request, under the ECR action it maps to,
writes one CloudTrail record to <data>/audit.db (ecr-semantics.md §6.2);
lifecycle actions write PolicyExecutionEvent records (§4.5). Tests read the
records three ways: `localecr audit query` (SQL over the `cloudtrail` table),
GET /_localecr/audit and `localecr audit export` (CloudTrail log files).

Records are written in batches about every 200 ms, so tests poll for them.
"""

import concurrent.futures
import datetime
import gzip
import json
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import testimages
from harness import (ACCOUNT_ID, AUDIT_TIMEOUT_SECONDS, EXAMPLE_IDENTITIES, HTTP_TIMEOUT_SECONDS, JSON_TARGET_PREFIX,
                     REGION, VULN_DB, Keys, LocalEcrServer, advance_clock, audit_cli, audit_query, audit_records,
                     client_error, decode_basic_token, denial_message, iam_ecr, iam_sts, load_identities,
                     push_layout_image, registry_password, repository_arn, server_now, sign_request, skopeo_push,
                     start_iam_server, user_arn, user_keys, v2_as, wait_for_scan, wait_until)

IAM_ACCOUNT = "111111111111"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ACCESS_LINE = re.compile(r' access id=(?P<id>\S+) client=\S+ method=(?P<method>\S+) path="(?P<path>[^"]*)" '
                         r'repository="(?P<repository>[^"]*)" principal="[^"]*" status=(?P<status>\d+)')
LOG_FILE_NAME = re.compile(r"^(?P<account>\d{12})_CloudTrail_(?P<region>[a-z0-9-]+)_"
                           r"(?P<stamp>\d{8}T\d{4}Z)_(?P<suffix>[A-Za-z0-9]{16})\.json\.gz$")

# The query the docs can show: ECR events by time, name and user, newest first. Athena's
# `useridentity.arn` is SQLite's json_extract(userIdentity, '$.arn'). eventTime has whole
# seconds, so rowid (the order records were written in) orders the events of one second.
ATHENA_STYLE_QUERY = """SELECT eventTime, eventName, json_extract(userIdentity, '$.arn') AS user
FROM cloudtrail
WHERE eventSource = 'ecr.amazonaws.com'
ORDER BY eventTime DESC, rowid DESC"""


@pytest.fixture
def iam_server(localecr_binary, tmp_path):
    """A server in IAM mode with fixtures/identities.example.json and an empty audit trail."""
    servers = []

    def start(*extra_args) -> LocalEcrServer:
        server = start_iam_server(localecr_binary, tmp_path / f"iam-{len(servers)}", EXAMPLE_IDENTITIES, *extra_args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def identities() -> dict:
    return load_identities()


def keys_of(identities, user) -> Keys:
    return user_keys(identities, IAM_ACCOUNT, user)


# Reading records


def records_where(server, sql_condition: str, expected_count: int = None, timeout=AUDIT_TIMEOUT_SECONDS) -> list:
    """Return the `record` JSON of every row matching `sql_condition`, oldest first, via `localecr audit query`.

    With `expected_count`, poll until there are that many rows, since records are written in batches.
    """
    sql = f"SELECT record FROM cloudtrail WHERE {sql_condition} ORDER BY eventEpoch, rowid"

    def read():
        rows = [json.loads(row["record"]) for row in audit_query(server, sql)]
        return rows if expected_count is None or len(rows) >= expected_count else None

    if expected_count is None:
        return read()
    return wait_until(read, timeout, 0.1, f"{expected_count} audit records where {sql_condition}")


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def access_lines(server, repository: str) -> list:
    """Return the access log lines of requests to `repository`, as dicts."""
    return [match.groupdict() for match in ACCESS_LINE.finditer(server.read_log())
            if match["repository"] == repository]


def v2_event_name(method: str, path: str) -> str:
    """Return the ECR action a /v2/ request is logged under (docs/iam.md)."""
    if "/blobs/uploads/" in path:
        return {"POST": "InitiateLayerUpload", "PUT": "CompleteLayerUpload"}.get(method, "UploadLayerPart")
    if "/blobs/" in path:
        return {"GET": "GetDownloadUrlForLayer", "HEAD": "BatchCheckLayerAvailability"}.get(method,
                                                                                            "BatchDeleteImage")
    if "/manifests/" in path:
        return {"PUT": "PutImage", "DELETE": "BatchDeleteImage"}.get(method, "BatchGetImage")
    if path.endswith("/tags/list"):
        return "ListImages"
    raise AssertionError(f"no ECR action for {method} {path}")


def assert_api_call_shape(record):
    """Check the fields every AwsApiCall record has, with CloudTrail's types (ecr-semantics.md §6.2)."""
    assert record["eventType"] == "AwsApiCall"
    assert record["eventVersion"].startswith("1.")
    assert EVENT_TIME.match(record["eventTime"]), record["eventTime"]
    assert UUID.match(record["eventID"])
    assert record["requestID"]
    assert record["awsRegion"] == REGION
    assert isinstance(record["readOnly"], bool)
    assert record["responseElements"] is None
    assert re.match(r"^\d{12}$", record["recipientAccountId"])
    assert record["userIdentity"]["type"] in ("IAMUser", "AssumedRole", "Root")


def assert_v2_origin(record):
    """Check that a /v2/ record looks like one from ECR's registry front end (known-differences.md)."""
    assert record["userIdentity"]["invokedBy"] == "AWS Internal"
    assert record["sourceIPAddress"] == "AWS Internal"
    assert record["userAgent"] == "AWS Internal"


def repository_resources(account, repository):
    return [{"ARN": repository_arn(account, repository), "accountId": account, "type": "AWS::ECR::Repository"}]


# Records of a denied push, a successful push, a scan and a lifecycle expiry


def test_denied_push_is_recorded(iam_server, identities, fixture_images, fixture_manifest):
    server = iam_server()
    alice, bob = keys_of(identities, "alice"), keys_of(identities, "bob")
    iam_ecr(server, alice).create_repository(repositoryName="team/denied")
    arn = repository_arn(IAM_ACCOUNT, "team/denied")
    bob_arn = user_arn(IAM_ACCOUNT, "bob")

    with pytest.raises(AssertionError, match="denied: User: arn:aws:iam::111111111111:user/bob"):
        skopeo_push(server, fixture_images / fixture_manifest["single"]["path"], "team/denied", "v1",
                    password=registry_password(server, bob))
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(server, bob).put_image(repositoryName="team/denied", imageManifest="{}", imageTag="v1")
    v2_denial = denial_message(bob_arn, "ecr:InitiateLayerUpload", arn, "no-identity-allow")
    json_denial = denial_message(bob_arn, "ecr:PutImage", arn, "no-identity-allow")
    denied = records_where(server, "errorCode IS NOT NULL", expected_count=2)

    assert client_error(excinfo) == (400, "AccessDeniedException", json_denial)
    assert [record["eventName"] for record in denied] == ["InitiateLayerUpload", "PutImage"]
    for record in denied:
        assert_api_call_shape(record)
        assert record["errorCode"] == "AccessDeniedException"
        assert record["eventSource"] == "ecr.amazonaws.com"
        assert record["readOnly"] is False
        assert record["recipientAccountId"] == IAM_ACCOUNT
        assert record["resources"] == repository_resources(IAM_ACCOUNT, "team/denied")
        identity = record["userIdentity"]
        assert (identity["type"], identity["arn"], identity["accountId"], identity["userName"]) == (
            "IAMUser", bob_arn, IAM_ACCOUNT, "bob")
    v2_record, json_record = denied
    assert v2_record["errorMessage"] == v2_denial
    assert_v2_origin(v2_record)
    assert v2_record["requestParameters"] == {"registryId": IAM_ACCOUNT, "repositoryName": "team/denied"}
    assert json_record["errorMessage"] == json_denial
    assert json_record["sourceIPAddress"] == "127.0.0.1"
    assert json_record["userAgent"].startswith("Boto3/")
    assert json_record["userIdentity"]["accessKeyId"] == bob.access_key_id
    assert json_record["requestParameters"]["repositoryName"] == "team/denied"
    # The same denials through the admin endpoint's filters.
    listed = audit_records(server, errorCode="AccessDeniedException", principal=bob_arn)
    assert sorted(record["eventID"] for record in listed) == sorted(record["eventID"] for record in denied)


def test_successful_push_is_recorded(iam_server, identities, fixture_images, fixture_manifest):
    server = iam_server()
    alice = keys_of(identities, "alice")
    iam_ecr(server, alice).create_repository(repositoryName="team/pushed")
    entry = fixture_manifest["single"]
    alice_arn = user_arn(IAM_ACCOUNT, "alice")

    skopeo_push(server, fixture_images / entry["path"], "team/pushed", "v1", password=registry_password(server, alice))

    # Access lines are written as responses complete, and records in batches, so wait until both cover the same requests.
    def lines_and_records():
        lines = [line for line in access_lines(server, "team/pushed") if line["path"].startswith("/v2/")]
        recorded = records_where(server, "repositoryName = 'team/pushed' AND eventName != 'CreateRepository'")
        if lines and {line["id"] for line in lines} == {record["requestID"] for record in recorded}:
            return lines, recorded
        return None

    requests_seen, records = wait_until(lines_and_records, AUDIT_TIMEOUT_SECONDS, 0.1, "an audit record for every access line")

    by_request = {record["requestID"]: record for record in records}
    assert len(records) == len(requests_seen) == len(by_request)
    for line in requests_seen:
        record = by_request[line["id"]]
        assert record["eventName"] == v2_event_name(line["method"], line["path"]), line
        assert_api_call_shape(record)
        assert_v2_origin(record)
        assert (record["userIdentity"]["arn"], record["userIdentity"]["userName"]) == (alice_arn, "alice")
        assert record["resources"] == repository_resources(IAM_ACCOUNT, "team/pushed")
        blob_existence_check = line["method"] == "HEAD" and line["status"] == "404"
        failed = int(line["status"]) >= 400 and not blob_existence_check
        assert ("errorCode" in record) == failed, (line, record)
    names = [record["eventName"] for record in records]
    for action in ("InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload", "PutImage"):
        assert action in names
    (put_image,) = [record for record in records if record["eventName"] == "PutImage"]
    assert put_image["readOnly"] is False
    manifest = (fixture_images / entry["path"] / "blobs" / "sha256" / entry["digest"].split(":")[1]).read_text()
    assert put_image["requestParameters"] == {"registryId": IAM_ACCOUNT, "repositoryName": "team/pushed",
                                              "imageTag": "v1", "imageManifest": manifest}


def test_scan_is_recorded(server_factory, fixture_images, fixture_manifest):
    server = server_factory("--vuln-db", str(VULN_DB))
    server.create_repository("scanned")
    digest = push_layout_image(server, fixture_images / fixture_manifest["apps"]["path"], "scanned", "v1")["digest"]

    server.ecr.start_image_scan(repositoryName="scanned", imageId={"imageTag": "v1"})
    wait_for_scan(server, "scanned", {"imageDigest": digest})
    (start,) = records_where(server, "eventName = 'StartImageScan'", expected_count=1)
    describes = records_where(server, "eventName = 'DescribeImageScanFindings'", expected_count=1)

    assert_api_call_shape(start)
    assert start["eventSource"] == "ecr.amazonaws.com"
    assert start["readOnly"] is False
    assert "errorCode" not in start
    assert start["requestParameters"] == {"repositoryName": "scanned", "imageId": {"imageTag": "v1"}}
    assert start["resources"] == repository_resources(ACCOUNT_ID, "scanned")
    assert start["userIdentity"]["type"] == "Root"
    assert start["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:root"
    assert start["sourceIPAddress"] == "127.0.0.1"
    assert start["userAgent"].startswith("Boto3/")
    assert all(record["readOnly"] is True for record in describes)
    assert describes[0]["requestParameters"] == {"repositoryName": "scanned", "imageId": {"imageDigest": digest}}


def lifecycle_policy(*rules) -> str:
    return json.dumps({"rules": list(rules)})


EXPIRY_RULES = [
    {"rulePriority": 1, "description": "keep the newest release",
     "selection": {"tagStatus": "tagged", "tagPrefixList": ["release"], "countType": "imageCountMoreThan",
                   "countNumber": 1}, "action": {"type": "expire"}},
    {"rulePriority": 2, "description": "keep the newest untagged image",
     "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
     "action": {"type": "expire"}},
]


@pytest.fixture
def expired_by_lifecycle(server_factory):
    """Push seven release images and six untagged ones, then run a policy that expires eleven of them.

    Returns (server, {digest: (tags, pushedAt in ms, rule priority)} of the expired images).
    """
    server = server_factory("--lifecycle-interval", "0")
    server.create_repository("expiring")
    pushed = {}
    for index in range(7):
        image = testimages.build_image(f"audit-lifecycle-release-{index}")
        server.push_image("expiring", image, tag=f"release-{index}")
        pushed[image.digest] = ([f"release-{index}"], 1)
    for index in range(6):
        image = testimages.build_image(f"audit-lifecycle-untagged-{index}")
        server.push_image("expiring", image)
        pushed[image.digest] = ([], 2)
    details = server.ecr.describe_images(repositoryName="expiring")["imageDetails"]
    pushed_at = {detail["imageDigest"]: detail["imagePushedAt"].timestamp() * 1000 for detail in details}
    server.ecr.put_lifecycle_policy(repositoryName="expiring", lifecyclePolicyText=lifecycle_policy(*EXPIRY_RULES))
    response = server.http.post(server.url + "/_localecr/lifecycle/run", json={"repository": "expiring"}, timeout=60)
    assert response.status_code == 200, response.text
    expired = {entry["imageDigest"] for entry in response.json()["expired"]}
    assert len(expired) == 11, response.text
    return server, {digest: (tags, pushed_at[digest], priority) for digest, (tags, priority) in pushed.items()
                    if digest in expired}


def test_lifecycle_expiry_is_recorded(expired_by_lifecycle):
    server, expired = expired_by_lifecycle

    records = records_where(server, "eventName = 'PolicyExecutionEvent'", expected_count=2)

    # At most 10 images per record: 11 images make two records.
    assert sorted(len(record["serviceEventDetails"]["lifecycleEventImageActions"]) for record in records) == [1, 10]
    actions = [action for record in records for action in record["serviceEventDetails"]["lifecycleEventImageActions"]]
    got = {action["lifecycleEventImage"]["digest"]: action for action in actions}
    assert sorted(got) == sorted(expired)
    for digest, (tags, pushed_at, priority) in expired.items():
        image = got[digest]["lifecycleEventImage"]
        assert (image["tagList"], got[digest]["rulePriority"]) == (tags, priority)
        assert image["pushedAt"] == pytest.approx(pushed_at, abs=1)  # epoch milliseconds
    for action in actions:
        image = action["lifecycleEventImage"]
        assert image["tagStatus"] == ("Tagged" if image["tagList"] else "Untagged")
    for record in records:
        assert record["eventType"] == "AwsServiceEvent"
        assert record["eventSource"] == "ecr.amazonaws.com"
        assert record["readOnly"] is True
        assert record["userIdentity"] == {"accountId": ACCOUNT_ID, "invokedBy": "AWS Internal"}
        assert (record["sourceIPAddress"], record["userAgent"]) == ("AWS Internal", "AWS Internal")
        assert record["requestParameters"] is None
        assert record["responseElements"] is None
        assert record["resources"] == repository_resources(ACCOUNT_ID, "expiring")
        assert record["recipientAccountId"] == ACCOUNT_ID
        assert EVENT_TIME.match(record["eventTime"])
        assert UUID.match(record["eventID"])
        assert record["serviceEventDetails"]["repositoryName"] == "expiring"


def test_lifecycle_record_policy_details(expired_by_lifecycle):
    """lifecycleEventPolicy echoes the rules in prose form, with policyVersion and policyId (§4.5)."""
    server, _ = expired_by_lifecycle

    record = records_where(server, "eventName = 'PolicyExecutionEvent'", expected_count=2)[0]

    policy = record["serviceEventDetails"]["lifecycleEventPolicy"]
    assert (policy["lifecycleEventRules"], "policyId" in policy, "policyVersion" in policy) == ([
        {"rulePriority": 1, "description": "keep the newest release",
         "lifecycleEventSelection": {"tagStatus": "Tagged", "tagPrefixList": ["release"],
                                     "countType": "Image count more than", "countNumber": 1},
         "action": "expire"},
        {"rulePriority": 2, "description": "keep the newest untagged image",
         "lifecycleEventSelection": {"tagStatus": "Untagged", "tagPrefixList": [],
                                     "countType": "Image count more than", "countNumber": 1},
         "action": "expire"},
    ], True, True)
    assert EVENT_TIME.match(policy["lastEvaluatedAt"])


def test_records_kept_at_shutdown(server_factory, seed):
    server = server_factory()
    server.create_repository("shutdown")
    for index in range(20):
        server.ecr.describe_repositories(repositoryNames=["shutdown"])

    assert server.stop() == 0
    rows = audit_query(server, "SELECT count(*) AS n FROM cloudtrail WHERE eventName = 'DescribeRepositories'")

    assert rows == [{"n": 20}]


# Queries


def test_athena_style_query(iam_server, identities):
    """Events by time, name and user for eventSource ecr.amazonaws.com, newest first.

    The first calls happen a minute apart on the server clock. The last three come within a
    second or so, where the order they were written in decides.
    """
    server = iam_server()
    users = {name: keys_of(identities, name) for name in ("alice", "bob", "carol")}
    calls = [
        ("alice", "CreateRepository", lambda ecr: ecr.create_repository(repositoryName="team/athena")),
        ("bob", "DescribeRepositories", lambda ecr: ecr.describe_repositories()),
        ("alice", "GetAuthorizationToken", lambda ecr: ecr.get_authorization_token()),
        ("carol", "ListImages", lambda ecr: ecr.list_images(repositoryName="team/athena")),
        ("bob", "PutImage", lambda ecr: ecr.put_image(repositoryName="team/athena", imageManifest="{}")),
    ]
    quick_calls = [
        ("carol", "DescribeImages", lambda ecr: ecr.describe_images(repositoryName="team/athena")),
        ("bob", "GetAuthorizationToken", lambda ecr: ecr.get_authorization_token()),
        ("alice", "DescribeRegistry", lambda ecr: ecr.describe_registry()),
    ]
    clients = {name: iam_ecr(server, keys) for name, keys in users.items()}
    for user, _, call in calls:
        try:
            call(clients[user])
        except ClientError:
            pass
        iam_sts(server, users["alice"]).get_caller_identity()  # an STS record, which the query leaves out
        advance_clock(server, 61)
    for user, _, call in quick_calls:
        try:
            call(clients[user])
        except ClientError:
            pass
    records_where(server, "1", expected_count=2 * len(calls) + len(quick_calls))
    expected = [(name, user_arn(IAM_ACCOUNT, user)) for user, name, _ in calls + quick_calls]

    rows = audit_query(server, ATHENA_STYLE_QUERY)
    table = audit_cli(server, "query", ATHENA_STYLE_QUERY)

    assert [(row["eventName"], row["user"]) for row in rows] == expected[::-1]
    times = [row["eventTime"] for row in rows]
    assert times == sorted(times, reverse=True)
    assert len(set(times[len(quick_calls) - 1:])) == len(calls) + 1
    assert all(EVENT_TIME.match(value) for value in times)
    lines = table.stdout.splitlines()
    assert table.returncode == 0, table.stderr
    assert lines[0].split("\t") == ["eventTime", "eventName", "user"]
    assert [line.split("\t") for line in lines[1:]] == [[row["eventTime"], row["eventName"], row["user"]]
                                                          for row in rows]


def test_cloudtrail_table_columns(server_factory):
    server = server_factory()
    server.create_repository("columns")
    records_where(server, "eventName = 'CreateRepository'", expected_count=1)

    (row,) = audit_query(server, "SELECT * FROM cloudtrail WHERE eventName = 'CreateRepository'")

    assert list(row) == ["eventID", "eventVersion", "eventTime", "eventEpoch", "eventSource", "eventName",
                         "awsRegion", "sourceIPAddress", "userAgent", "userIdentity", "requestParameters",
                         "responseElements", "serviceEventDetails", "requestID", "eventType", "recipientAccountId",
                         "readOnly", "resources", "errorCode", "errorMessage", "principalArn", "principalType",
                         "principalAccount", "accessKeyId", "userName", "repositoryName", "record"]
    record = json.loads(row["record"])
    assert json.loads(row["userIdentity"]) == record["userIdentity"]
    assert json.loads(row["requestParameters"]) == record["requestParameters"] == {"repositoryName": "columns"}
    assert (row["principalArn"], row["principalAccount"], row["repositoryName"]) == (
        f"arn:aws:iam::{ACCOUNT_ID}:root", ACCOUNT_ID, "columns")
    assert row["eventEpoch"] == pytest.approx(
        datetime.datetime.strptime(row["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp(), abs=1)


def test_audit_query_is_read_only(server_factory):
    server = server_factory()
    server.create_repository("read-only")
    records_where(server, "eventName = 'CreateRepository'", expected_count=1)

    delete = audit_cli(server, "query", "DELETE FROM cloudtrail")
    drop = audit_cli(server, "query", "DROP TABLE cloudtrail")
    broken = audit_cli(server, "query", "SELEC 1")
    missing = audit_cli(server, "query", "SELECT 1", data_dir=server.work_dir / "no-such-dir")

    assert (delete.returncode, drop.returncode, broken.returncode) == (1, 1, 1)
    assert missing.returncode == 2
    assert audit_query(server, "SELECT count(*) AS n FROM cloudtrail WHERE eventName = 'CreateRepository'") == [
        {"n": 1}]


def test_audit_endpoint_filters(iam_server, identities):
    server = iam_server()
    alice, bob = keys_of(identities, "alice"), keys_of(identities, "bob")
    iam_ecr(server, alice).create_repository(repositoryName="team/filters")
    with pytest.raises(ClientError):
        iam_ecr(server, bob).delete_repository(repositoryName="team/filters")
    middle = server_now(server)
    advance_clock(server, 120)
    iam_ecr(server, bob).describe_repositories(repositoryNames=["team/filters"])
    records_where(server, "1", expected_count=3)

    def stamp(moment):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    everything = audit_records(server)
    by_name = audit_records(server, eventName="DeleteRepository")
    by_principal = audit_records(server, principal=user_arn(IAM_ACCOUNT, "bob"))
    by_error = audit_records(server, errorCode="AccessDeniedException")
    early = audit_records(server, until=stamp(middle + datetime.timedelta(seconds=60)))
    late = audit_records(server, since=stamp(middle + datetime.timedelta(seconds=60)))
    limited = audit_records(server, limit=1)
    bad = server.http.get(server.url + "/_localecr/audit", params={"since": "yesterday"}, timeout=HTTP_TIMEOUT_SECONDS)

    assert [record["eventName"] for record in everything] == ["DescribeRepositories", "DeleteRepository",
                                                              "CreateRepository"]
    assert [record["eventName"] for record in by_name] == ["DeleteRepository"]
    assert [record["eventName"] for record in by_principal] == ["DescribeRepositories", "DeleteRepository"]
    assert [record["eventName"] for record in by_error] == ["DeleteRepository"]
    assert [record["eventName"] for record in early] == ["DeleteRepository", "CreateRepository"]
    assert [record["eventName"] for record in late] == ["DescribeRepositories"]
    assert [record["eventName"] for record in limited] == ["DescribeRepositories"]
    assert bad.status_code == 400


# Export as CloudTrail log files


def exported_files(out: Path) -> dict:
    """Return {path relative to `out`: parsed {"Records": [...]}} for every exported file."""
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            assert data[:2] == b"\x1f\x8b", f"{path} is not gzip"
            files[str(path.relative_to(out))] = json.loads(gzip.decompress(data))
    return files


def assert_cloudtrail_file(relative: str, document: dict):
    """Check a CloudTrail log file: its folder, its name, and that its records belong in it."""
    parts = relative.split("/")
    assert len(parts) == 8, relative
    assert (parts[0], parts[2]) == ("AWSLogs", "CloudTrail"), relative
    account, region, year, month, day, name = parts[1], parts[3], parts[4], parts[5], parts[6], parts[7]
    match = LOG_FILE_NAME.match(name)
    assert match, name
    assert (match["account"], match["region"]) == (account, region)
    assert match["stamp"][:8] == year + month + day
    assert list(document) == ["Records"], relative
    assert document["Records"], relative
    hour = datetime.datetime.strptime(match["stamp"], "%Y%m%dT%H%MZ").replace(tzinfo=datetime.timezone.utc)
    for record in document["Records"]:
        moment = datetime.datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        assert hour <= moment < hour + datetime.timedelta(hours=1), (name, record["eventTime"])
        assert (record["recipientAccountId"], record["awsRegion"]) == (account, region)
        assert record["eventType"] in ("AwsApiCall", "AwsServiceEvent")
        for field in ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                      "sourceIPAddress", "eventID"):
            assert field in record, (field, record)


def test_export_cloudtrail_log_files(server_factory, tmp_path):
    server = server_factory("--clock", "2024-03-09T23:30:00Z")
    west = server.boto3_client(region="us-west-2")
    server.create_repository("export-east")
    server.ecr.describe_repositories()
    advance_clock(server, 3600)
    server.ecr.describe_repositories()
    west.create_repository(repositoryName="export-west")
    total = len(records_where(server, "1", expected_count=4))
    out = tmp_path / "trail"

    result = audit_cli(server, "export", "--out", str(out))
    files = exported_files(out)

    assert result.returncode == 0, result.stderr
    assert sorted(re.sub(r"_[A-Za-z0-9]{16}\.json\.gz$", "", name) for name in files) == [
        "AWSLogs/000000000000/CloudTrail/us-east-1/2024/03/09/000000000000_CloudTrail_us-east-1_20240309T2300Z",
        "AWSLogs/000000000000/CloudTrail/us-east-1/2024/03/10/000000000000_CloudTrail_us-east-1_20240310T0000Z",
        "AWSLogs/000000000000/CloudTrail/us-west-2/2024/03/10/000000000000_CloudTrail_us-west-2_20240310T0000Z",
    ]
    for relative, document in files.items():
        assert_cloudtrail_file(relative, document)
        assert str(out / relative) in result.stdout
    names = {relative.split("/")[3] + "/" + relative.split("/")[6]: sorted(r["eventName"] for r in doc["Records"])
             for relative, doc in files.items()}
    assert names == {"us-east-1/09": ["CreateRepository", "DescribeRepositories"],
                     "us-east-1/10": ["DescribeRepositories"], "us-west-2/10": ["CreateRepository"]}
    exported_ids = [record["eventID"] for document in files.values() for record in document["Records"]]
    assert len(exported_ids) == len(set(exported_ids)) == total
    assert set(exported_ids) == {row["eventID"] for row in audit_query(server, "SELECT eventID FROM cloudtrail")}


def test_export_since(server_factory, tmp_path):
    server = server_factory("--clock", "2024-03-09T23:30:00Z")
    server.create_repository("since-old")
    advance_clock(server, 3600)
    server.create_repository("since-new")
    records_where(server, "1", expected_count=2)
    out = tmp_path / "since"

    result = audit_cli(server, "export", "--out", str(out), "--since", "2024-03-10T00:00:00Z")
    files = exported_files(out)

    assert result.returncode == 0, result.stderr
    assert [path.split("/")[4:7] for path in files] == [["2024", "03", "10"]]
    (document,) = files.values()
    assert [record["requestParameters"]["repositoryName"] for record in document["Records"]] == ["since-new"]


def test_export_includes_service_events(expired_by_lifecycle, tmp_path):
    server, _ = expired_by_lifecycle
    records_where(server, "eventName = 'PolicyExecutionEvent'", expected_count=2)

    result = audit_cli(server, "export", "--out", str(tmp_path / "lifecycle"))
    files = exported_files(tmp_path / "lifecycle")

    assert result.returncode == 0, result.stderr
    records = [record for document in files.values() for record in document["Records"]]
    for relative, document in files.items():
        assert_cloudtrail_file(relative, document)
    assert sum(record["eventName"] == "PolicyExecutionEvent" for record in records) == 2


# Secrets


class SignatureRecorder:
    """Recorder of the Authorization header of every request a boto3 client sends."""

    def __init__(self):
        self.headers = []

    def attach(self, client):
        client.meta.events.register("before-send", self._record)
        return client

    def _record(self, request, **_):
        value = request.headers.get("Authorization")
        if value:
            self.headers.append(value.decode() if isinstance(value, bytes) else value)

    def signatures(self) -> list:
        return [re.search(r"Signature=([0-9a-f]{64})", header).group(1) for header in self.headers]


def file_bytes(paths) -> dict:
    return {path: path.read_bytes() for path in paths if path.is_file()}


def assert_no_secret(files: dict, secrets: dict):
    for path, data in files.items():
        for label, secret in secrets.items():
            assert secret.encode() not in data, f"{label} ({secret[:12]}...) is in {path}"


def test_no_secrets_in_audit_trail(iam_server, identities, fixture_images, fixture_manifest, tmp_path):
    server = iam_server()
    recorder = SignatureRecorder()
    alice, dave = keys_of(identities, "alice"), keys_of(identities, "dave")
    alice_ecr = recorder.attach(iam_ecr(server, alice))
    alice_ecr.create_repository(repositoryName="team/secrets")
    token = alice_ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = decode_basic_token(token)[1]
    skopeo_push(server, fixture_images / fixture_manifest["single"]["path"], "team/secrets", "v1", password=password)
    assert v2_as(server, password, "GET", "/team/secrets/tags/list").status_code == 200
    layer = fixture_manifest["single"]["layers"][0]["digest"]
    download = alice_ecr.get_download_url_for_layer(repositoryName="team/secrets", layerDigest=layer)["downloadUrl"]
    assert server.http.get(download, timeout=HTTP_TIMEOUT_SECONDS).status_code == 200
    download_token = download.rsplit("/", 1)[1]
    with pytest.raises(ClientError):  # dave has no policy: a denied call with a session token
        recorder.attach(iam_ecr(server, dave)).describe_repositories()
    assumed = recorder.attach(iam_sts(server, alice)).assume_role(
        RoleArn=f"arn:aws:iam::{IAM_ACCOUNT}:role/ci-pusher", RoleSessionName="audit-test")["Credentials"]
    role = Keys(assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"])
    role_token = recorder.attach(iam_ecr(server, role)).get_authorization_token()[
        "authorizationData"][0]["authorizationToken"]
    # A request signed with a wrong secret: neither its signature nor the right one may be logged.
    body = json.dumps({}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": JSON_TARGET_PREFIX + "DescribeRegistry"}
    moment = datetime.datetime.now(datetime.timezone.utc)
    wrong = sign_request(alice.with_changes(secret_access_key="wrong-secret-key-0000000000000000000000000"),
                         "POST", server.url + "/", body, headers, when=moment)
    right = sign_request(alice, "POST", server.url + "/", body, headers, when=moment)
    rejected = server.http.post(server.url + "/", data=body, headers=wrong, timeout=HTTP_TIMEOUT_SECONDS)
    assert rejected.status_code == 400
    assert rejected.json()["__type"] == "InvalidSignatureException"
    extra = {"wrong signature": re.search(r"Signature=(\w+)", wrong["Authorization"]).group(1),
             "expected signature": re.search(r"Signature=(\w+)", right["Authorization"]).group(1)}
    total = len(audit_records(server, limit=10000))
    out = tmp_path / "export"
    assert audit_cli(server, "export", "--out", str(out)).returncode == 0

    secrets = {"alice's secret key": alice.secret_access_key, "dave's secret key": dave.secret_access_key,
               "dave's session token": dave.session_token, "role secret key": role.secret_access_key,
               "role session token": role.session_token, "registry token": token, "registry password": password,
               "role registry token": role_token, "role registry password": decode_basic_token(role_token)[1],
               "download URL token": download_token, **extra}
    secrets.update({f"signature {index}": value for index, value in enumerate(recorder.signatures())})
    assert len(recorder.signatures()) >= 5
    audit_files = sorted(server.data_dir.glob("audit.db*"))
    exports = {path: gzip.decompress(path.read_bytes()) for path in out.rglob("*.json.gz")}
    live = file_bytes(audit_files)
    # The access key ids are in the trail, so the search does find strings that are there.
    assert any(alice.access_key_id.encode() in data for data in live.values())
    assert any(role.access_key_id.encode() in data for data in exports.values())
    assert total > 10
    assert_no_secret(live, secrets)
    assert_no_secret(exports, secrets)
    server.stop()
    assert_no_secret(file_bytes(audit_files), secrets)


def test_no_secrets_in_server_log(server_factory, seed):
    """docs/configuration.md: "Secrets, tokens and signatures are never logged"."""
    server = server_factory()
    recorder = SignatureRecorder()
    ecr = recorder.attach(server.boto3_client())
    ecr.create_repository(repositoryName="log-secrets")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = decode_basic_token(token)[1]
    image = testimages.build_image(seed)
    server.push_image("log-secrets", image, tag="v1")
    download = ecr.get_download_url_for_layer(repositoryName="log-secrets",
                                              layerDigest=image.layers[0].digest)["downloadUrl"]
    assert server.http.get(download, timeout=HTTP_TIMEOUT_SECONDS).status_code == 200

    secrets = {"registry token": token, "registry password": password,
               "download URL token": download.rsplit("/", 1)[1]}
    secrets.update({f"signature {index}": value for index, value in enumerate(recorder.signatures())})
    assert_no_secret({server.log_path: server.log_path.read_bytes()}, secrets)


# Load


def test_upload_burst_loses_no_record(server_factory):
    """8 threads upload 30 blobs each (POST, PATCH, PUT) and check each blob over the JSON API."""
    server = server_factory()
    server.create_repository("burst")
    threads, uploads = 8, 30
    clients = [server.thread_client() for _ in range(threads)]
    json_clients = [server.boto3_client() for _ in range(threads)]
    sent = {"InitiateLayerUpload": 0, "UploadLayerPart": 0, "CompleteLayerUpload": 0,
            "BatchCheckLayerAvailability": 0}
    lock = threading.Lock()

    def work(index):
        client, ecr = clients[index], json_clients[index]
        for number in range(uploads):
            data = f"burst blob {index}-{number}\n".encode() * 64
            digest = testimages.sha256_digest(data)
            started = client.v2("POST", "/burst/blobs/uploads/")
            assert started.status_code == 202, started.text
            patched = client.v2("PATCH", client.absolute(started.headers["Location"]), data=data,
                                headers={"Content-Type": "application/octet-stream"})
            assert patched.status_code == 202, patched.text
            finished = client.v2("PUT", client.absolute(patched.headers["Location"]), params={"digest": digest})
            assert finished.status_code == 201, finished.text
            checked = ecr.batch_check_layer_availability(repositoryName="burst", layerDigests=[digest])
            assert checked["layers"][0]["layerAvailability"] == "AVAILABLE"
            with lock:
                for name in sent:
                    sent[name] += 1

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(work, index) for index in range(threads)]:
            future.result()
    expected_total = sum(sent.values())
    assert expected_total == threads * uploads * 4

    records = records_where(server, "repositoryName = 'burst' AND eventName != 'CreateRepository'",
                            expected_count=expected_total, timeout=30)
    counts = {name: sum(record["eventName"] == name for record in records) for name in sent}
    logged = {line["id"] for line in access_lines(server, "burst")
              if line["path"].startswith("/v2/") or line["path"] == "BatchCheckLayerAvailability"}

    assert counts == sent
    assert len(records) == expected_total
    assert {record["requestID"] for record in records} == logged
    assert len({record["eventID"] for record in records}) == expected_total
    assert not [record for record in records if "errorCode" in record]


# Opening the trail


def test_first_request_after_start_recorded(localecr_binary, tmp_path):
    """The writer may still be opening audit.db when the first request completes, so its record waits in the queue."""
    server = LocalEcrServer(localecr_binary, tmp_path)
    server.start()
    try:
        server.ecr.create_repository(repositoryName="first")

        records = audit_records(server, eventName="CreateRepository")
    finally:
        server.stop()

    assert len(records) == 1
    assert records[0]["requestParameters"]["repositoryName"] == "first"


def test_unopenable_audit_db_disables_trail(localecr_binary, tmp_path):
    server = LocalEcrServer(localecr_binary, tmp_path)
    # A folder where the database file goes cannot be opened as a database.
    (server.data_dir / "audit.db").mkdir()
    server.start()
    try:
        server.ecr.create_repository(repositoryName="unaudited")
        listed = server.http.get(server.url + "/_localecr/audit", timeout=HTTP_TIMEOUT_SECONDS)
        described = server.ecr.describe_repositories(repositoryNames=["unaudited"])["repositories"]
        log = server.wait_for_log("audit trail disabled")
    finally:
        server.stop()

    assert listed.status_code == 503, listed.text
    assert "the audit trail is disabled" in listed.text
    assert [repository["repositoryName"] for repository in described] == ["unaudited"]
    assert f"audit trail disabled: cannot open {server.data_dir}/audit.db" in log


def test_audit_db_locked_at_start_waits(localecr_binary, tmp_path):
    """Another process holding audit.db for a moment at start-up delays the trail; it does not disable it."""
    server = LocalEcrServer(localecr_binary, tmp_path)
    holder = sqlite3.connect(server.data_dir / "audit.db", isolation_level=None)
    holder.execute("CREATE TABLE held (value)")
    holder.execute("BEGIN EXCLUSIVE")
    server.start()
    try:
        time.sleep(1)
        holder.execute("ROLLBACK")
        holder.close()
        server.ecr.create_repository(repositoryName="after-lock")
        records = audit_records(server, eventName="CreateRepository")
        log = server.read_log()
    finally:
        server.stop()

    assert [record["requestParameters"]["repositoryName"] for record in records] == ["after-lock"]
    assert "audit trail disabled" not in log
