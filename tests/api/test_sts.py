"""STS on the localecr endpoint: GetCallerIdentity, AssumeRole and the sessions it returns.

The identities are fixtures/identities.example.json plus three more. In account
111111111111, `stsuser` may call sts:AssumeRole on any role but no trust policy
names it, and the trust policy of the role `account-trust` names the account.
In account 222222222222, `gus` has no policy.
"""

import datetime
import json
from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

import testimages
from harness import (EXAMPLE_IDENTITIES, STS_NAMESPACE, Keys, account_of, advance_clock, aws_as, client_error,
                     denial_message, iam_ecr, iam_sts, json_error, load_identities, oci_denied, policy_document,
                     registry_password, repository_arn, server_now, signed_ecr_request, signed_sts_request,
                     start_iam_server, user_arn, user_keys, v2_as, write_identities)

OWNER = "111111111111"
PARTNER = "222222222222"
CI_PUSHER = f"arn:aws:iam::{OWNER}:role/ci-pusher"
ACCOUNT_TRUST = f"arn:aws:iam::{OWNER}:role/account-trust"


def sts_identities() -> dict:
    document = load_identities(EXAMPLE_IDENTITIES)
    owner = account_of(document, OWNER)
    owner["users"].append({
        "name": "stsuser",
        "policies": [{"name": "assume-anything", "document": json.loads(policy_document(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))}],
        "access_keys": [{"access_key_id": "AKIASTSUSER000000001",
                         "secret_access_key": "stsuser-secret-key-000000000000000000000"}],
    })
    owner["roles"].append({
        "name": "account-trust",
        "trust_policy": json.loads(policy_document(
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "sts:AssumeRole"})),
        "managed_policies": ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"],
    })
    account_of(document, PARTNER)["users"].append({
        "name": "gus",
        "access_keys": [{"access_key_id": "AKIAGUS0000000000001",
                         "secret_access_key": "gus-secret-key-0000000000000000000000000"}],
    })
    return document


IDENTITIES = sts_identities()
ROOT = user_keys(IDENTITIES, OWNER)
ALICE = user_keys(IDENTITIES, OWNER, "alice")
BOB = user_keys(IDENTITIES, OWNER, "bob")
STSUSER = user_keys(IDENTITIES, OWNER, "stsuser")
ERIN = user_keys(IDENTITIES, PARTNER, "erin")
GUS = user_keys(IDENTITIES, PARTNER, "gus")


@pytest.fixture(scope="module")
def sts_server(localecr_binary, tmp_path_factory):
    work = tmp_path_factory.mktemp("localecr-sts")
    server = start_iam_server(localecr_binary, work, write_identities(work / "identities.json", IDENTITIES))
    yield server
    server.stop()


def assume(server, keys: Keys, role_arn: str = CI_PUSHER, session: str = "s1", **extra) -> dict:
    return iam_sts(server, keys).assume_role(RoleArn=role_arn, RoleSessionName=session, **extra)


def session_keys(response: dict) -> Keys:
    credentials = response["Credentials"]
    return Keys(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])


def session_arn(session: str, role: str = "ci-pusher") -> str:
    return f"arn:aws:sts::{OWNER}:assumed-role/{role}/{session}"


def assume_denied_message(caller: str, role_arn: str = CI_PUSHER) -> str:
    return f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"


# GetCallerIdentity


def test_caller_identity_of_user_cli(sts_server):
    result = aws_as(sts_server, ALICE, "sts", "get-caller-identity", check=True)

    identity = json.loads(result.stdout)
    assert identity["Arn"] == user_arn(OWNER, "alice")
    assert identity["Account"] == OWNER
    assert identity["UserId"].startswith("AIDA")


def test_caller_identity_of_root(sts_server):
    identity = iam_sts(sts_server, ROOT).get_caller_identity()

    assert identity["Arn"] == f"arn:aws:iam::{OWNER}:root"
    assert identity["Account"] == OWNER
    assert identity["UserId"] == OWNER


def test_caller_identity_needs_no_policy(sts_server):
    identity = iam_sts(sts_server, GUS).get_caller_identity()

    assert identity["Arn"] == user_arn(PARTNER, "gus")
    assert identity["Account"] == PARTNER


def test_user_ids_are_stable_and_distinct(sts_server):
    first = iam_sts(sts_server, ALICE).get_caller_identity()["UserId"]
    second = iam_sts(sts_server, ALICE).get_caller_identity()["UserId"]
    bob = iam_sts(sts_server, BOB).get_caller_identity()["UserId"]

    assert first == second
    assert first != bob


def test_caller_identity_with_wrong_secret(sts_server):
    keys = ALICE.with_changes(secret_access_key="not-alice-secret-key-0000000000000000000")

    with pytest.raises(ClientError) as excinfo:
        iam_sts(sts_server, keys).get_caller_identity()

    assert client_error(excinfo) == (403, "SignatureDoesNotMatch",
                                     "The request signature we calculated does not match the signature you provided. "
                                     "Check your AWS Secret Access Key and signing method. "
                                     "Consult the service documentation for details.")


def test_caller_identity_with_unknown_key(sts_server):
    keys = ALICE.with_changes(access_key_id="AKIAUNKNOWN000000001")

    with pytest.raises(ClientError) as excinfo:
        iam_sts(sts_server, keys).get_caller_identity()

    assert client_error(excinfo) == (403, "InvalidClientTokenId",
                                     "The security token included in the request is invalid.")


# AssumeRole


def test_assume_role_cli(sts_server):
    before = datetime.datetime.now(datetime.timezone.utc)

    result = aws_as(sts_server, ALICE, "sts", "assume-role", "--role-arn", CI_PUSHER, "--role-session-name", "s1",
                    check=True)

    response = json.loads(result.stdout)
    credentials = response["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert len(credentials["AccessKeyId"]) == 20
    assert credentials["SecretAccessKey"] != ""
    assert credentials["SessionToken"] != ""
    expiration = datetime.datetime.fromisoformat(credentials["Expiration"].replace("Z", "+00:00"))
    assert abs((expiration - before - datetime.timedelta(hours=1)).total_seconds()) < 60
    assert response["AssumedRoleUser"]["Arn"] == session_arn("s1")
    role_id, _, session = response["AssumedRoleUser"]["AssumedRoleId"].partition(":")
    assert role_id.startswith("AROA")
    assert session == "s1"


def test_sessions_get_distinct_keys(sts_server):
    first = assume(sts_server, ALICE)["Credentials"]
    second = assume(sts_server, ALICE)["Credentials"]

    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert first["SessionToken"] != second["SessionToken"]


def test_session_identity(sts_server):
    response = assume(sts_server, ALICE, session="who-am-i")

    identity = iam_sts(sts_server, session_keys(response)).get_caller_identity()

    assert identity["Arn"] == session_arn("who-am-i")
    assert identity["Account"] == OWNER
    assert identity["UserId"] == response["AssumedRoleUser"]["AssumedRoleId"]


def test_session_identity_cli(sts_server):
    keys = session_keys(assume(sts_server, ALICE, session="cli-session"))

    result = aws_as(sts_server, keys, "sts", "get-caller-identity", check=True)

    assert json.loads(result.stdout)["Arn"] == session_arn("cli-session")


def test_session_duration(sts_server):
    before = datetime.datetime.now(datetime.timezone.utc)

    response = assume(sts_server, ALICE, DurationSeconds=7200)

    expiration = response["Credentials"]["Expiration"]
    assert abs((expiration - before - datetime.timedelta(hours=2)).total_seconds()) < 60


def test_session_duration_over_role_maximum(sts_server):
    with pytest.raises(ClientError) as excinfo:
        assume(sts_server, ALICE, DurationSeconds=7201)

    assert client_error(excinfo) == (400, "ValidationError",
                                     "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")


def test_session_name_pattern(sts_server):
    with pytest.raises(ClientError) as excinfo:
        assume(sts_server, ALICE, session="bad name!")

    assert client_error(excinfo) == (400, "ValidationError",
                                     "1 validation error detected: Value 'bad name!' at 'roleSessionName' failed to "
                                     "satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")


def test_untrusted_user_denied(sts_server):
    with pytest.raises(ClientError) as excinfo:
        assume(sts_server, BOB)

    assert client_error(excinfo) == (403, "AccessDenied", assume_denied_message(user_arn(OWNER, "bob")))


def test_untrusted_user_denied_cli(sts_server):
    result = aws_as(sts_server, BOB, "sts", "assume-role", "--role-arn", CI_PUSHER, "--role-session-name", "s1")

    assert result.returncode != 0
    assert result.stderr.strip() == ("An error occurred (AccessDenied) when calling the AssumeRole operation: "
                                     + assume_denied_message(user_arn(OWNER, "bob")))


def test_identity_permission_without_trust_denied(sts_server):
    # A role's trust policy must name the caller (or its account): an identity
    # policy allowing sts:AssumeRole is not enough on its own.
    with pytest.raises(ClientError) as excinfo:
        assume(sts_server, STSUSER)

    assert client_error(excinfo) == (403, "AccessDenied", assume_denied_message(user_arn(OWNER, "stsuser")))


def test_unknown_role_denied(sts_server):
    role = f"arn:aws:iam::{OWNER}:role/no-such-role"

    with pytest.raises(ClientError) as excinfo:
        assume(sts_server, ALICE, role_arn=role)

    assert client_error(excinfo) == (403, "AccessDenied", assume_denied_message(user_arn(OWNER, "alice"), role))


def test_account_trust_with_identity_permission(sts_server):
    allowed = assume(sts_server, STSUSER, role_arn=ACCOUNT_TRUST, session="delegated")

    assert allowed["AssumedRoleUser"]["Arn"] == session_arn("delegated", "account-trust")


def test_cross_account_assume_role(sts_server):
    response = assume(sts_server, ERIN, session="erin-session")

    identity = iam_sts(sts_server, session_keys(response)).get_caller_identity()

    assert response["AssumedRoleUser"]["Arn"] == session_arn("erin-session")
    assert identity["Arn"] == session_arn("erin-session")
    assert identity["Account"] == OWNER


def test_cross_account_without_identity_permission_denied(sts_server):
    # The trust policy names account 222222222222, but gus's identity policy
    # does not allow sts:AssumeRole.
    with pytest.raises(ClientError) as excinfo:
        assume(sts_server, GUS)

    assert client_error(excinfo) == (403, "AccessDenied", assume_denied_message(user_arn(PARTNER, "gus")))


# Using the session's credentials


def test_session_works_on_ecr(sts_server, repository_name):
    iam_ecr(sts_server, ALICE).create_repository(repositoryName=repository_name)
    keys = session_keys(assume(sts_server, ALICE, session="pusher"))
    image = testimages.build_image(repository_name)
    password = registry_password(sts_server, keys)

    for blob in image.blobs:
        response = v2_as(sts_server, password, "POST", f"/{repository_name}/blobs/uploads/",
                         params={"digest": blob.digest}, data=blob.data)
        assert response.status_code == 201, response.text
    manifest = v2_as(sts_server, password, "PUT", f"/{repository_name}/manifests/v1", data=image.manifest,
                     headers={"Content-Type": image.media_type})

    assert manifest.status_code == 201, manifest.text
    images = iam_ecr(sts_server, keys).batch_get_image(repositoryName=repository_name,
                                                       imageIds=[{"imageTag": "v1"}])["images"]
    assert images[0]["imageId"]["imageDigest"] == image.digest


def test_session_denials_name_the_session(sts_server, repository_name):
    iam_ecr(sts_server, ALICE).create_repository(repositoryName=repository_name)
    keys = session_keys(assume(sts_server, ALICE, session="limited"))
    resource = repository_arn(OWNER, repository_name)

    with pytest.raises(ClientError) as create:
        iam_ecr(sts_server, keys).create_repository(repositoryName=repository_name + "-new")
    delete = v2_as(sts_server, registry_password(sts_server, keys), "DELETE",
                   f"/{repository_name}/manifests/sha256:" + "0" * 64)

    assert client_error(create) == (400, "AccessDeniedException", denial_message(
        session_arn("limited"), "ecr:CreateRepository", repository_arn(OWNER, repository_name + "-new"),
        "no-identity-allow"))
    assert oci_denied(delete) == (403, [("DENIED", denial_message(
        session_arn("limited"), "ecr:BatchDeleteImage", resource, "no-identity-allow"))])


def test_cross_account_session_acts_in_role_account(sts_server, repository_name):
    # erin's session is a principal of 111111111111, so on 127.0.0.1 its token
    # addresses that account's registry, with the role's PowerUser permissions.
    iam_ecr(sts_server, ALICE).create_repository(repositoryName=repository_name)
    keys = session_keys(assume(sts_server, ERIN, session="erin-push"))
    image = testimages.build_image(repository_name)
    password = registry_password(sts_server, keys)

    response = v2_as(sts_server, password, "POST", f"/{repository_name}/blobs/uploads/",
                     params={"digest": image.config.digest}, data=image.config.data)

    assert response.status_code == 201, response.text


def test_repository_policy_naming_the_role_applies_to_sessions(sts_server, repository_name):
    alice = iam_ecr(sts_server, ALICE)
    alice.create_repository(repositoryName=repository_name)
    alice.set_repository_policy(repositoryName=repository_name, policyText=policy_document(
        {"Effect": "Deny", "Principal": {"AWS": CI_PUSHER}, "Action": "ecr:DescribeImages"}))
    keys = session_keys(assume(sts_server, ALICE, session="named"))

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(sts_server, keys).describe_images(repositoryName=repository_name)

    assert client_error(excinfo) == (400, "AccessDeniedException", denial_message(
        session_arn("named"), "ecr:DescribeImages", repository_arn(OWNER, repository_name), "resource-deny"))


def test_principal_arn_of_session_is_the_role(sts_server, repository_name):
    alice = iam_ecr(sts_server, ALICE)
    alice.create_repository(repositoryName=repository_name)
    alice.set_repository_policy(repositoryName=repository_name, policyText=policy_document(
        {"Effect": "Deny", "Principal": "*", "Action": "ecr:ListImages",
         "Condition": {"ArnEquals": {"aws:PrincipalArn": CI_PUSHER}}}))
    keys = session_keys(assume(sts_server, ALICE, session="arn-check"))

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(sts_server, keys).list_images(repositoryName=repository_name)

    assert client_error(excinfo)[1] == "AccessDeniedException"
    assert alice.list_images(repositoryName=repository_name)["imageIds"] == []


def test_session_key_without_token_rejected(sts_server):
    keys = session_keys(assume(sts_server, ALICE)).with_changes(session_token=None)

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(sts_server, keys).describe_repositories()

    assert client_error(excinfo) == (400, "UnrecognizedClientException",
                                     "The security token included in the request is invalid.")


def test_session_key_with_another_sessions_token_rejected(sts_server):
    first = session_keys(assume(sts_server, ALICE, session="first"))
    second = session_keys(assume(sts_server, ALICE, session="second"))

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(sts_server, first.with_changes(session_token=second.session_token)).describe_repositories()

    assert client_error(excinfo) == (400, "UnrecognizedClientException",
                                     "The security token included in the request is invalid.")


def test_session_key_with_wrong_secret_rejected(sts_server):
    keys = session_keys(assume(sts_server, ALICE))

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(sts_server, keys.with_changes(secret_access_key="x" * 40)).describe_repositories()

    status, code, _ = client_error(excinfo)
    assert (status, code) == (400, "InvalidSignatureException")


def test_session_survives_restart(localecr_binary, tmp_path_factory):
    work = tmp_path_factory.mktemp("localecr-sts-restart")
    server = start_iam_server(localecr_binary, work, write_identities(work / "identities.json", IDENTITIES))
    try:
        keys = session_keys(assume(server, ALICE, session="durable"))
        server.restart()

        identity = iam_sts(server, keys).get_caller_identity()
    finally:
        server.stop()

    assert identity["Arn"] == session_arn("durable")



def test_session_expires(localecr_binary, tmp_path_factory):
    work = tmp_path_factory.mktemp("localecr-sts-expiry")
    server = start_iam_server(localecr_binary, work, write_identities(work / "identities.json", IDENTITIES))
    try:
        keys = session_keys(assume(server, ALICE, session="short", DurationSeconds=900))
        before = signed_ecr_request(server, keys, "DescribeRepositories", {}, when=server_now(server))
        advance_clock(server, 901)
        now = server_now(server)

        ecr = signed_ecr_request(server, keys, "DescribeRepositories", {}, when=now)
        sts = signed_sts_request(server, keys, {"Action": "GetCallerIdentity"}, when=now)
    finally:
        server.stop()

    assert before.status_code == 200, before.text
    assert json_error(ecr) == (400, "ExpiredTokenException", "The security token included in the request is expired")
    assert sts.status_code in (400, 403)
    error = ElementTree.fromstring(sts.text).find(f"{STS_NAMESPACE}Error")
    assert (error.findtext(f"{STS_NAMESPACE}Code"), error.findtext(f"{STS_NAMESPACE}Message")) == \
        ("ExpiredToken", "The security token included in the request is expired")
