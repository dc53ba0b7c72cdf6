"""Repository and registry policies in IAM mode: set, get, delete, validation and the force guard.

The server runs fixtures/identities.example.json; alice (ECR full access)
manages the policies, bob (read only) shows who may not.
"""

import json

import pytest
from botocore.exceptions import ClientError

from harness import (EXAMPLE_IDENTITIES, aws_as, client_error, denial_message, iam_ecr, load_identities,
                     policy_document, repository_arn, signed_ecr_request, user_arn, user_keys)

OWNER = "111111111111"
PARTNER = "222222222222"
EXAMPLE = load_identities(EXAMPLE_IDENTITIES)
ALICE = user_keys(EXAMPLE, OWNER, "alice")
BOB = user_keys(EXAMPLE, OWNER, "bob")
ROOT = user_keys(EXAMPLE, OWNER)
ERIN = user_keys(EXAMPLE, PARTNER, "erin")

INVALID_REPOSITORY_POLICY = ("Invalid parameter at 'PolicyText' failed to satisfy constraint: "
                             "'Invalid repository policy provided'")
INVALID_REGISTRY_POLICY = ("Invalid parameter at 'PolicyText' failed to satisfy constraint: "
                           "'Invalid registry policy provided'")
PRINCIPAL_NOT_FOUND = "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'"

PULL = {"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}
REPLICATE = {"Sid": "Replicate", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
             "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
             "Resource": f"arn:aws:ecr:us-east-1:{OWNER}:repository/*"}


@pytest.fixture
def alice(example_iam_server):
    return iam_ecr(example_iam_server, ALICE)


@pytest.fixture
def owned_repository(alice, repository_name) -> str:
    alice.create_repository(repositoryName=repository_name)
    return repository_name


def not_found_message(name: str) -> str:
    return (f"Repository policy does not exist for the repository with name '{name}' "
            f"in the registry with id '{OWNER}'")


# SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy


def test_set_get_delete_round_trip(alice, owned_repository):
    text = policy_document(PULL)

    set_response = alice.set_repository_policy(repositoryName=owned_repository, policyText=text)
    get_response = alice.get_repository_policy(repositoryName=owned_repository)
    delete_response = alice.delete_repository_policy(repositoryName=owned_repository)

    for response in (set_response, get_response, delete_response):
        assert response["registryId"] == OWNER
        assert response["repositoryName"] == owned_repository
        assert response["policyText"] == text
    with pytest.raises(ClientError) as excinfo:
        alice.get_repository_policy(repositoryName=owned_repository)
    assert client_error(excinfo) == (400, "RepositoryPolicyNotFoundException", not_found_message(owned_repository))


def test_policy_text_kept_byte_for_byte(alice, owned_repository):
    # Whitespace and key order are the caller's: ECR hands the text back as set.
    text = '{\n  "Version" : "2008-10-17",\n  "Statement" : [ {\n    "Sid" : "Pull",\n    "Effect" : "Allow",\n' \
           '    "Principal" : {"AWS" : "' + f"arn:aws:iam::{PARTNER}:root" + '"},\n' \
           '    "Action" : "ecr:BatchGetImage"\n  } ]\n}'

    alice.set_repository_policy(repositoryName=owned_repository, policyText=text)

    assert alice.get_repository_policy(repositoryName=owned_repository)["policyText"] == text


def test_set_replaces_previous_policy(alice, owned_repository):
    first = policy_document(PULL)
    second = policy_document(dict(PULL, Sid="Second", Action="ecr:BatchGetImage"))

    alice.set_repository_policy(repositoryName=owned_repository, policyText=first)
    alice.set_repository_policy(repositoryName=owned_repository, policyText=second)

    assert alice.get_repository_policy(repositoryName=owned_repository)["policyText"] == second


def test_get_without_policy(alice, owned_repository):
    with pytest.raises(ClientError) as excinfo:
        alice.get_repository_policy(repositoryName=owned_repository)

    assert client_error(excinfo) == (400, "RepositoryPolicyNotFoundException", not_found_message(owned_repository))


def test_delete_without_policy(alice, owned_repository):
    with pytest.raises(ClientError) as excinfo:
        alice.delete_repository_policy(repositoryName=owned_repository)

    assert client_error(excinfo) == (400, "RepositoryPolicyNotFoundException", not_found_message(owned_repository))


def test_get_policy_cli(example_iam_server, alice, owned_repository):
    alice.set_repository_policy(repositoryName=owned_repository, policyText=policy_document(PULL))

    result = aws_as(example_iam_server, ALICE, "ecr", "get-repository-policy", "--repository-name", owned_repository,
                    check=True)

    assert json.loads(json.loads(result.stdout)["policyText"]) == json.loads(policy_document(PULL))


def test_set_policy_cli_from_file(example_iam_server, owned_repository, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(policy_document(PULL))

    result = aws_as(example_iam_server, ALICE, "ecr", "set-repository-policy", "--repository-name",
                    owned_repository, "--policy-text", f"file://{path}", check=True)

    assert json.loads(result.stdout)["policyText"] == path.read_text()


@pytest.mark.parametrize("operation", ["set", "get", "delete"])
def test_policy_operations_on_missing_repository(alice, repository_name, operation):
    calls = {
        "set": lambda: alice.set_repository_policy(repositoryName=repository_name, policyText=policy_document(PULL)),
        "get": lambda: alice.get_repository_policy(repositoryName=repository_name),
        "delete": lambda: alice.delete_repository_policy(repositoryName=repository_name),
    }

    with pytest.raises(ClientError) as excinfo:
        calls[operation]()

    assert client_error(excinfo) == (400, "RepositoryNotFoundException",
                                     f"The repository with name '{repository_name}' does not exist in the registry "
                                     f"with id '{OWNER}'")


def test_deleting_repository_drops_its_policy(alice, owned_repository):
    alice.set_repository_policy(repositoryName=owned_repository, policyText=policy_document(PULL))

    alice.delete_repository(repositoryName=owned_repository, force=True)
    alice.create_repository(repositoryName=owned_repository)

    with pytest.raises(ClientError) as excinfo:
        alice.get_repository_policy(repositoryName=owned_repository)
    assert client_error(excinfo) == (400, "RepositoryPolicyNotFoundException", not_found_message(owned_repository))


# What SetRepositoryPolicy accepts


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"},
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:*"},
    {"Effect": "Allow", "Principal": {"AWS": PARTNER}, "Action": ["ecr:BatchGetImage"]},
    {"Effect": "Allow", "Principal": {"AWS": [user_arn(OWNER, "bob"), user_arn(PARTNER, "erin")]},
     "Action": "ecr:ListImages"},
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:role/ci-pusher"}, "Action": "ecr:PutImage"},
    {"Effect": "Deny", "NotPrincipal": {"AWS": user_arn(OWNER, "alice")}, "Action": "ecr:DeleteRepository"},
    {"Effect": "Allow", "Principal": "*", "NotAction": "ecr:Delete*"},
    {"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
     "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.0/8"]}}},
    {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/team}"},
                   "ForAnyValue:StringLike": {"aws:TagKeys": ["team*"]}}},
], ids=["star", "aws-star", "account-id", "user-list", "role", "not-principal", "not-action", "source-ip",
        "variables"])
def test_valid_policies_accepted(alice, owned_repository, statement):
    text = policy_document(statement)

    response = alice.set_repository_policy(repositoryName=owned_repository, policyText=text)

    assert response["policyText"] == text


def test_version_2008_and_repeated_sids_accepted(alice, owned_repository):
    text = json.dumps({"Version": "2008-10-17", "Statement": [dict(PULL, Sid="Same"),
                                                               dict(PULL, Sid="Same", Action="ecr:ListImages")]})

    assert alice.set_repository_policy(repositoryName=owned_repository, policyText=text)["policyText"] == text


INVALID_POLICIES = {
    "not-json": "{not json",
    "json-array": "[]",
    "json-string": '"policy"',
    "no-statement": json.dumps({"Version": "2012-10-17"}),
    "bad-effect": policy_document({"Effect": "Maybe", "Principal": "*", "Action": "ecr:BatchGetImage"}),
    "no-effect": policy_document({"Principal": "*", "Action": "ecr:BatchGetImage"}),
    "no-principal": policy_document({"Effect": "Allow", "Action": "ecr:BatchGetImage"}),
    "no-action": policy_document({"Effect": "Allow", "Principal": "*"}),
    "resource": policy_document({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
                                 "Resource": repository_arn(OWNER, "anything")}),
    "resource-star": policy_document({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
                                      "Resource": "*"}),
    "unknown-operator": policy_document({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
                                         "Condition": {"StringEqualz": {"aws:username": "bob"}}}),
    "bad-cidr": policy_document({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
                                 "Condition": {"IpAddress": {"aws:SourceIp": "not-an-address"}}}),
    "bad-version": json.dumps({"Version": "2024-01-01", "Statement": [PULL]}),
    "action-and-not-action": policy_document({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
                                              "NotAction": "ecr:PutImage"}),
}


@pytest.mark.parametrize("text", INVALID_POLICIES.values(), ids=INVALID_POLICIES.keys())
def test_invalid_policies_rejected(alice, owned_repository, text):
    with pytest.raises(ClientError) as excinfo:
        alice.set_repository_policy(repositoryName=owned_repository, policyText=text)

    assert client_error(excinfo) == (400, "InvalidParameterException", INVALID_REPOSITORY_POLICY)
    with pytest.raises(ClientError) as not_set:
        alice.get_repository_policy(repositoryName=owned_repository)
    assert client_error(not_set)[1] == "RepositoryPolicyNotFoundException"


@pytest.mark.parametrize("principal", [
    user_arn(OWNER, "ghost"),
    f"arn:aws:iam::{OWNER}:role/ghost-role",
    "999999999999",
    "arn:aws:iam::999999999999:root",
])
def test_unknown_principal_rejected(alice, owned_repository, principal):
    text = policy_document({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "ecr:BatchGetImage"})

    with pytest.raises(ClientError) as excinfo:
        alice.set_repository_policy(repositoryName=owned_repository, policyText=text)

    assert client_error(excinfo) == (400, "InvalidParameterException", PRINCIPAL_NOT_FOUND)


def test_unknown_principal_in_not_principal_rejected(alice, owned_repository):
    text = policy_document({"Effect": "Deny", "NotPrincipal": {"AWS": user_arn(OWNER, "ghost")}, "Action": "ecr:*"})

    with pytest.raises(ClientError) as excinfo:
        alice.set_repository_policy(repositoryName=owned_repository, policyText=text)

    assert client_error(excinfo) == (400, "InvalidParameterException", PRINCIPAL_NOT_FOUND)


def test_policy_text_length_limit(example_iam_server, owned_repository):
    base = policy_document(PULL)
    at_limit = base + " " * (10240 - len(base))
    over_limit = at_limit + " "
    alice = iam_ecr(example_iam_server, ALICE)

    accepted = alice.set_repository_policy(repositoryName=owned_repository, policyText=at_limit)
    # Sent raw, so that the server and not botocore checks the maximum length.
    response = signed_ecr_request(example_iam_server, ALICE, "SetRepositoryPolicy",
                                  {"repositoryName": owned_repository, "policyText": over_limit})

    assert accepted["policyText"] == at_limit
    assert response.status_code == 400
    assert response.json()["__type"] in ("InvalidParameterException", "ValidationException")
    assert alice.get_repository_policy(repositoryName=owned_repository)["policyText"] == at_limit


# The lock-out guard


def lockout_policy(principal: str) -> str:
    return policy_document({"Sid": "NoMorePolicies", "Effect": "Deny", "Principal": {"AWS": principal},
                            "Action": "ecr:SetRepositoryPolicy"})


def test_policy_locking_out_the_caller_needs_force(alice, owned_repository):
    text = lockout_policy(user_arn(OWNER, "alice"))

    with pytest.raises(ClientError) as excinfo:
        alice.set_repository_policy(repositoryName=owned_repository, policyText=text)

    status, code, message = client_error(excinfo)
    assert (status, code) == (400, "InvalidParameterException")
    assert message.startswith("Invalid parameter at 'PolicyText' failed to satisfy constraint: ")
    with pytest.raises(ClientError) as not_set:
        alice.get_repository_policy(repositoryName=owned_repository)
    assert client_error(not_set)[1] == "RepositoryPolicyNotFoundException"


def test_wildcard_lockout_needs_force(alice, owned_repository):
    text = policy_document({"Effect": "Deny", "Principal": "*", "Action": "ecr:Set*"})

    with pytest.raises(ClientError) as excinfo:
        alice.set_repository_policy(repositoryName=owned_repository, policyText=text)

    assert client_error(excinfo)[:2] == (400, "InvalidParameterException")


def test_forced_lockout_applies(alice, owned_repository):
    text = lockout_policy(user_arn(OWNER, "alice"))

    response = alice.set_repository_policy(repositoryName=owned_repository, policyText=text, force=True)
    with pytest.raises(ClientError) as excinfo:
        alice.set_repository_policy(repositoryName=owned_repository, policyText=policy_document(PULL), force=True)

    assert response["policyText"] == text
    assert client_error(excinfo) == (400, "AccessDeniedException", denial_message(
        user_arn(OWNER, "alice"), "ecr:SetRepositoryPolicy", repository_arn(OWNER, owned_repository),
        "resource-deny"))
    # Deleting the policy is still allowed, which is the way out.
    assert alice.delete_repository_policy(repositoryName=owned_repository)["policyText"] == text


def test_policy_denying_someone_else_needs_no_force(alice, owned_repository):
    text = lockout_policy(user_arn(OWNER, "bob"))

    assert alice.set_repository_policy(repositoryName=owned_repository, policyText=text)["policyText"] == text


# Who may manage policies


def test_reader_may_read_but_not_set_policy(example_iam_server, alice, owned_repository):
    alice.set_repository_policy(repositoryName=owned_repository, policyText=policy_document(PULL))
    bob = iam_ecr(example_iam_server, BOB)
    resource = repository_arn(OWNER, owned_repository)

    text = bob.get_repository_policy(repositoryName=owned_repository)["policyText"]
    with pytest.raises(ClientError) as set_denied:
        bob.set_repository_policy(repositoryName=owned_repository, policyText=policy_document(PULL))
    with pytest.raises(ClientError) as delete_denied:
        bob.delete_repository_policy(repositoryName=owned_repository)

    assert text == policy_document(PULL)
    bob_arn = user_arn(OWNER, "bob")
    assert client_error(set_denied) == (400, "AccessDeniedException", denial_message(
        bob_arn, "ecr:SetRepositoryPolicy", resource, "no-identity-allow"))
    assert client_error(delete_denied) == (400, "AccessDeniedException", denial_message(
        bob_arn, "ecr:DeleteRepositoryPolicy", resource, "no-identity-allow"))


def test_policy_management_denied_before_existence(example_iam_server, repository_name):
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(example_iam_server, BOB).set_repository_policy(repositoryName=repository_name,
                                                               policyText=policy_document(PULL))

    assert client_error(excinfo) == (400, "AccessDeniedException", denial_message(
        user_arn(OWNER, "bob"), "ecr:SetRepositoryPolicy", repository_arn(OWNER, repository_name),
        "no-identity-allow"))


def test_invalid_policy_from_denied_caller_reports_the_denial(example_iam_server, owned_repository):
    # Authorization comes before validation: bob learns nothing about the text.
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(example_iam_server, BOB).set_repository_policy(repositoryName=owned_repository,
                                                               policyText="{not json")

    assert client_error(excinfo)[1] == "AccessDeniedException"


def test_root_manages_policies_without_identity_policy(example_iam_server, owned_repository):
    root = iam_ecr(example_iam_server, ROOT)

    root.set_repository_policy(repositoryName=owned_repository, policyText=policy_document(PULL))

    assert root.get_repository_policy(repositoryName=owned_repository)["policyText"] == policy_document(PULL)


# Registry policies


@pytest.fixture
def registry_policy_cleanup(alice):
    yield
    try:
        alice.delete_registry_policy()
    except ClientError:
        pass


def test_registry_policy_round_trip(alice, registry_policy_cleanup):
    text = policy_document(REPLICATE)

    put = alice.put_registry_policy(policyText=text)
    got = alice.get_registry_policy()
    deleted = alice.delete_registry_policy()

    for response in (put, got, deleted):
        assert response["registryId"] == OWNER
        assert response["policyText"] == text
    with pytest.raises(ClientError) as excinfo:
        alice.get_registry_policy()
    status, code, message = client_error(excinfo)
    assert (status, code) == (400, "RegistryPolicyNotFoundException")
    assert OWNER in message


def test_registry_policy_delete_without_policy(alice, registry_policy_cleanup):
    with pytest.raises(ClientError) as excinfo:
        alice.delete_registry_policy()

    assert client_error(excinfo)[:2] == (400, "RegistryPolicyNotFoundException")


def test_registry_policy_is_per_account(example_iam_server, alice, registry_policy_cleanup):
    alice.put_registry_policy(policyText=policy_document(REPLICATE))
    erin_policy = policy_document(dict(REPLICATE, Principal={"AWS": f"arn:aws:iam::{OWNER}:root"},
                                       Resource=f"arn:aws:ecr:us-east-1:{PARTNER}:repository/*"))

    # erin has no registry permissions in her own account.
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(example_iam_server, ERIN).put_registry_policy(policyText=erin_policy)

    assert client_error(excinfo) == (400, "AccessDeniedException", denial_message(
        user_arn(PARTNER, "erin"), "ecr:PutRegistryPolicy", "*", "no-identity-allow"))
    assert alice.get_registry_policy()["policyText"] == policy_document(REPLICATE)


@pytest.mark.parametrize("text", ["{not json", "[]", json.dumps({"Version": "2012-10-17"}),
                                  policy_document({"Effect": "Allow", "Action": "ecr:ReplicateImage",
                                                   "Resource": "*"})],
                         ids=["not-json", "json-array", "no-statement", "no-principal"])
def test_invalid_registry_policy_rejected(alice, registry_policy_cleanup, text):
    with pytest.raises(ClientError) as excinfo:
        alice.put_registry_policy(policyText=text)

    assert client_error(excinfo) == (400, "InvalidParameterException", INVALID_REGISTRY_POLICY)


def test_registry_policy_unknown_principal_rejected(alice, registry_policy_cleanup):
    text = policy_document(dict(REPLICATE, Principal={"AWS": "arn:aws:iam::999999999999:root"}))

    with pytest.raises(ClientError) as excinfo:
        alice.put_registry_policy(policyText=text)

    assert client_error(excinfo) == (400, "InvalidParameterException", PRINCIPAL_NOT_FOUND)


def test_reader_may_not_put_registry_policy(example_iam_server, registry_policy_cleanup):
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(example_iam_server, BOB).put_registry_policy(policyText=policy_document(REPLICATE))

    assert client_error(excinfo) == (400, "AccessDeniedException", denial_message(
        user_arn(OWNER, "bob"), "ecr:PutRegistryPolicy", "*", "no-identity-allow"))
