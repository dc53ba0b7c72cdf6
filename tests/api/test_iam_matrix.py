"""Who may do what in IAM mode, through boto3, the aws CLI, raw /v2/ requests, skopeo and docker.

The identities are fixtures/identities.example.json plus a few users added
here: `tokenonly` (ecr:GetAuthorizationToken only), `nobody` (no policy),
`ip-local` and `ip-remote` (everything, but only from 127.0.0.0/8 or from
10.0.0.0/8), `henry` (tag and username conditions), `ivy` (one condition key
per statement), and in account 222222222222 a root key and `frank` (token only).
Each denial is checked for its code and its exact message: JSON
AccessDeniedException with HTTP 400, /v2/ 403 DENIED with the same message.
"""

import json
import re
import shutil
import subprocess

import pytest
from botocore.exceptions import ClientError

import testimages
from harness import (EXAMPLE_IDENTITIES, REGION, Keys, account_of, advance_clock, aws_as, client_error, denial_message,
                     iam_ecr, json_error, load_identities, oci_denied, policy_document, registry_host, registry_password,
                     repository_arn, signed_ecr_request, start_iam_server, user_arn, user_keys, v2_as,
                     write_identities)

OWNER = "111111111111"
PARTNER = "222222222222"
OTHER_REGION = "eu-west-1"
SKOPEO = "/usr/bin/skopeo"
PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
                "ecr:ListImages"]


def key(name: str) -> dict:
    """A made-up access key for an added user."""
    return {"access_key_id": "AKIA" + re.sub(r"[^A-Z0-9]", "", name.upper()).ljust(16, "0"),
            "secret_access_key": f"{name}-secret-key".ljust(40, "0")}


def inline(name: str, *statements) -> dict:
    return {"name": name, "document": json.loads(policy_document(*statements))}


def matrix_identities() -> dict:
    document = load_identities(EXAMPLE_IDENTITIES)
    owner = account_of(document, OWNER)
    token_statement = {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}

    def everything_from(cidr):
        return {"Effect": "Allow", "Action": "ecr:*", "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": cidr}}}

    owner["users"] += [
        {"name": "tokenonly", "policies": [inline("token", token_statement)], "access_keys": [key("tokenonly")]},
        {"name": "nobody", "access_keys": [key("nobody")]},
        {"name": "ip-local", "policies": [inline("local", everything_from("127.0.0.0/8"))],
         "access_keys": [key("iplocal")]},
        {"name": "ip-remote", "policies": [inline("remote", everything_from("10.0.0.0/8"))],
         "access_keys": [key("ipremote")]},
    ]
    owner["users"] += [
        {"name": "henry", "tags": {"team": "payments"}, "access_keys": [key("henry")], "policies": [inline(
            "own-team-tags",
            {"Sid": "TagWithOwnTeam", "Effect": "Allow", "Action": ["ecr:CreateRepository", "ecr:TagResource"],
             "Resource": "*",
             "Condition": {"StringEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"},
                           "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}},
            {"Sid": "UntagScratch", "Effect": "Allow", "Action": "ecr:UntagResource", "Resource": "*",
             "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["scratch"]}}},
            {"Sid": "OwnNamespace", "Effect": "Allow", "Action": "ecr:*",
             "Resource": "arn:aws:ecr:*:111111111111:repository/${aws:username}/*"},
            token_statement)]},
        {"name": "ivy", "access_keys": [key("ivy")], "policies": [inline(
            "conditions",
            {"Effect": "Allow", "Action": "ecr:DescribeRepositories", "Resource": "*",
             "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
            {"Effect": "Allow", "Action": "ecr:ListImages", "Resource": "*",
             "Condition": {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Effect": "Allow", "Action": "ecr:DescribeImages", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
            {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalType": "User", "aws:username": "ivy",
                                            "aws:PrincipalAccount": OWNER}}},
            {"Effect": "Allow", "Action": "ecr:ListTagsForResource", "Resource": "*",
             "Condition": {"NumericGreaterThan": {"aws:EpochTime": "1577836800"}}},
            {"Effect": "Allow", "Action": "ecr:GetRepositoryPolicy", "Resource": "*",
             "Condition": {"StringLike": {"aws:userid": "AIDA*"}}})]},
    ]
    partner = account_of(document, PARTNER)
    partner["root_access_keys"] = [key("partnerroot")]
    partner["users"].append({"name": "frank", "policies": [inline("token", token_statement)],
                             "access_keys": [key("frank")]})
    return document


IDENTITIES = matrix_identities()
ROOT = user_keys(IDENTITIES, OWNER)
ALICE = user_keys(IDENTITIES, OWNER, "alice")
BOB = user_keys(IDENTITIES, OWNER, "bob")
CAROL = user_keys(IDENTITIES, OWNER, "carol")
TOKENONLY = user_keys(IDENTITIES, OWNER, "tokenonly")
NOBODY = user_keys(IDENTITIES, OWNER, "nobody")
IP_LOCAL = user_keys(IDENTITIES, OWNER, "ip-local")
IP_REMOTE = user_keys(IDENTITIES, OWNER, "ip-remote")
PARTNER_ROOT = user_keys(IDENTITIES, PARTNER)
ERIN = user_keys(IDENTITIES, PARTNER, "erin")
FRANK = user_keys(IDENTITIES, PARTNER, "frank")
HENRY = user_keys(IDENTITIES, OWNER, "henry")
IVY = user_keys(IDENTITIES, OWNER, "ivy")


@pytest.fixture(scope="module")
def iam(localecr_binary, tmp_path_factory):
    work = tmp_path_factory.mktemp("localecr-matrix")
    server = start_iam_server(localecr_binary, work, write_identities(work / "identities.json", IDENTITIES))
    yield server
    server.stop()


# Helpers


def arn(name: str, account: str = OWNER, region: str = REGION) -> str:
    return repository_arn(account, name, region)


def assert_json_denied(excinfo, principal: str, action: str, resource: str, reason: str):
    assert client_error(excinfo) == (400, "AccessDeniedException",
                                     denial_message(principal, action, resource, reason))


def assert_v2_denied(response, principal: str, action: str, resource: str, reason: str):
    assert oci_denied(response) == (403, [("DENIED", denial_message(principal, action, resource, reason))])


def assert_cli_denied(result, operation: str, principal: str, action: str, resource: str, reason: str):
    assert result.returncode != 0
    assert result.stderr.strip() == (f"An error occurred (AccessDeniedException) when calling the {operation} "
                                     f"operation: {denial_message(principal, action, resource, reason)}")


def push(server, password: str, repository: str, image, tag: str, host: str = None) -> str:
    """Push an image through /v2/ with a registry password; return its digest."""
    for blob in image.blobs:
        response = v2_as(server, password, "POST", f"/{repository}/blobs/uploads/", host=host,
                         params={"digest": blob.digest}, data=blob.data,
                         headers={"Content-Type": "application/octet-stream"})
        assert response.status_code == 201, response.text
    response = v2_as(server, password, "PUT", f"/{repository}/manifests/{tag}", host=host, data=image.manifest,
                     headers={"Content-Type": image.media_type})
    assert response.status_code == 201, response.text
    return image.digest


def create_with_image(server, keys: Keys, name: str, *, tags=None, seed=None) -> testimages.Image:
    """Create repository `name` as `keys` and push one image tagged v1 to it."""
    client = iam_ecr(server, keys)
    client.create_repository(repositoryName=name, **({"tags": tags} if tags else {}))
    image = testimages.build_image(seed or name)
    push(server, registry_password(server, keys), name, image, "v1")
    return image


def set_policy(server, keys: Keys, name: str, *statements, registry_id: str = None, force: bool = False):
    extra = {"registryId": registry_id} if registry_id else {}
    iam_ecr(server, keys).set_repository_policy(repositoryName=name, policyText=policy_document(*statements),
                                                force=force, **extra)


def allow(principal, actions, sid="Allow") -> dict:
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}


def deny(principal, actions, sid="Deny", **extra) -> dict:
    return {"Sid": sid, "Effect": "Deny", "Principal": principal if principal == "*" else {"AWS": principal},
            "Action": actions, **extra}


def manifest_get(server, password: str, name: str, reference: str = "v1", host: str = None):
    return v2_as(server, password, "GET", f"/{name}/manifests/{reference}", host=host,
                 headers={"Accept": testimages.DOCKER_MANIFEST})


def batch_get(server, keys: Keys, name: str, registry_id: str = None) -> list:
    extra = {"registryId": registry_id} if registry_id else {}
    response = iam_ecr(server, keys).batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}], **extra)
    assert response["failures"] == []
    return response["images"]


# Same account, allowed by the identity policy alone


def test_full_access_user_pushes_and_pulls(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    password = registry_password(iam, ALICE)

    response = manifest_get(iam, password, repository_name)
    blob = v2_as(iam, password, "GET", f"/{repository_name}/blobs/{image.layers[0].digest}")
    images = batch_get(iam, ALICE, repository_name)

    assert response.status_code == 200
    assert response.content == image.manifest
    assert blob.status_code == 200
    assert blob.content == image.layers[0].data
    assert images[0]["imageId"]["imageDigest"] == image.digest


def test_read_only_user_pulls(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    password = registry_password(iam, BOB)

    manifest = manifest_get(iam, password, repository_name)
    blob = v2_as(iam, password, "GET", f"/{repository_name}/blobs/{image.config.digest}")
    tags = v2_as(iam, password, "GET", f"/{repository_name}/tags/list")

    assert manifest.status_code == 200
    assert manifest.content == image.manifest
    assert blob.status_code == 200
    assert blob.content == image.config.data
    assert tags.json()["tags"] == ["v1"]
    assert batch_get(iam, BOB, repository_name)[0]["imageManifest"] == image.manifest.decode()


def test_read_only_user_cannot_push(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    bob = user_arn(OWNER, "bob")
    password = registry_password(iam, BOB)
    other = testimages.build_image(repository_name + "-other")

    upload = v2_as(iam, password, "POST", f"/{repository_name}/blobs/uploads/")
    manifest = v2_as(iam, password, "PUT", f"/{repository_name}/manifests/v2", data=image.manifest,
                     headers={"Content-Type": image.media_type})
    delete = v2_as(iam, password, "DELETE", f"/{repository_name}/manifests/{image.digest}")
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(iam, BOB).put_image(repositoryName=repository_name, imageManifest=other.manifest.decode(),
                                    imageTag="v2")

    resource = arn(repository_name)
    assert_v2_denied(upload, bob, "ecr:InitiateLayerUpload", resource, "no-identity-allow")
    assert_v2_denied(manifest, bob, "ecr:PutImage", resource, "no-identity-allow")
    assert_v2_denied(delete, bob, "ecr:BatchDeleteImage", resource, "no-identity-allow")
    assert_json_denied(excinfo, bob, "ecr:PutImage", resource, "no-identity-allow")
    tags = [i.get("imageTag") for i in iam_ecr(iam, ALICE).list_images(repositoryName=repository_name)["imageIds"]]
    assert tags == ["v1"]


def test_read_only_user_cannot_create_repository_cli(iam, repository_name):
    result = aws_as(iam, BOB, "ecr", "create-repository", "--repository-name", repository_name)

    assert_cli_denied(result, "CreateRepository", user_arn(OWNER, "bob"), "ecr:CreateRepository",
                      arn(repository_name), "no-identity-allow")
    assert aws_as(iam, ALICE, "ecr", "describe-repositories", "--repository-names", repository_name).returncode != 0


def test_full_access_user_creates_repository_cli(iam, repository_name):
    result = aws_as(iam, ALICE, "ecr", "create-repository", "--repository-name", repository_name, check=True)

    assert json.loads(result.stdout)["repository"]["repositoryArn"] == arn(repository_name)


def test_user_without_policy_gets_no_token(iam):
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(iam, NOBODY).get_authorization_token()

    assert_json_denied(excinfo, user_arn(OWNER, "nobody"), "ecr:GetAuthorizationToken", "*", "no-identity-allow")


def test_user_without_policy_gets_no_token_cli(iam):
    result = aws_as(iam, NOBODY, "ecr", "get-login-password")

    assert_cli_denied(result, "GetAuthorizationToken", user_arn(OWNER, "nobody"), "ecr:GetAuthorizationToken", "*",
                      "no-identity-allow")


def test_listing_all_repositories_is_authorized_on_every_repository(iam):
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(iam, TOKENONLY).describe_repositories()

    assert_json_denied(excinfo, user_arn(OWNER, "tokenonly"), "ecr:DescribeRepositories", arn("*"),
                       "no-identity-allow")


V2_OPERATIONS = [
    ("GET", "/{name}/manifests/v1", "ecr:BatchGetImage"),
    ("GET", "/{name}/blobs/sha256:" + "ab" * 32, "ecr:GetDownloadUrlForLayer"),
    ("POST", "/{name}/blobs/uploads/", "ecr:InitiateLayerUpload"),
    ("PATCH", "/{name}/blobs/uploads/0b5a2f5c-6a8e-4f5e-9a55-3c0c1f1d2e3f", "ecr:UploadLayerPart"),
    ("PUT", "/{name}/blobs/uploads/0b5a2f5c-6a8e-4f5e-9a55-3c0c1f1d2e3f?digest=sha256:" + "cd" * 32,
     "ecr:CompleteLayerUpload"),
    ("PUT", "/{name}/manifests/v2", "ecr:PutImage"),
    ("DELETE", "/{name}/manifests/sha256:" + "ef" * 32, "ecr:BatchDeleteImage"),
    ("GET", "/{name}/tags/list", "ecr:ListImages"),
]


@pytest.mark.parametrize("method,path,action", V2_OPERATIONS, ids=[f"{m} {a}" for m, _, a in V2_OPERATIONS])
@pytest.mark.parametrize("exists", [True, False], ids=["existing", "missing"])
def test_v2_operation_maps_to_ecr_action(iam, repository_name, method, path, action, exists):
    # tokenonly may mint a token but do nothing else; the denial names the
    # action each /v2/ operation needs, whether or not the repository exists.
    if exists:
        create_with_image(iam, ALICE, repository_name)
    password = registry_password(iam, TOKENONLY)

    body = {"data": b"{}", "headers": {"Content-Type": testimages.DOCKER_MANIFEST}} \
        if method in ("PUT", "PATCH", "POST") else {}

    response = v2_as(iam, password, method, path.format(name=repository_name), **body)

    assert_v2_denied(response, user_arn(OWNER, "tokenonly"), action, arn(repository_name), "no-identity-allow")


@pytest.mark.parametrize("path", ["/{name}/manifests/v1", "/{name}/blobs/sha256:" + "ab" * 32])
def test_v2_head_denied(iam, repository_name, path):
    create_with_image(iam, ALICE, repository_name)
    password = registry_password(iam, TOKENONLY)

    response = v2_as(iam, password, "HEAD", path.format(name=repository_name))

    # A HEAD response has no body to carry the message.
    assert response.status_code == 403


def test_catalog_needs_describe_repositories(iam):
    # ECR's /v2/_catalog denial names the resource "*".
    response = v2_as(iam, registry_password(iam, TOKENONLY), "GET", "/_catalog")

    assert_v2_denied(response, user_arn(OWNER, "tokenonly"), "ecr:DescribeRepositories", "*", "no-identity-allow")


def test_catalog_allowed_for_reader(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)

    response = v2_as(iam, registry_password(iam, BOB), "GET", "/_catalog", params={"n": 1000})

    assert response.status_code == 200
    assert repository_name in response.json()["repositories"]


def test_base_endpoint_needs_only_a_token(iam):
    response = v2_as(iam, registry_password(iam, TOKENONLY), "GET", "/")

    assert response.status_code == 200


def test_denied_before_existence_json(iam, repository_name):
    with pytest.raises(ClientError) as denied:
        iam_ecr(iam, BOB).put_image(repositoryName=repository_name, imageManifest="{}", imageTag="v1")
    with pytest.raises(ClientError) as missing:
        iam_ecr(iam, ALICE).describe_images(repositoryName=repository_name)

    assert_json_denied(denied, user_arn(OWNER, "bob"), "ecr:PutImage", arn(repository_name), "no-identity-allow")
    assert client_error(missing) == (400, "RepositoryNotFoundException",
                                     f"The repository with name '{repository_name}' does not exist in the registry "
                                     f"with id '{OWNER}'")


DIGEST = "sha256:" + "0" * 64
JSON_OPERATIONS = [
    ("CreateRepository", {}),
    ("DescribeRepositories", {"repositoryNames": ["{name}"]}),
    ("DeleteRepository", {}),
    ("ListImages", {}),
    ("DescribeImages", {}),
    ("BatchGetImage", {"imageIds": [{"imageTag": "v1"}]}),
    ("PutImage", {"imageManifest": "{}", "imageTag": "v1"}),
    ("BatchDeleteImage", {"imageIds": [{"imageTag": "v1"}]}),
    ("InitiateLayerUpload", {}),
    ("UploadLayerPart", {"uploadId": "0b5a2f5c-6a8e-4f5e-9a55-3c0c1f1d2e3f", "partFirstByte": 0,
                         "partLastByte": 0, "layerPartBlob": "AA=="}),
    ("CompleteLayerUpload", {"uploadId": "0b5a2f5c-6a8e-4f5e-9a55-3c0c1f1d2e3f", "layerDigests": [DIGEST]}),
    ("BatchCheckLayerAvailability", {"layerDigests": [DIGEST]}),
    ("GetDownloadUrlForLayer", {"layerDigest": DIGEST}),
    ("TagResource", {"resourceArn": "{arn}", "tags": [{"Key": "k", "Value": "v"}]}),
    ("UntagResource", {"resourceArn": "{arn}", "tagKeys": ["k"]}),
    ("ListTagsForResource", {"resourceArn": "{arn}"}),
    ("SetRepositoryPolicy", {"policyText": policy_document({"Effect": "Allow", "Principal": "*",
                                                            "Action": "ecr:ListImages"})}),
    ("GetRepositoryPolicy", {}),
    ("DeleteRepositoryPolicy", {}),
]
GLOBAL_OPERATIONS = [
    ("DescribeRegistry", {}),
    ("GetAccountSetting", {"name": "BLOB_MOUNTING"}),
    ("PutAccountSetting", {"name": "BLOB_MOUNTING", "value": "ENABLED"}),
    ("PutRegistryPolicy", {"policyText": policy_document({"Effect": "Allow", "Principal": {"AWS": PARTNER},
                                                          "Action": "ecr:ReplicateImage"})}),
    ("GetRegistryPolicy", {}),
    ("DeleteRegistryPolicy", {}),
]


def fill(value, name: str):
    """Put the repository name and ARN into an operation's body template."""
    if isinstance(value, str):
        return value.replace("{name}", name).replace("{arn}", arn(name))
    if isinstance(value, list):
        return [fill(item, name) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, name) for key, item in value.items()}
    return value


@pytest.mark.parametrize("operation,body", JSON_OPERATIONS, ids=[op for op, _ in JSON_OPERATIONS])
@pytest.mark.parametrize("exists", [True, False], ids=["existing", "missing"])
def test_json_operation_authorized_before_existence(iam, repository_name, operation, body, exists):
    # tokenonly may do nothing on repositories: every operation is denied on
    # the repository's ARN, whether or not the repository exists.
    if exists:
        create_with_image(iam, ALICE, repository_name)
    request = fill(body, repository_name)
    if "resourceArn" not in request:
        request.setdefault("repositoryName", repository_name)

    response = signed_ecr_request(iam, TOKENONLY, operation, request)

    assert json_error(response) == (400, "AccessDeniedException", denial_message(
        user_arn(OWNER, "tokenonly"), "ecr:" + operation, arn(repository_name), "no-identity-allow"))


@pytest.mark.parametrize("operation,body", GLOBAL_OPERATIONS, ids=[op for op, _ in GLOBAL_OPERATIONS])
def test_registry_operations_authorized_on_star(iam, operation, body):
    response = signed_ecr_request(iam, TOKENONLY, operation, body)

    assert json_error(response) == (400, "AccessDeniedException", denial_message(
        user_arn(OWNER, "tokenonly"), "ecr:" + operation, "*", "no-identity-allow"))


@pytest.mark.parametrize("operation,body", JSON_OPERATIONS[1:], ids=[op for op, _ in JSON_OPERATIONS[1:]])
def test_repository_policy_grants_every_repository_operation(iam, repository_name, operation, body):
    # Same account: a repository policy allowing ecr:* is enough without any
    # identity policy, for every operation on that repository.
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name, allow(user_arn(OWNER, "tokenonly"), "ecr:*"))
    request = fill(body, repository_name)
    if "resourceArn" not in request:
        request.setdefault("repositoryName", repository_name)

    response = signed_ecr_request(iam, TOKENONLY, operation, request)

    assert response.status_code == 200 or response.json()["__type"] != "AccessDeniedException", response.text


def test_describe_named_repositories_checks_each(iam, repository_name):
    readable, hidden = repository_name + "-readable", repository_name + "-hidden"
    create_with_image(iam, ALICE, readable)
    create_with_image(iam, ALICE, hidden)
    set_policy(iam, ALICE, readable, allow(user_arn(OWNER, "tokenonly"), ["ecr:DescribeRepositories"]))
    client = iam_ecr(iam, TOKENONLY)

    described = client.describe_repositories(repositoryNames=[readable])["repositories"]
    with pytest.raises(ClientError) as excinfo:
        client.describe_repositories(repositoryNames=[readable, hidden])

    assert [repository["repositoryName"] for repository in described] == [readable]
    assert_json_denied(excinfo, user_arn(OWNER, "tokenonly"), "ecr:DescribeRepositories", arn(hidden),
                       "no-identity-allow")


def test_blob_mount_needs_read_access_to_the_source(iam, team_repositories):
    platform, payments = team_repositories["platform"], team_repositories["payments"]
    image = testimages.build_image(platform)
    push(iam, registry_password(iam, ALICE), platform, image, "v1")
    enabled = signed_ecr_request(iam, ALICE, "PutAccountSetting", {"name": "BLOB_MOUNTING", "value": "ENABLED"})
    assert enabled.status_code == 200, enabled.text
    layer = image.layers[0].digest
    carol = registry_password(iam, CAROL)

    try:
        carol_mount = v2_as(iam, carol, "POST", f"/{payments}/blobs/uploads/",
                            params={"mount": layer, "from": platform})
        carol_head = v2_as(iam, carol, "HEAD", f"/{payments}/blobs/{layer}")
        alice_mount = v2_as(iam, registry_password(iam, ALICE), "POST", f"/{payments}/blobs/uploads/",
                            params={"mount": layer, "from": platform})
    finally:
        signed_ecr_request(iam, ALICE, "PutAccountSetting", {"name": "BLOB_MOUNTING", "value": "DISABLED"})

    # carol may not read platform, so her mount falls back to a new upload session.
    assert carol_mount.status_code == 202
    assert carol_head.status_code == 404
    assert alice_mount.status_code == 201


def test_partner_root_needs_repository_policy(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    partner_root = user_arn(PARTNER)

    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, PARTNER_ROOT, repository_name, registry_id=OWNER)
    set_policy(iam, ALICE, repository_name, allow(f"arn:aws:iam::{PARTNER}:root", PULL_ACTIONS))
    images = batch_get(iam, PARTNER_ROOT, repository_name, registry_id=OWNER)

    assert_json_denied(excinfo, partner_root, "ecr:BatchGetImage", arn(repository_name), "no-resource-allow")
    assert images[0]["imageId"]["imageDigest"] == image.digest


# Same account, allowed by the repository policy alone


def test_repository_policy_alone_allows_same_account_user(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    tokenonly = user_arn(OWNER, "tokenonly")
    with pytest.raises(ClientError) as before:
        batch_get(iam, TOKENONLY, repository_name)
    assert_json_denied(before, tokenonly, "ecr:BatchGetImage", arn(repository_name), "no-identity-allow")

    set_policy(iam, ALICE, repository_name, allow(tokenonly, PULL_ACTIONS))

    password = registry_password(iam, TOKENONLY)
    assert batch_get(iam, TOKENONLY, repository_name)[0]["imageId"]["imageDigest"] == image.digest
    assert manifest_get(iam, password, repository_name).content == image.manifest
    blob = v2_as(iam, password, "GET", f"/{repository_name}/blobs/{image.layers[0].digest}")
    assert blob.status_code == 200
    assert blob.content == image.layers[0].data
    with pytest.raises(ClientError) as not_granted:
        iam_ecr(iam, TOKENONLY).describe_images(repositoryName=repository_name)
    assert_json_denied(not_granted, tokenonly, "ecr:DescribeImages", arn(repository_name), "no-identity-allow")


def test_repository_policy_grants_only_its_repository(iam, repository_name):
    granted, other = repository_name + "-granted", repository_name + "-other"
    create_with_image(iam, ALICE, granted)
    create_with_image(iam, ALICE, other)
    set_policy(iam, ALICE, granted, allow(user_arn(OWNER, "tokenonly"), PULL_ACTIONS))
    password = registry_password(iam, TOKENONLY)

    response = manifest_get(iam, password, other)

    assert_v2_denied(response, user_arn(OWNER, "tokenonly"), "ecr:BatchGetImage", arn(other), "no-identity-allow")
    assert manifest_get(iam, password, granted).status_code == 200


def test_root_allowed_without_identity_policy(iam, repository_name):
    image = create_with_image(iam, ROOT, repository_name)

    assert batch_get(iam, ROOT, repository_name)[0]["imageId"]["imageDigest"] == image.digest


# Cross account: the identity policy and the repository policy must both allow


def test_cross_account_pull_without_repository_policy_denied(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    erin = user_arn(PARTNER, "erin")
    password = registry_password(iam, ERIN)

    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, ERIN, repository_name, registry_id=OWNER)
    response = manifest_get(iam, password, repository_name, host=registry_host(OWNER, iam.port))

    assert_json_denied(excinfo, erin, "ecr:BatchGetImage", arn(repository_name), "no-resource-allow")
    assert_v2_denied(response, erin, "ecr:BatchGetImage", arn(repository_name), "no-resource-allow")


def test_cross_account_pull_with_repository_policy_allowed(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name, allow(f"arn:aws:iam::{PARTNER}:root", PULL_ACTIONS))
    password = registry_password(iam, ERIN)
    host = registry_host(OWNER, iam.port)

    images = batch_get(iam, ERIN, repository_name, registry_id=OWNER)
    manifest = manifest_get(iam, password, repository_name, host=host)
    blob = v2_as(iam, password, "GET", f"/{repository_name}/blobs/{image.layers[0].digest}", host=host)
    head = v2_as(iam, password, "HEAD", f"/{repository_name}/blobs/{image.config.digest}", host=host)

    assert images[0]["imageId"]["imageDigest"] == image.digest
    assert manifest.status_code == 200
    assert manifest.content == image.manifest
    assert blob.status_code == 200
    assert blob.content == image.layers[0].data
    assert head.status_code == 200


def test_cross_account_pull_on_amazonaws_host(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name, allow(user_arn(PARTNER, "erin"), PULL_ACTIONS))

    response = manifest_get(iam, registry_password(iam, ERIN), repository_name,
                            host=registry_host(OWNER, iam.port, suffix="amazonaws.com"))

    assert response.status_code == 200
    assert response.content == image.manifest


def test_cross_account_aws_cli_pull(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    args = ("ecr", "batch-get-image", "--registry-id", OWNER, "--repository-name", repository_name,
            "--image-ids", "imageTag=v1")

    denied = aws_as(iam, ERIN, *args)
    set_policy(iam, ALICE, repository_name, allow(f"arn:aws:iam::{PARTNER}:root", PULL_ACTIONS))
    allowed = aws_as(iam, ERIN, *args, check=True)

    assert_cli_denied(denied, "BatchGetImage", user_arn(PARTNER, "erin"), "ecr:BatchGetImage", arn(repository_name),
                      "no-resource-allow")
    assert json.loads(allowed.stdout)["images"][0]["imageId"]["imageDigest"] == image.digest


def test_cross_account_repository_policy_naming_another_user_denied(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name, allow(user_arn(PARTNER, "frank"), PULL_ACTIONS))

    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, ERIN, repository_name, registry_id=OWNER)

    assert_json_denied(excinfo, user_arn(PARTNER, "erin"), "ecr:BatchGetImage", arn(repository_name),
                       "no-resource-allow")


def test_cross_account_repository_policy_alone_is_not_enough(iam, repository_name):
    # frank's identity policy grants only the token: the repository policy
    # naming his account does not make up for it across accounts.
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name, allow(f"arn:aws:iam::{PARTNER}:root", PULL_ACTIONS))
    frank = user_arn(PARTNER, "frank")

    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, FRANK, repository_name, registry_id=OWNER)
    response = manifest_get(iam, registry_password(iam, FRANK), repository_name, host=registry_host(OWNER, iam.port))

    assert_json_denied(excinfo, frank, "ecr:BatchGetImage", arn(repository_name), "no-identity-allow")
    assert_v2_denied(response, frank, "ecr:BatchGetImage", arn(repository_name), "no-identity-allow")


def test_cross_account_push_not_granted_by_pull_policy(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name, allow(f"arn:aws:iam::{PARTNER}:root", PULL_ACTIONS))

    response = v2_as(iam, registry_password(iam, ERIN), "PUT", f"/{repository_name}/manifests/v2",
                     host=registry_host(OWNER, iam.port), data=image.manifest,
                     headers={"Content-Type": image.media_type})

    # Neither erin's identity policy nor the repository policy allows PutImage.
    # NOTE: which of the two AWS names in the message when both are missing is not documented.
    assert response.status_code == 403
    assert [code for code, _ in oci_denied(response)[1]] == ["DENIED"]


def test_token_on_plain_host_addresses_own_account(iam, repository_name):
    # On 127.0.0.1 erin's token addresses her own registry (222222222222),
    # where her identity policy grants nothing.
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name, allow(f"arn:aws:iam::{PARTNER}:root", PULL_ACTIONS))

    response = manifest_get(iam, registry_password(iam, ERIN), repository_name)

    assert_v2_denied(response, user_arn(PARTNER, "erin"), "ecr:BatchGetImage", arn(repository_name, PARTNER),
                     "no-identity-allow")


def test_token_on_other_accounts_host_is_cross_account(iam, repository_name):
    # alice's identity policy allows ecr:* everywhere, but account 222222222222's
    # repository has no policy naming her.
    iam_ecr(iam, PARTNER_ROOT).create_repository(repositoryName=repository_name)
    password = registry_password(iam, ALICE)
    host = registry_host(PARTNER, iam.port)
    alice = user_arn(OWNER, "alice")

    existing = manifest_get(iam, password, repository_name, host=host)
    missing = manifest_get(iam, password, repository_name + "-missing", host=host)

    assert_v2_denied(existing, alice, "ecr:BatchGetImage", arn(repository_name, PARTNER), "no-resource-allow")
    assert_v2_denied(missing, alice, "ecr:BatchGetImage", arn(repository_name + "-missing", PARTNER),
                     "no-resource-allow")


def test_cross_account_host_both_allow(iam, repository_name):
    iam_ecr(iam, PARTNER_ROOT).create_repository(repositoryName=repository_name)
    image = testimages.build_image(repository_name)
    push(iam, registry_password(iam, PARTNER_ROOT), repository_name, image, "v1")
    set_policy(iam, PARTNER_ROOT, repository_name, allow(user_arn(OWNER, "alice"), PULL_ACTIONS))

    response = manifest_get(iam, registry_password(iam, ALICE), repository_name, host=registry_host(PARTNER, iam.port))

    assert response.status_code == 200
    assert response.content == image.manifest


# Explicit denies


def test_identity_deny_wins_over_repository_allow(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name, tags=[{"Key": "team", "Value": "payments"}])
    carol = user_arn(OWNER, "carol")
    set_policy(iam, ALICE, repository_name, allow(carol, ["ecr:BatchDeleteImage", "ecr:DeleteRepository"]))

    with pytest.raises(ClientError) as batch_delete:
        iam_ecr(iam, CAROL).batch_delete_image(repositoryName=repository_name, imageIds=[{"imageTag": "v1"}])
    with pytest.raises(ClientError) as delete_repository:
        iam_ecr(iam, CAROL).delete_repository(repositoryName=repository_name, force=True)
    v2_delete = v2_as(iam, registry_password(iam, CAROL), "DELETE", f"/{repository_name}/manifests/{image.digest}")

    resource = arn(repository_name)
    assert_json_denied(batch_delete, carol, "ecr:BatchDeleteImage", resource, "identity-deny")
    assert_json_denied(delete_repository, carol, "ecr:DeleteRepository", resource, "identity-deny")
    assert_v2_denied(v2_delete, carol, "ecr:BatchDeleteImage", resource, "identity-deny")
    assert batch_get(iam, ALICE, repository_name)[0]["imageId"]["imageDigest"] == image.digest


def test_identity_deny_cli(iam, repository_name):
    create_with_image(iam, ALICE, repository_name, tags=[{"Key": "team", "Value": "payments"}])

    result = aws_as(iam, CAROL, "ecr", "batch-delete-image", "--repository-name", repository_name,
                    "--image-ids", "imageTag=v1")

    assert_cli_denied(result, "BatchDeleteImage", user_arn(OWNER, "carol"), "ecr:BatchDeleteImage",
                      arn(repository_name), "identity-deny")


def test_repository_deny_wins_over_identity_allow(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    bob = user_arn(OWNER, "bob")
    set_policy(iam, ALICE, repository_name, deny(bob, ["ecr:BatchGetImage"]))

    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, BOB, repository_name)
    response = manifest_get(iam, registry_password(iam, BOB), repository_name)

    assert_json_denied(excinfo, bob, "ecr:BatchGetImage", arn(repository_name), "resource-deny")
    assert_v2_denied(response, bob, "ecr:BatchGetImage", arn(repository_name), "resource-deny")
    # Other actions and other principals are untouched.
    assert iam_ecr(iam, BOB).describe_images(repositoryName=repository_name)["imageDetails"][0]["imageDigest"] \
        == image.digest
    assert manifest_get(iam, registry_password(iam, ALICE), repository_name).status_code == 200


def test_repository_deny_applies_to_root(iam, repository_name):
    create_with_image(iam, ROOT, repository_name)
    set_policy(iam, ROOT, repository_name, deny("*", ["ecr:DescribeImages"]))

    with pytest.raises(ClientError) as excinfo:
        iam_ecr(iam, ROOT).describe_images(repositoryName=repository_name)

    assert_json_denied(excinfo, user_arn(OWNER), "ecr:DescribeImages", arn(repository_name), "resource-deny")


def test_repository_deny_naming_the_account_covers_its_users(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name, deny(OWNER, ["ecr:BatchGetImage"]))

    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, ALICE, repository_name)

    assert_json_denied(excinfo, user_arn(OWNER, "alice"), "ecr:BatchGetImage", arn(repository_name), "resource-deny")


def test_not_principal_deny(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    statement = {"Sid": "OnlyAlice", "Effect": "Deny", "NotPrincipal": {"AWS": [user_arn(OWNER, "alice")]},
                 "Action": "ecr:*"}
    set_policy(iam, ALICE, repository_name, statement)
    bob = user_arn(OWNER, "bob")

    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, BOB, repository_name)
    bob_pull = manifest_get(iam, registry_password(iam, BOB), repository_name)
    alice_pull = manifest_get(iam, registry_password(iam, ALICE), repository_name)

    assert_json_denied(excinfo, bob, "ecr:BatchGetImage", arn(repository_name), "resource-deny")
    assert_v2_denied(bob_pull, bob, "ecr:BatchGetImage", arn(repository_name), "resource-deny")
    assert alice_pull.status_code == 200
    assert alice_pull.content == image.manifest


def test_not_principal_deny_applies_across_accounts(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name,
               allow(f"arn:aws:iam::{PARTNER}:root", PULL_ACTIONS),
               {"Sid": "OnlyAlice", "Effect": "Deny", "NotPrincipal": {"AWS": [user_arn(OWNER, "alice")]},
                "Action": "ecr:*"})

    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, ERIN, repository_name, registry_id=OWNER)

    assert_json_denied(excinfo, user_arn(PARTNER, "erin"), "ecr:BatchGetImage", arn(repository_name),
                       "resource-deny")


# aws:SourceIp (the client address is 127.0.0.1)


def test_source_ip_condition_in_identity_policy(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)

    local = manifest_get(iam, registry_password(iam, IP_LOCAL), repository_name)
    with pytest.raises(ClientError) as token:
        iam_ecr(iam, IP_REMOTE).get_authorization_token()
    with pytest.raises(ClientError) as pull:
        batch_get(iam, IP_REMOTE, repository_name)

    assert local.status_code == 200
    assert local.content == image.manifest
    assert batch_get(iam, IP_LOCAL, repository_name)[0]["imageId"]["imageDigest"] == image.digest
    remote = user_arn(OWNER, "ip-remote")
    assert_json_denied(token, remote, "ecr:GetAuthorizationToken", "*", "no-identity-allow")
    assert_json_denied(pull, remote, "ecr:BatchGetImage", arn(repository_name), "no-identity-allow")


def test_repository_deny_outside_loopback_lets_local_clients_in(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name,
               deny("*", ["ecr:BatchGetImage", "ecr:PutImage", "ecr:InitiateLayerUpload"],
                    Condition={"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
    password = registry_password(iam, ALICE)

    pulled = manifest_get(iam, password, repository_name)
    push(iam, password, repository_name, testimages.build_image(repository_name + "-2"), "v2")

    assert pulled.status_code == 200
    assert pulled.content == image.manifest


def test_repository_deny_from_loopback(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name,
               deny("*", ["ecr:BatchGetImage", "ecr:InitiateLayerUpload"],
                    Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
    password = registry_password(iam, ALICE)
    alice = user_arn(OWNER, "alice")

    pulled = manifest_get(iam, password, repository_name)
    upload = v2_as(iam, password, "POST", f"/{repository_name}/blobs/uploads/")
    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, ALICE, repository_name)

    assert_v2_denied(pulled, alice, "ecr:BatchGetImage", arn(repository_name), "resource-deny")
    assert_v2_denied(upload, alice, "ecr:InitiateLayerUpload", arn(repository_name), "resource-deny")
    assert_json_denied(excinfo, alice, "ecr:BatchGetImage", arn(repository_name), "resource-deny")


# Tag conditions: carol pushes only to repositories tagged team=payments


@pytest.fixture
def team_repositories(iam, repository_name) -> dict:
    names = {team: f"{repository_name}-{team}" for team in ("payments", "platform", "untagged")}
    client = iam_ecr(iam, ALICE)
    for team, name in names.items():
        tags = [] if team == "untagged" else [{"Key": "team", "Value": team}]
        client.create_repository(repositoryName=name, tags=tags)
    return names


def test_tag_condition_allows_own_team(iam, team_repositories):
    name = team_repositories["payments"]
    image = testimages.build_image(name)

    push(iam, registry_password(iam, CAROL), name, image, "v1")

    assert batch_get(iam, CAROL, name)[0]["imageId"]["imageDigest"] == image.digest


@pytest.mark.parametrize("team", ["platform", "untagged"])
def test_tag_condition_denies_other_repositories(iam, team_repositories, team):
    name = team_repositories[team]
    image = testimages.build_image(name)
    carol = user_arn(OWNER, "carol")
    password = registry_password(iam, CAROL)

    upload = v2_as(iam, password, "POST", f"/{name}/blobs/uploads/", params={"digest": image.config.digest},
                   data=image.config.data)
    manifest = v2_as(iam, password, "PUT", f"/{name}/manifests/v1", data=image.manifest,
                     headers={"Content-Type": image.media_type})
    with pytest.raises(ClientError) as excinfo:
        iam_ecr(iam, CAROL).put_image(repositoryName=name, imageManifest=image.manifest.decode(), imageTag="v1")

    assert_v2_denied(upload, carol, "ecr:InitiateLayerUpload", arn(name), "no-identity-allow")
    assert_v2_denied(manifest, carol, "ecr:PutImage", arn(name), "no-identity-allow")
    assert_json_denied(excinfo, carol, "ecr:PutImage", arn(name), "no-identity-allow")


def test_tag_condition_follows_retagging(iam, team_repositories):
    name = team_repositories["platform"]
    image = testimages.build_image(name)
    alice = iam_ecr(iam, ALICE)
    resource = arn(name)
    carol_pass = registry_password(iam, CAROL)

    alice.tag_resource(resourceArn=resource, tags=[{"Key": "team", "Value": "payments"}])
    push(iam, carol_pass, name, image, "v1")
    alice.untag_resource(resourceArn=resource, tagKeys=["team"])
    denied = v2_as(iam, carol_pass, "POST", f"/{name}/blobs/uploads/")

    assert_v2_denied(denied, user_arn(OWNER, "carol"), "ecr:InitiateLayerUpload", resource, "no-identity-allow")


# Request tags, policy variables and the other condition keys


def test_request_tag_condition_on_create_repository(iam, repository_name):
    henry = user_arn(OWNER, "henry")
    client = iam_ecr(iam, HENRY)

    created = client.create_repository(repositoryName=repository_name + "-own",
                                       tags=[{"Key": "team", "Value": "payments"}])
    with pytest.raises(ClientError) as other_team:
        client.create_repository(repositoryName=repository_name + "-other", tags=[{"Key": "team", "Value": "platform"}])
    with pytest.raises(ClientError) as extra_key:
        client.create_repository(repositoryName=repository_name + "-extra",
                                 tags=[{"Key": "team", "Value": "payments"}, {"Key": "cost", "Value": "1"}])
    with pytest.raises(ClientError) as untagged:
        client.create_repository(repositoryName=repository_name + "-untagged")

    assert created["repository"]["repositoryArn"] == arn(repository_name + "-own")
    for excinfo, suffix in ((other_team, "-other"), (extra_key, "-extra"), (untagged, "-untagged")):
        assert_json_denied(excinfo, henry, "ecr:CreateRepository", arn(repository_name + suffix),
                           "no-identity-allow")


def test_tag_keys_condition_on_tag_and_untag(iam, repository_name):
    resource = arn(repository_name)
    iam_ecr(iam, ALICE).create_repository(repositoryName=repository_name,
                                          tags=[{"Key": "scratch", "Value": "x"}, {"Key": "team", "Value": "a"}])
    client = iam_ecr(iam, HENRY)
    henry = user_arn(OWNER, "henry")

    client.tag_resource(resourceArn=resource, tags=[{"Key": "team", "Value": "payments"}])
    client.untag_resource(resourceArn=resource, tagKeys=["scratch"])
    with pytest.raises(ClientError) as tag_other_key:
        client.tag_resource(resourceArn=resource, tags=[{"Key": "cost", "Value": "1"}])
    with pytest.raises(ClientError) as untag_team:
        client.untag_resource(resourceArn=resource, tagKeys=["team"])

    assert_json_denied(tag_other_key, henry, "ecr:TagResource", resource, "no-identity-allow")
    assert_json_denied(untag_team, henry, "ecr:UntagResource", resource, "no-identity-allow")
    tags = iam_ecr(iam, ALICE).list_tags_for_resource(resourceArn=resource)["tags"]
    assert tags == [{"Key": "team", "Value": "payments"}]


def test_username_variable_in_resource(iam, repository_name):
    own = f"henry/{repository_name}"
    other = f"ivy/{repository_name}"
    iam_ecr(iam, ALICE).create_repository(repositoryName=own)
    iam_ecr(iam, ALICE).create_repository(repositoryName=other)
    image = testimages.build_image(repository_name)
    password = registry_password(iam, HENRY)

    push(iam, password, own, image, "v1")
    denied = v2_as(iam, password, "POST", f"/{other}/blobs/uploads/")

    assert_v2_denied(denied, user_arn(OWNER, "henry"), "ecr:InitiateLayerUpload", arn(other), "no-identity-allow")
    assert batch_get(iam, HENRY, own)[0]["imageId"]["imageDigest"] == image.digest


def test_condition_keys_of_the_request(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    client = iam_ecr(iam, IVY)
    ivy = user_arn(OWNER, "ivy")
    resource = arn(repository_name)

    described = client.describe_repositories(repositoryNames=[repository_name])["repositories"]
    token = client.get_authorization_token()["authorizationData"]
    images = batch_get(iam, IVY, repository_name)
    tags = client.list_tags_for_resource(resourceArn=resource)["tags"]
    with pytest.raises(ClientError) as policy:
        client.get_repository_policy(repositoryName=repository_name)
    with pytest.raises(ClientError) as before_2020:
        client.list_images(repositoryName=repository_name)
    with pytest.raises(ClientError) as secure_only:
        client.describe_images(repositoryName=repository_name)

    assert described[0]["repositoryArn"] == resource
    assert len(token) == 1
    assert images[0]["imageId"]["imageDigest"] == image.digest
    assert tags == []
    # aws:userid of an IAM user is its unique id (AIDA...): the GetRepositoryPolicy
    # statement matches, so the call reaches the repository and finds no policy.
    assert client_error(policy)[1] == "RepositoryPolicyNotFoundException"
    assert_json_denied(before_2020, ivy, "ecr:ListImages", resource, "no-identity-allow")
    assert_json_denied(secure_only, ivy, "ecr:DescribeImages", resource, "no-identity-allow")


def test_principal_account_condition_with_wildcard_principal(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name,
               {"Effect": "Allow", "Principal": "*", "Action": PULL_ACTIONS,
                "Condition": {"StringEquals": {"aws:PrincipalAccount": PARTNER}}})

    images = batch_get(iam, ERIN, repository_name, registry_id=OWNER)
    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, TOKENONLY, repository_name)

    assert images[0]["imageId"]["imageDigest"] == image.digest
    assert_json_denied(excinfo, user_arn(OWNER, "tokenonly"), "ecr:BatchGetImage", arn(repository_name),
                       "no-identity-allow")


def test_principal_arn_condition_with_wildcard_principal(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name,
               {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:BatchGetImage",
                "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:user/token*"}}})

    allowed = manifest_get(iam, registry_password(iam, TOKENONLY), repository_name)
    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, NOBODY, repository_name)

    assert allowed.status_code == 200
    assert_json_denied(excinfo, user_arn(OWNER, "nobody"), "ecr:BatchGetImage", arn(repository_name),
                       "no-identity-allow")


def test_actions_match_case_insensitively(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name, allow(user_arn(OWNER, "tokenonly"), ["ECR:batchgetimage"]))

    response = manifest_get(iam, registry_password(iam, TOKENONLY), repository_name)

    assert response.status_code == 200


def test_negated_condition_true_when_key_missing(iam, repository_name):
    # bob has no team tag: StringNotEquals on a missing key matches, so the deny applies.
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name,
               deny("*", ["ecr:BatchGetImage"],
                    Condition={"StringNotEquals": {"aws:PrincipalTag/team": "platform"}}))

    alice = manifest_get(iam, registry_password(iam, ALICE), repository_name)
    bob = manifest_get(iam, registry_password(iam, BOB), repository_name)

    assert alice.status_code == 200
    assert_v2_denied(bob, user_arn(OWNER, "bob"), "ecr:BatchGetImage", arn(repository_name), "resource-deny")


def test_not_action_in_repository_policy(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    set_policy(iam, ALICE, repository_name,
               {"Effect": "Allow", "Principal": {"AWS": user_arn(OWNER, "tokenonly")},
                "NotAction": ["ecr:Batch*", "ecr:Delete*"]})
    tokenonly = user_arn(OWNER, "tokenonly")

    described = iam_ecr(iam, TOKENONLY).describe_images(repositoryName=repository_name)["imageDetails"]
    with pytest.raises(ClientError) as excinfo:
        batch_get(iam, TOKENONLY, repository_name)

    assert len(described) == 1
    assert_json_denied(excinfo, tokenonly, "ecr:BatchGetImage", arn(repository_name), "no-identity-allow")


# Registry tokens


def test_tampered_token_denied(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    password = registry_password(iam, ALICE)
    payload, _, mac = password.rpartition(".")
    tampered = payload + "." + ("A" if mac[0] != "A" else "B") + mac[1:]

    response = manifest_get(iam, tampered, repository_name)

    assert oci_denied(response) == (400, [("DENIED", "Your Authorization Token is invalid.")])


def test_token_of_another_server_denied(iam, localecr_binary, tmp_path_factory):
    # Same identities, different server key: the token does not verify.
    work = tmp_path_factory.mktemp("localecr-other")
    other = start_iam_server(localecr_binary, work, write_identities(work / "identities.json", IDENTITIES))
    try:
        password = registry_password(other, ALICE)
    finally:
        other.stop()

    response = v2_as(iam, password, "GET", "/")

    assert oci_denied(response) == (400, [("DENIED", "Your Authorization Token is invalid.")])


TOKEN_LIFETIME_SECONDS = 12 * 3600
EXPIRED_TOKEN = "Your authorization token has expired. Reauthenticate and try again."


@pytest.fixture
def clock_server(localecr_binary, tmp_path):
    """A server of its own, since moving its clock would disturb the module's server."""
    server = start_iam_server(localecr_binary, tmp_path, write_identities(tmp_path / "identities.json", IDENTITIES))
    yield server
    server.stop()


def test_token_valid_until_twelve_hours(clock_server, repository_name):
    image = create_with_image(clock_server, ALICE, repository_name)
    password = registry_password(clock_server, BOB)

    advance_clock(clock_server, TOKEN_LIFETIME_SECONDS - 120)
    response = manifest_get(clock_server, password, repository_name)

    assert response.status_code == 200
    assert response.content == image.manifest


def test_expired_token_denied(clock_server, repository_name):
    create_with_image(clock_server, ALICE, repository_name)
    password = registry_password(clock_server, BOB)

    advance_clock(clock_server, TOKEN_LIFETIME_SECONDS + 60)
    base = v2_as(clock_server, password, "GET", "/")
    manifest = manifest_get(clock_server, password, repository_name)

    assert oci_denied(base) == (403, [("DENIED", EXPIRED_TOKEN)])
    assert oci_denied(manifest) == (403, [("DENIED", EXPIRED_TOKEN)])


def test_expired_token_refused_by_skopeo(clock_server, repository_name, tmp_path):
    create_with_image(clock_server, ALICE, repository_name)
    password = registry_password(clock_server, BOB)
    advance_clock(clock_server, TOKEN_LIFETIME_SECONDS + 60)

    result = skopeo(clock_server, "inspect", "--raw", "--tls-verify=false", "--creds", f"AWS:{password}",
                    f"docker://{clock_server.host}/{repository_name}:v1")

    assert result.returncode != 0
    assert EXPIRED_TOKEN in result.stderr


def test_token_on_other_region_host_denied(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    password = registry_password(iam, ALICE)
    host = registry_host(OWNER, iam.port, region=OTHER_REGION)

    base = v2_as(iam, password, "GET", "/", host=host)
    manifest = manifest_get(iam, password, repository_name, host=host)

    # NOTE: ECR's message for a token used in another region is not documented, only the 400.
    for response in (base, manifest):
        status, errors = oci_denied(response)
        assert status == 400
        assert [code for code, _ in errors] == ["DENIED"]


def test_other_region_token_denied(iam, repository_name):
    create_with_image(iam, ALICE, repository_name)
    password = registry_password(iam, ALICE, region=OTHER_REGION)

    response = manifest_get(iam, password, repository_name, host=registry_host(OWNER, iam.port))

    status, errors = oci_denied(response)
    assert status == 400
    assert [code for code, _ in errors] == ["DENIED"]


def test_token_on_own_account_host_allowed(iam, repository_name):
    image = create_with_image(iam, ALICE, repository_name)

    response = manifest_get(iam, registry_password(iam, BOB), repository_name, host=registry_host(OWNER, iam.port))

    assert response.status_code == 200
    assert response.content == image.manifest


# skopeo, with a token per user


def skopeo(server, *args) -> subprocess.CompletedProcess:
    return subprocess.run([SKOPEO, *args], capture_output=True, text=True, env=server.env, timeout=600)


def skopeo_push(server, keys: Keys, source, repository: str, tag: str = "v1"):
    return skopeo(server, "copy", "--dest-tls-verify=false", "--dest-creds",
                  f"AWS:{registry_password(server, keys)}", f"oci:{source}:latest",
                  f"docker://{server.host}/{repository}:{tag}")


def skopeo_pull(server, keys: Keys, repository: str, destination, tag: str = "v1"):
    return skopeo(server, "copy", "--src-tls-verify=false", "--src-creds", f"AWS:{registry_password(server, keys)}",
                  f"docker://{server.host}/{repository}:{tag}", f"oci:{destination}:latest")


@pytest.fixture
def single_layout(fixture_images, fixture_manifest):
    if shutil.which(SKOPEO) is None:
        pytest.skip(f"{SKOPEO} is not installed")
    return fixture_images / fixture_manifest["single"]["path"]


def test_skopeo_push_and_pull_per_user(iam, team_repositories, single_layout, fixture_manifest, tmp_path):
    payments, platform = team_repositories["payments"], team_repositories["platform"]
    bob = user_arn(OWNER, "bob")

    alice_push = skopeo_push(iam, ALICE, single_layout, platform)
    carol_push = skopeo_push(iam, CAROL, single_layout, payments)
    carol_denied = skopeo_push(iam, CAROL, single_layout, platform, tag="carol")
    bob_denied = skopeo_push(iam, BOB, single_layout, platform, tag="bob")
    bob_pull = skopeo_pull(iam, BOB, platform, tmp_path / "bob")
    tokenonly_denied = skopeo_pull(iam, TOKENONLY, platform, tmp_path / "tokenonly")

    assert alice_push.returncode == 0, alice_push.stderr
    assert carol_push.returncode == 0, carol_push.stderr
    assert bob_pull.returncode == 0, bob_pull.stderr
    # skopeo first checks with HEAD whether each blob exists, which carol may not do on platform.
    # A HEAD response has no body, so skopeo shows only the status.
    assert carol_denied.returncode != 0
    assert "403 (Forbidden)" in carol_denied.stderr
    assert bob_denied.returncode != 0
    assert denial_message(bob, "ecr:PutImage", arn(platform), "no-identity-allow") in bob_denied.stderr
    assert tokenonly_denied.returncode != 0
    assert denial_message(user_arn(OWNER, "tokenonly"), "ecr:BatchGetImage", arn(platform),
                          "no-identity-allow") in tokenonly_denied.stderr
    digest = fixture_manifest["single"]["digest"]
    listed = iam_ecr(iam, ALICE).list_images(repositoryName=platform)["imageIds"]
    assert listed == [{"imageDigest": digest, "imageTag": "v1"}]


def test_skopeo_pull_allowed_by_repository_policy_only(iam, repository_name, single_layout, tmp_path):
    iam_ecr(iam, ALICE).create_repository(repositoryName=repository_name)
    assert skopeo_push(iam, ALICE, single_layout, repository_name).returncode == 0
    before = skopeo_pull(iam, TOKENONLY, repository_name, tmp_path / "before")
    set_policy(iam, ALICE, repository_name, allow(user_arn(OWNER, "tokenonly"), PULL_ACTIONS))

    after = skopeo_pull(iam, TOKENONLY, repository_name, tmp_path / "after")

    assert before.returncode != 0
    assert after.returncode == 0, after.stderr


# docker, through a private dockerd


@pytest.fixture(scope="module")
def docker(iam, tmp_path_factory):
    from test_docker import private_docker
    yield from private_docker(iam.env, tmp_path_factory)


def docker_login(docker, server, keys: Keys):
    result = docker.run("login", "--username", "AWS", "--password-stdin", server.host,
                        input=registry_password(server, keys), check=False)
    assert result.returncode == 0, result.stderr
    assert "Login Succeeded" in result.stdout


@pytest.mark.slow
def test_docker_login_push_pull_per_user(iam, docker, team_repositories, fixture_images, fixture_manifest):
    entry = fixture_manifest["single-docker-archive"]
    docker.run("load", "--input", str(fixture_images / entry["path"]))
    platform, payments = team_repositories["platform"], team_repositories["payments"]
    target = f"{iam.host}/{platform}:v1"
    docker.run("tag", entry["reference"], target)
    denied_target = f"{iam.host}/{payments}:bob"
    docker.run("tag", entry["reference"], denied_target)

    docker_login(docker, iam, ALICE)
    docker.run("push", target)
    docker_login(docker, iam, BOB)
    docker.run("rmi", "--force", target)
    docker.run("pull", target)
    bob_push = docker.run("push", denied_target, check=False)
    docker_login(docker, iam, CAROL)
    carol_pull = docker.run("pull", target, check=False)

    assert docker.image_id(target) == entry["configDigest"]
    assert bob_push.returncode != 0
    bob = user_arn(OWNER, "bob")
    assert "denied: " + denial_message(bob, "ecr:InitiateLayerUpload", arn(payments), "no-identity-allow") \
        in bob_push.stderr
    assert carol_pull.returncode != 0
    assert "denied: " + denial_message(user_arn(OWNER, "carol"), "ecr:BatchGetImage", arn(platform),
                                       "no-identity-allow") in carol_pull.stderr

