"""IAM mode authentication on the ECR JSON API: SigV4 verification, clock skew and temporary credentials.

Every error is checked for its HTTP status, its `__type` and its exact message,
as ECR sends them.
"""

import datetime
import re

import pytest
from botocore.exceptions import ClientError

from harness import (EXAMPLE_IDENTITIES, Keys, aws_as, client_error, denial_message, iam_ecr, iam_sts, json_error,
                     load_identities, repository_arn, server_now, sign_request, signed_ecr_request, start_iam_server,
                     user_arn, user_keys, write_identities)

ACCOUNT = "111111111111"
EXAMPLE = load_identities(EXAMPLE_IDENTITIES)
ALICE = user_keys(EXAMPLE, ACCOUNT, "alice")
DAVE = user_keys(EXAMPLE, ACCOUNT, "dave")

UNRECOGNIZED = ("UnrecognizedClientException", "The security token included in the request is invalid.")
SIGNATURE_MISMATCH = ("InvalidSignatureException",
                      "The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. "
                      "Consult the service documentation for details.")
EXPIRED_TOKEN = ("ExpiredTokenException", "The security token included in the request is expired")
TIMESTAMP = r"(\d{8}T\d{6}Z)"
SKEW = datetime.timedelta(minutes=20)
WINDOW = datetime.timedelta(minutes=15)


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def parse_timestamp(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)


def stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def test_user_keys_accepted(example_iam_server):
    client = iam_ecr(example_iam_server, ALICE)

    response = client.describe_repositories()

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert {repository["registryId"] for repository in response["repositories"]} <= {ACCOUNT}


def test_caller_identity_names_the_key_owner(example_iam_server):
    identity = iam_sts(example_iam_server, ALICE).get_caller_identity()

    assert identity["Arn"] == user_arn(ACCOUNT, "alice")
    assert identity["Account"] == ACCOUNT


def test_unknown_access_key_rejected(example_iam_server):
    keys = ALICE.with_changes(access_key_id="AKIAUNKNOWN000000001")

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(example_iam_server, keys).describe_repositories()

    assert client_error(excinfo) == (400, *UNRECOGNIZED)


def test_unknown_access_key_raw_error_shape(example_iam_server):
    keys = ALICE.with_changes(access_key_id="AKIAUNKNOWN000000001")

    response = signed_ecr_request(example_iam_server, keys, "DescribeRepositories", {})

    assert json_error(response) == (400, *UNRECOGNIZED)
    assert response.headers["Content-Type"].startswith("application/x-amz-json-1.1")


def test_wrong_secret_rejected(example_iam_server):
    keys = ALICE.with_changes(secret_access_key="not-alice-secret-key-0000000000000000000")

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(example_iam_server, keys).describe_repositories()

    assert client_error(excinfo) == (400, *SIGNATURE_MISMATCH)


def test_wrong_secret_rejected_by_cli(example_iam_server):
    keys = ALICE.with_changes(secret_access_key="not-alice-secret-key-0000000000000000000")

    result = aws_as(example_iam_server, keys, "ecr", "describe-repositories")

    assert result.returncode != 0
    assert (f"An error occurred ({SIGNATURE_MISMATCH[0]}) when calling the DescribeRepositories operation: "
            f"{SIGNATURE_MISMATCH[1]}") in result.stderr


def test_body_changed_after_signing_rejected(example_iam_server):
    # The signature covers the payload hash, so a different body must fail verification.
    signed = signed_ecr_request(example_iam_server, ALICE, "DescribeRepositories", {})
    assert signed.status_code == 200
    url = example_iam_server.url + "/"
    headers = sign_request(ALICE, "POST", url, b"{}", {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"})

    response = example_iam_server.http.post(url, data=b'{"maxResults": 5}', headers=headers, timeout=60)

    assert json_error(response) == (400, *SIGNATURE_MISMATCH)


def test_signature_expired(example_iam_server):
    sent = utc_now() - SKEW
    before = utc_now()

    response = signed_ecr_request(example_iam_server, ALICE, "DescribeRepositories", {}, when=sent)

    after = utc_now() + datetime.timedelta(seconds=1)
    status, code, message = json_error(response)
    assert (status, code) == (400, "InvalidSignatureException")
    match = re.fullmatch(rf"Signature expired: {TIMESTAMP} is now earlier than {TIMESTAMP} "
                         rf"\({TIMESTAMP} - 15 min\.\)", message)
    assert match, message
    assert match.group(1) == stamp(sent)
    now = parse_timestamp(match.group(3))
    assert before <= now <= after
    assert parse_timestamp(match.group(2)) == now - WINDOW


def test_signature_not_yet_current(example_iam_server):
    sent = utc_now() + SKEW
    before = utc_now()

    response = signed_ecr_request(example_iam_server, ALICE, "DescribeRepositories", {}, when=sent)

    after = utc_now() + datetime.timedelta(seconds=1)
    status, code, message = json_error(response)
    assert (status, code) == (400, "InvalidSignatureException")
    match = re.fullmatch(rf"Signature not yet current: {TIMESTAMP} is still later than {TIMESTAMP} "
                         rf"\({TIMESTAMP} \+ 15 min\.\)", message)
    assert match, message
    assert match.group(1) == stamp(sent)
    now = parse_timestamp(match.group(3))
    assert before <= now <= after
    assert parse_timestamp(match.group(2)) == now + WINDOW


@pytest.mark.parametrize("offset_minutes", [-14, 14])
def test_signature_inside_window_accepted(example_iam_server, offset_minutes):
    sent = utc_now() + datetime.timedelta(minutes=offset_minutes)

    response = signed_ecr_request(example_iam_server, ALICE, "DescribeRepositories", {}, when=sent)

    assert response.status_code == 200, response.text


def test_unsigned_request_rejected(example_iam_server):
    response = example_iam_server.ecr_request("DescribeRepositories", {}, sign=False)

    assert json_error(response) == (400, "MissingAuthenticationTokenException", "Missing Authentication Token")


def test_open_mode_test_keys_rejected(example_iam_server):
    # The harness's default "test"/"test" keys work in open mode only.
    response = example_iam_server.ecr_request("DescribeRepositories", {})

    assert json_error(response) == (400, *UNRECOGNIZED)


# Temporary credentials


def test_static_temporary_credentials_accepted(example_iam_server):
    identity = iam_sts(example_iam_server, DAVE).get_caller_identity()

    assert identity["Arn"] == user_arn(ACCOUNT, "dave")
    assert identity["Account"] == ACCOUNT


def test_static_temporary_credentials_reach_authorization(example_iam_server):
    # dave has no policy: a signature that verifies gets as far as authorization.
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(example_iam_server, DAVE).describe_repositories()

    action = "ecr:DescribeRepositories"
    assert client_error(excinfo) == (400, "AccessDeniedException", denial_message(
        user_arn(ACCOUNT, "dave"), action, repository_arn(ACCOUNT, "*"), "no-identity-allow"))


def test_temporary_key_without_session_token_rejected(example_iam_server):
    keys = DAVE.with_changes(session_token=None)

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(example_iam_server, keys).describe_repositories()

    assert client_error(excinfo) == (400, *UNRECOGNIZED)


def test_temporary_key_with_wrong_session_token_rejected(example_iam_server):
    keys = DAVE.with_changes(session_token="someone-elses-session-token")

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(example_iam_server, keys).describe_repositories()

    assert client_error(excinfo) == (400, *UNRECOGNIZED)


def test_temporary_credentials_from_cli_environment(example_iam_server):
    result = aws_as(example_iam_server, DAVE, "sts", "get-caller-identity", check=True)

    assert f'"Arn": "{user_arn(ACCOUNT, "dave")}"' in result.stdout


GINA = {"access_key_id": "ASIAGINA000000000001", "secret_access_key": "gina-secret-key-000000000000000000000000",
        "session_token": "gina-session-token", "expiration": "2020-01-01T00:00:00Z"}


@pytest.fixture(scope="module")
def expired_key_server(localecr_binary, tmp_path_factory):
    """Start a server whose only user, gina, has temporary credentials that expired in 2020."""
    work = tmp_path_factory.mktemp("localecr-expired")
    identities = write_identities(work / "identities.json", {"accounts": [{
        "id": "333333333333",
        "users": [{
            "name": "gina",
            "managed_policies": ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"],
            "access_keys": [GINA],
        }],
    }]})
    server = start_iam_server(localecr_binary, work, identities)
    yield server
    server.stop()


def test_expired_temporary_credentials_rejected(expired_key_server):
    keys = Keys(GINA["access_key_id"], GINA["secret_access_key"], GINA["session_token"])

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(expired_key_server, keys).describe_repositories()

    assert client_error(excinfo) == (400, *EXPIRED_TOKEN)


def test_expired_temporary_credentials_rejected_by_cli(expired_key_server):
    keys = Keys(GINA["access_key_id"], GINA["secret_access_key"], GINA["session_token"])

    result = aws_as(expired_key_server, keys, "ecr", "describe-repositories")

    assert result.returncode != 0
    assert (f"An error occurred ({EXPIRED_TOKEN[0]}) when calling the DescribeRepositories operation: "
            f"{EXPIRED_TOKEN[1]}") in result.stderr


def test_region_taken_from_credential_scope(example_iam_server, repository_name):
    client = iam_ecr(example_iam_server, ALICE, region="eu-west-1")

    repository = client.create_repository(repositoryName=repository_name)["repository"]

    assert repository["repositoryArn"] == repository_arn(ACCOUNT, repository_name, "eu-west-1")
    assert repository["registryId"] == ACCOUNT


# The server's clock (--clock)


@pytest.fixture
def clock_server_factory(localecr_binary, tmp_path_factory):
    started = []

    def start(clock: str):
        server = start_iam_server(localecr_binary, tmp_path_factory.mktemp("localecr-clock"), EXAMPLE_IDENTITIES,
                                  "--clock", clock)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_static_temporary_credentials_expire(clock_server_factory):
    server = clock_server_factory("2030-01-01T00:00:01Z")

    response = signed_ecr_request(server, DAVE, "DescribeRepositories", {}, when=server_now(server))

    assert json_error(response) == (400, *EXPIRED_TOKEN)


def test_static_temporary_credentials_valid_before_expiry(clock_server_factory):
    server = clock_server_factory("2029-12-31T23:50:00Z")

    response = signed_ecr_request(server, DAVE, "DescribeRepositories", {}, when=server_now(server))

    # dave has no policy: getting to the denial means the credentials were accepted.
    assert json_error(response)[:2] == (400, "AccessDeniedException")


def test_signature_window_follows_server_clock(clock_server_factory):
    server = clock_server_factory("2030-06-01T12:00:00Z")
    sent = utc_now()

    response = signed_ecr_request(server, ALICE, "DescribeRepositories", {}, when=sent)

    status, code, message = json_error(response)
    assert (status, code) == (400, "InvalidSignatureException")
    match = re.fullmatch(rf"Signature expired: {TIMESTAMP} is now earlier than {TIMESTAMP} "
                         rf"\({TIMESTAMP} - 15 min\.\)", message)
    assert match, message
    assert match.group(1) == stamp(sent)
    now = parse_timestamp(match.group(3))
    assert abs((now - datetime.datetime(2030, 6, 1, 12, tzinfo=datetime.timezone.utc)).total_seconds()) < 30
    assert parse_timestamp(match.group(2)) == now - WINDOW
    accepted = signed_ecr_request(server, ALICE, "DescribeRepositories", {}, when=server_now(server))
    assert accepted.status_code == 200, accepted.text
