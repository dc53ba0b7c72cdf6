"""`localecr policy validate`, `localecr policy simulate` and POST /_localecr/policy/simulate.

Besides the commands' own output, the simulator's decision and message are
compared with the server's response to the same request made by a real
client in IAM mode.
"""

import json
import subprocess

import pytest
from botocore.exceptions import ClientError

from harness import (EXAMPLE_IDENTITIES, account_of, denial_message, iam_ecr, load_identities, policy_document,
                     repository_arn, start_iam_server, user_arn, user_keys, write_identities)

OWNER = "111111111111"
PARTNER = "222222222222"
LOOPBACK = {"aws:SourceIp": "127.0.0.1"}

# reader's identity policy: read everything, but DescribeImages only from 10.0.0.0/8.
READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Resource": "*",
         "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:DescribeImages", "ecr:ListImages"]},
        {"Sid": "DescribeFromOffice", "Effect": "Deny", "Action": "ecr:DescribeImages", "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    ],
}


def cli_identities() -> dict:
    document = load_identities(EXAMPLE_IDENTITIES)
    account_of(document, OWNER)["users"].append({
        "name": "reader",
        "policies": [{"name": "read", "document": READER_POLICY}],
        "access_keys": [{"access_key_id": "AKIAREADER0000000001",
                         "secret_access_key": "reader-secret-key-0000000000000000000000"}],
    })
    return document


IDENTITIES = cli_identities()
ALICE = user_keys(IDENTITIES, OWNER, "alice")
BOB = user_keys(IDENTITIES, OWNER, "bob")
CAROL = user_keys(IDENTITIES, OWNER, "carol")
READER = user_keys(IDENTITIES, OWNER, "reader")
ERIN = user_keys(IDENTITIES, PARTNER, "erin")


@pytest.fixture(scope="module")
def identities_file(tmp_path_factory):
    return write_identities(tmp_path_factory.mktemp("identities") / "identities.json", IDENTITIES)


@pytest.fixture(scope="module")
def iam(localecr_binary, tmp_path_factory, identities_file):
    server = start_iam_server(localecr_binary, tmp_path_factory.mktemp("localecr-simulate"), identities_file)
    yield server
    server.stop()


def localecr(binary, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), "policy", *args], capture_output=True, text=True, timeout=60)


def write_policy(directory, name: str, document) -> str:
    path = directory / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def simulate_cli(binary, principal: str, action: str, resource: str, *sources, context=None, output_json=True):
    args = ["simulate", "--principal", principal, "--action", action, "--resource", resource, *sources]
    for key, value in (context or {}).items():
        args += ["--context", f"{key}={value}"]
    if output_json:
        args += ["--output", "json"]
    return localecr(binary, *args)


def simulate_admin(server, principal: str, action: str, resource: str, context=None):
    body = {"principal": principal, "action": action, "resource": resource, "context": context or {}}
    response = server.http.post(server.url + "/_localecr/policy/simulate", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


# policy validate


def test_validate_valid_identity_policy(localecr_binary, tmp_path):
    path = write_policy(tmp_path, "read.json", READER_POLICY)

    result = localecr(localecr_binary, "validate", path)

    assert (result.returncode, result.stdout) == (0, f"{path}: valid\n")


def test_validate_valid_resource_and_trust_policies(localecr_binary, tmp_path):
    resource = write_policy(tmp_path, "resource.json", policy_document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, "Action": "ecr:BatchGetImage"}))
    trust = write_policy(tmp_path, "trust.json", policy_document(
        {"Effect": "Allow", "Principal": {"AWS": PARTNER}, "Action": "sts:AssumeRole"}))

    resource_result = localecr(localecr_binary, "validate", "--kind", "resource", resource)
    trust_result = localecr(localecr_binary, "validate", "--kind", "trust", trust)

    assert (resource_result.returncode, resource_result.stdout) == (0, f"{resource}: valid\n")
    assert (trust_result.returncode, trust_result.stdout) == (0, f"{trust}: valid\n")


def test_validate_reports_location_of_error(localecr_binary, tmp_path):
    path = write_policy(tmp_path, "bad.json", policy_document(
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"},
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*",
         "Condition": {"StringEqualz": {"aws:username": "bob"}}}))

    result = localecr(localecr_binary, "validate", path)

    assert result.returncode == 1
    assert "valid" not in result.stdout
    assert path in result.stderr
    assert "Statement[1]" in result.stderr
    assert "StringEqualz" in result.stderr


def test_validate_identity_policy_as_resource_policy(localecr_binary, tmp_path):
    # A resource policy needs a Principal; an identity policy has none.
    path = write_policy(tmp_path, "read.json", READER_POLICY)

    result = localecr(localecr_binary, "validate", "--kind", "resource", path)

    assert result.returncode == 1
    assert "Statement[0]" in result.stderr
    assert "Principal" in result.stderr


def test_validate_resource_policy_as_identity_policy(localecr_binary, tmp_path):
    path = write_policy(tmp_path, "resource.json", policy_document(
        {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}))

    result = localecr(localecr_binary, "validate", "--kind", "identity", path)

    assert result.returncode == 1
    assert path in result.stderr
    assert "Statement[0]" in result.stderr


@pytest.mark.parametrize("text", ["{not json", "[]", json.dumps({"Version": "2012-10-17"})],
                         ids=["not-json", "array", "no-statement"])
def test_validate_malformed(localecr_binary, tmp_path, text):
    path = write_policy(tmp_path, "bad.json", text)

    result = localecr(localecr_binary, "validate", path)

    assert result.returncode == 1
    assert path in result.stderr


def test_validate_missing_file(localecr_binary, tmp_path):
    result = localecr(localecr_binary, "validate", str(tmp_path / "absent.json"))

    assert result.returncode == 1
    assert str(tmp_path / "absent.json") in result.stderr


@pytest.mark.parametrize("args", [[], ["--kind", "bucket", "x.json"], ["a.json", "b.json"]],
                         ids=["no-file", "bad-kind", "two-files"])
def test_validate_usage_errors(localecr_binary, args):
    result = localecr(localecr_binary, "validate", *args)

    assert result.returncode == 2
    assert "usage:" in result.stderr


# policy simulate, offline


def test_simulate_allowed_text_output(localecr_binary, tmp_path):
    identity = write_policy(tmp_path, "read.json", READER_POLICY)
    resource = repository_arn(OWNER, "app")

    result = simulate_cli(localecr_binary, user_arn(OWNER, "reader"), "ecr:BatchGetImage", resource,
                          "--identity-policy", identity, output_json=False)

    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "decision: allowed"
    assert lines[1].startswith(f'matched: {identity} statement 0 "Read" (Allow): ')
    assert not any(line.startswith("message:") for line in lines)


def test_simulate_implicit_deny_text_output(localecr_binary, tmp_path):
    identity = write_policy(tmp_path, "read.json", READER_POLICY)
    resource = repository_arn(OWNER, "app")

    result = simulate_cli(localecr_binary, user_arn(OWNER, "reader"), "ecr:PutImage", resource,
                          "--identity-policy", identity, output_json=False)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "decision: implicitDeny",
        "matched: no statement",
        "message: " + denial_message(user_arn(OWNER, "reader"), "ecr:PutImage", resource, "no-identity-allow"),
    ]


def test_simulate_explicit_deny_json_output(localecr_binary, tmp_path):
    identity = write_policy(tmp_path, "read.json", READER_POLICY)
    resource = repository_arn(OWNER, "app")

    result = simulate_cli(localecr_binary, user_arn(OWNER, "reader"), "ecr:DescribeImages", resource,
                          "--identity-policy", identity, context=LOOPBACK)

    assert result.returncode == 1
    output = json.loads(result.stdout)
    assert output["EvalDecision"] == "explicitDeny"
    assert output["Message"] == denial_message(user_arn(OWNER, "reader"), "ecr:DescribeImages", resource,
                                               "identity-deny")
    matched = {(m["Sid"], m["Effect"]) for m in output["MatchedStatements"]}
    assert matched == {("Read", "Allow"), ("DescribeFromOffice", "Deny")}


def test_simulate_context_changes_decision(localecr_binary, tmp_path):
    identity = write_policy(tmp_path, "read.json", READER_POLICY)
    resource = repository_arn(OWNER, "app")
    args = (localecr_binary, user_arn(OWNER, "reader"), "ecr:DescribeImages", resource, "--identity-policy", identity)

    office = simulate_cli(*args, context={"aws:SourceIp": "10.1.2.3"})
    home = simulate_cli(*args, context={"aws:SourceIp": "192.168.1.2"})

    assert (office.returncode, json.loads(office.stdout)["EvalDecision"]) == (0, "allowed")
    assert (home.returncode, json.loads(home.stdout)["EvalDecision"]) == (1, "explicitDeny")


def test_simulate_resource_policy_deny(localecr_binary, tmp_path):
    identity = write_policy(tmp_path, "read.json", READER_POLICY)
    resource_policy = write_policy(tmp_path, "repo.json", policy_document(
        {"Sid": "NoReader", "Effect": "Deny", "Principal": {"AWS": user_arn(OWNER, "reader")},
         "Action": "ecr:BatchGetImage"}))
    resource = repository_arn(OWNER, "app")

    result = simulate_cli(localecr_binary, user_arn(OWNER, "reader"), "ecr:BatchGetImage", resource,
                          "--identity-policy", identity, "--resource-policy", resource_policy)

    output = json.loads(result.stdout)
    assert (result.returncode, output["EvalDecision"]) == (1, "explicitDeny")
    assert output["Message"] == denial_message(user_arn(OWNER, "reader"), "ecr:BatchGetImage", resource,
                                               "resource-deny")


def test_simulate_cross_account_needs_resource_policy(localecr_binary, tmp_path):
    identity = write_policy(tmp_path, "pull.json", policy_document(
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": f"arn:aws:ecr:*:{OWNER}:repository/*"}))
    resource_policy = write_policy(tmp_path, "repo.json", policy_document(
        {"Effect": "Allow", "Principal": {"AWS": PARTNER}, "Action": "ecr:BatchGetImage"}))
    resource = repository_arn(OWNER, "app")
    erin = user_arn(PARTNER, "erin")

    without = simulate_cli(localecr_binary, erin, "ecr:BatchGetImage", resource, "--identity-policy", identity)
    with_policy = simulate_cli(localecr_binary, erin, "ecr:BatchGetImage", resource, "--identity-policy", identity,
                               "--resource-policy", resource_policy)

    assert without.returncode == 1
    assert json.loads(without.stdout)["Message"] == denial_message(erin, "ecr:BatchGetImage", resource,
                                                                   "no-resource-allow")
    assert (with_policy.returncode, json.loads(with_policy.stdout)["EvalDecision"]) == (0, "allowed")


def test_simulate_with_identities_file(localecr_binary, identities_file):
    resource = repository_arn(OWNER, "app")

    carol = simulate_cli(localecr_binary, user_arn(OWNER, "carol"), "ecr:BatchDeleteImage", resource,
                         "--identities", str(identities_file))
    alice = simulate_cli(localecr_binary, user_arn(OWNER, "alice"), "ecr:BatchDeleteImage", resource,
                         "--identities", str(identities_file))
    bob = simulate_cli(localecr_binary, user_arn(OWNER, "bob"), "ecr:PutImage", resource,
                       "--identities", str(identities_file))

    assert carol.returncode == 1
    assert json.loads(carol.stdout)["Message"] == denial_message(user_arn(OWNER, "carol"), "ecr:BatchDeleteImage",
                                                                 resource, "identity-deny")
    assert (alice.returncode, json.loads(alice.stdout)["EvalDecision"]) == (0, "allowed")
    assert bob.returncode == 1
    assert json.loads(bob.stdout)["Message"] == denial_message(user_arn(OWNER, "bob"), "ecr:PutImage", resource,
                                                               "no-identity-allow")


def test_simulate_policy_variable_from_context(localecr_binary, identities_file):
    resource = repository_arn(OWNER, "payments-app")
    carol = user_arn(OWNER, "carol")
    args = (localecr_binary, carol, "ecr:PutImage", resource, "--identities", str(identities_file))

    same_team = simulate_cli(*args, context={"aws:PrincipalTag/team": "payments",
                                             "aws:ResourceTag/team": "payments"})
    other_team = simulate_cli(*args, context={"aws:PrincipalTag/team": "payments",
                                              "aws:ResourceTag/team": "platform"})

    assert (same_team.returncode, json.loads(same_team.stdout)["EvalDecision"]) == (0, "allowed")
    assert (other_team.returncode, json.loads(other_team.stdout)["EvalDecision"]) == (1, "implicitDeny")


def test_simulate_invalid_policy_file(localecr_binary, tmp_path):
    path = write_policy(tmp_path, "bad.json", "{not json")

    result = simulate_cli(localecr_binary, user_arn(OWNER, "reader"), "ecr:BatchGetImage",
                          repository_arn(OWNER, "app"), "--identity-policy", path)

    assert result.returncode == 2
    assert path in result.stderr


@pytest.mark.parametrize("args", [
    ["--action", "ecr:BatchGetImage", "--resource", "*"],
    ["--principal", "arn:aws:iam::111111111111:user/x", "--resource", "*"],
    ["--principal", "arn:aws:iam::111111111111:user/x", "--action", "ecr:BatchGetImage"],
    ["--principal", "arn:aws:iam::111111111111:user/x", "--action", "ecr:BatchGetImage", "--resource", "*",
     "--context", "no-equals-sign"],
    ["--principal", "arn:aws:iam::111111111111:user/x", "--action", "ecr:BatchGetImage", "--resource", "*",
     "--output", "yaml"],
    ["--principal", "arn:aws:iam::111111111111:user/x", "--action", "ecr:BatchGetImage", "--resource", "*",
     "--bogus", "1"],
    ["--principal"],
], ids=["no-principal", "no-action", "no-resource", "bad-context", "bad-output", "unknown-option", "no-value"])
def test_simulate_usage_errors(localecr_binary, args):
    result = localecr(localecr_binary, "simulate", *args)

    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_policy_command_usage(localecr_binary):
    result = localecr(localecr_binary, "explain")

    assert result.returncode == 2
    assert "usage:" in result.stderr


# The simulator compared with the server's responses


def real_outcome(server, keys, operation: str, **params):
    """Call an ECR operation; return (True, None) unless authorization denied it, else (False, message)."""
    try:
        getattr(iam_ecr(server, keys), operation)(**params)
    except ClientError as error:
        if error.response["Error"]["Code"] == "AccessDeniedException":
            return False, error.response["Error"]["Message"]
    return True, None


def simulated_outcome(output: dict):
    decision = output["EvalDecision"]
    return decision == "allowed", output.get("Message")


@pytest.fixture
def repositories(iam, repository_name) -> dict:
    """plain: no tags or policy; payments: tagged team=payments; guarded: a policy denying reader pulls."""
    alice = iam_ecr(iam, ALICE)
    names = {kind: f"{repository_name}-{kind}" for kind in ("plain", "payments", "guarded")}
    alice.create_repository(repositoryName=names["plain"])
    alice.create_repository(repositoryName=names["payments"], tags=[{"Key": "team", "Value": "payments"}])
    alice.create_repository(repositoryName=names["guarded"])
    alice.set_repository_policy(repositoryName=names["guarded"], policyText=GUARD_POLICY)
    return names


GUARD_POLICY = policy_document(
    {"Sid": "NoReaderPulls", "Effect": "Deny", "Principal": {"AWS": user_arn(OWNER, "reader")},
     "Action": "ecr:BatchGetImage"},
    {"Sid": "PartnerPulls", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
     "Action": ["ecr:BatchGetImage", "ecr:ListImages"]})

# (user, keys, operation, repository kind, action)
CASES = [
    ("alice", "PutImage", "plain", "ecr:PutImage"),
    ("bob", "PutImage", "plain", "ecr:PutImage"),
    ("bob", "BatchGetImage", "guarded", "ecr:BatchGetImage"),
    ("carol", "BatchDeleteImage", "payments", "ecr:BatchDeleteImage"),
    ("reader", "BatchGetImage", "guarded", "ecr:BatchGetImage"),
    ("reader", "BatchGetImage", "plain", "ecr:BatchGetImage"),
    ("reader", "DescribeImages", "plain", "ecr:DescribeImages"),
    ("erin", "BatchGetImage", "plain", "ecr:BatchGetImage"),
    ("erin", "ListImages", "guarded", "ecr:ListImages"),
    ("erin", "DescribeImages", "guarded", "ecr:DescribeImages"),
]
KEYS = {"alice": (ALICE, OWNER), "bob": (BOB, OWNER), "carol": (CAROL, OWNER), "reader": (READER, OWNER),
        "erin": (ERIN, PARTNER)}
PARAMS = {
    "PutImage": {"imageManifest": "{}", "imageTag": "simulated"},
    "BatchGetImage": {"imageIds": [{"imageTag": "v1"}]},
    "BatchDeleteImage": {"imageIds": [{"imageTag": "v1"}]},
    "DescribeImages": {},
    "ListImages": {},
}


def call_name(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


@pytest.mark.parametrize("user,operation,kind,action", CASES, ids=[f"{u}-{o}-{k}" for u, o, k, _ in CASES])
def test_admin_simulation_matches_server(iam, repositories, user, operation, kind, action):
    keys, account = KEYS[user]
    name = repositories[kind]
    resource = repository_arn(OWNER, name)
    principal = user_arn(account, user)
    context = dict(LOOPBACK)
    if kind == "payments":
        context.update({"aws:ResourceTag/team": "payments", "ecr:ResourceTag/team": "payments"})

    real = real_outcome(iam, keys, call_name(operation), repositoryName=name, registryId=OWNER, **PARAMS[operation])
    simulated = simulated_outcome(simulate_admin(iam, principal, action, resource, context))

    assert simulated == real


@pytest.mark.parametrize("user,operation,kind,action", CASES, ids=[f"{u}-{o}-{k}" for u, o, k, _ in CASES])
def test_cli_simulation_matches_server(iam, localecr_binary, identities_file, repositories, tmp_path,
                                       user, operation, kind, action):
    keys, account = KEYS[user]
    name = repositories[kind]
    resource = repository_arn(OWNER, name)
    context = dict(LOOPBACK)
    if kind == "payments":
        context.update({"aws:ResourceTag/team": "payments", "ecr:ResourceTag/team": "payments"})
    resource_args = ["--resource-policy", write_policy(tmp_path, "guard.json", GUARD_POLICY)] \
        if kind == "guarded" else []
    identity_args = ["--identity-policy", write_policy(tmp_path, "read.json", READER_POLICY)] \
        if user == "reader" else ["--identities", str(identities_file)]

    real = real_outcome(iam, keys, call_name(operation), repositoryName=name, registryId=OWNER, **PARAMS[operation])
    result = simulate_cli(localecr_binary, user_arn(account, user), action, resource, *identity_args, *resource_args,
                          context=context)

    assert result.returncode == (0 if real[0] else 1), result.stderr
    assert simulated_outcome(json.loads(result.stdout)) == real


def test_admin_simulation_uses_stored_repository_policy(iam, repositories):
    resource = repository_arn(OWNER, repositories["guarded"])

    output = simulate_admin(iam, user_arn(OWNER, "reader"), "ecr:BatchGetImage", resource, LOOPBACK)

    assert output["EvalDecision"] == "explicitDeny"
    assert {"NoReaderPulls"} <= {match["Sid"] for match in output["MatchedStatements"]}


def test_admin_simulation_follows_policy_changes(iam, repositories):
    name = repositories["plain"]
    resource = repository_arn(OWNER, name)
    alice = iam_ecr(iam, ALICE)

    before = simulate_admin(iam, user_arn(OWNER, "bob"), "ecr:BatchGetImage", resource, LOOPBACK)
    alice.set_repository_policy(repositoryName=name, policyText=policy_document(
        {"Effect": "Deny", "Principal": {"AWS": user_arn(OWNER, "bob")}, "Action": "ecr:BatchGetImage"}))
    during = simulate_admin(iam, user_arn(OWNER, "bob"), "ecr:BatchGetImage", resource, LOOPBACK)
    alice.delete_repository_policy(repositoryName=name)
    after = simulate_admin(iam, user_arn(OWNER, "bob"), "ecr:BatchGetImage", resource, LOOPBACK)

    assert [before["EvalDecision"], during["EvalDecision"], after["EvalDecision"]] == \
        ["allowed", "explicitDeny", "allowed"]


def test_admin_simulation_tag_conditions(iam, repositories):
    # The server has carol's tags and the repository's tags, so a simulation of
    # the same request on that server should reach the server's decision.
    name = repositories["payments"]
    image_manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                 "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                                            "digest": "sha256:" + "0" * 64}, "layers": []})

    real = real_outcome(iam, CAROL, "put_image", repositoryName=name, imageManifest=image_manifest, imageTag="x")
    output = simulate_admin(iam, user_arn(OWNER, "carol"), "ecr:PutImage", repository_arn(OWNER, name))

    assert real == (True, None)
    assert output["EvalDecision"] == "allowed"


@pytest.mark.parametrize("body", [b"{not json", b"[]", json.dumps({"principal": "x", "action": "y"}).encode()],
                         ids=["not-json", "array", "no-resource"])
def test_admin_simulation_rejects_bad_body(iam, body):
    response = iam.http.post(iam.url + "/_localecr/policy/simulate", data=body, timeout=60,
                             headers={"Content-Type": "application/json"})

    assert response.status_code == 400
