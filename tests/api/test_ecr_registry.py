"""Registry-wide ECR operations: DescribeRegistry, account settings and repository resource tags.

GetAccountSetting and PutAccountSetting are missing from Debian's boto3, so
they are sent as signed raw JSON. Account settings are registry-wide, so
those tests each get a server of their own.
"""

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT_ID, REGION, client_error, repository_not_found_message

SETTINGS = {
    "BASIC_SCAN_TYPE_VERSION": ("AWS_NATIVE", ["AWS_NATIVE", "CLAIR"]),
    "REGISTRY_POLICY_SCOPE": ("V2", ["V1", "V2"]),
    "BLOB_MOUNTING": ("DISABLED", ["ENABLED", "DISABLED"]),
}
TAGS_MAX = 50


def call(server, operation: str, body: dict) -> dict:
    response = server.ecr_request(operation, body)
    assert response.status_code == 200, f"{operation}: HTTP {response.status_code} {response.text}"
    return response.json()


def error_of(response) -> tuple:
    return response.status_code, response.json()["__type"]


def get_setting(server, name: str) -> str:
    body = call(server, "GetAccountSetting", {"name": name})
    assert body["name"] == name
    return body["value"]


def repository_arn(name: str, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


def tags_of(server, arn: str) -> dict:
    return {tag["Key"]: tag["Value"] for tag in server.ecr.list_tags_for_resource(resourceArn=arn)["tags"]}


def numbered_tags(count: int, prefix: str = "key") -> list:
    return [{"Key": f"{prefix}{index}", "Value": f"value{index}"} for index in range(count)]


def expect_error(call_, **kwargs) -> tuple:
    with pytest.raises(ClientError) as excinfo:
        call_(**kwargs)
    return client_error(excinfo)


# DescribeRegistry


def test_describe_registry(server):
    response = server.ecr.describe_registry()

    assert response["registryId"] == ACCOUNT_ID
    assert response["replicationConfiguration"] == {"rules": []}


def test_describe_registry_with_other_account(server_factory):
    server = server_factory("--account-id", "123456789012")

    response = server.ecr.describe_registry()

    assert response["registryId"] == "123456789012"


def test_describe_registry_raw_shape(server):
    body = call(server, "DescribeRegistry", {})

    assert body == {"registryId": ACCOUNT_ID, "replicationConfiguration": {"rules": []}}


# Account settings


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_account_setting_default(fresh_server, name):
    assert get_setting(fresh_server, name) == SETTINGS[name][0]


@pytest.mark.parametrize("name,value", [(name, value) for name in sorted(SETTINGS)
                                        for value in SETTINGS[name][1]])
def test_put_account_setting(fresh_server, name, value):
    body = call(fresh_server, "PutAccountSetting", {"name": name, "value": value})

    assert body == {"name": name, "value": value}
    assert get_setting(fresh_server, name) == value


def test_account_settings_are_independent(fresh_server):
    call(fresh_server, "PutAccountSetting", {"name": "BLOB_MOUNTING", "value": "ENABLED"})
    call(fresh_server, "PutAccountSetting", {"name": "REGISTRY_POLICY_SCOPE", "value": "V1"})

    assert get_setting(fresh_server, "BLOB_MOUNTING") == "ENABLED"
    assert get_setting(fresh_server, "REGISTRY_POLICY_SCOPE") == "V1"
    assert get_setting(fresh_server, "BASIC_SCAN_TYPE_VERSION") == "AWS_NATIVE"


def test_account_setting_can_be_put_back(fresh_server):
    call(fresh_server, "PutAccountSetting", {"name": "BLOB_MOUNTING", "value": "ENABLED"})
    call(fresh_server, "PutAccountSetting", {"name": "BLOB_MOUNTING", "value": "DISABLED"})

    assert get_setting(fresh_server, "BLOB_MOUNTING") == "DISABLED"


def test_account_setting_survives_restart(fresh_server):
    call(fresh_server, "PutAccountSetting", {"name": "BASIC_SCAN_TYPE_VERSION", "value": "CLAIR"})

    fresh_server.restart()

    assert get_setting(fresh_server, "BASIC_SCAN_TYPE_VERSION") == "CLAIR"


@pytest.mark.parametrize("operation,body", [
    ("GetAccountSetting", {"name": "NO_SUCH_SETTING"}),
    ("GetAccountSetting", {"name": "blob_mounting"}),
    ("PutAccountSetting", {"name": "NO_SUCH_SETTING", "value": "ENABLED"}),
])
def test_account_setting_unknown_name(fresh_server, operation, body):
    response = fresh_server.ecr_request(operation, body)

    assert error_of(response) == (400, "InvalidParameterException")
    assert response.json()["message"] != ""


@pytest.mark.parametrize("name,value", [
    ("BLOB_MOUNTING", "YES"),
    ("BLOB_MOUNTING", "V2"),
    ("REGISTRY_POLICY_SCOPE", "V3"),
    ("REGISTRY_POLICY_SCOPE", "ENABLED"),
    ("BASIC_SCAN_TYPE_VERSION", "DISABLED"),
    ("BASIC_SCAN_TYPE_VERSION", "V2"),
])
def test_account_setting_bad_value(fresh_server, name, value):
    default = SETTINGS[name][0]

    response = fresh_server.ecr_request("PutAccountSetting", {"name": name, "value": value})

    assert error_of(response) == (400, "InvalidParameterException")
    assert get_setting(fresh_server, name) == default


# Resource tags


def test_tag_list_untag(server, repository):
    arn = repository_arn(repository)

    server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "core"},
                                                   {"Key": "env", "Value": ""}])
    assert tags_of(server, arn) == {"team": "core", "env": ""}

    server.ecr.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert tags_of(server, arn) == {"team": "core"}


def test_tag_with_created_repository_arn(server, repository_name):
    arn = server.create_repository(repository_name)["repositoryArn"]

    server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "a", "Value": "b"}])

    assert tags_of(server, arn) == {"a": "b"}
    assert arn == repository_arn(repository_name)


def test_tag_overwrites_value(server, repository):
    arn = repository_arn(repository)
    server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "core"}])

    server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "edge"}])

    assert tags_of(server, arn) == {"team": "edge"}


def test_new_repository_has_no_tags(server, repository):
    assert server.ecr.list_tags_for_resource(resourceArn=repository_arn(repository))["tags"] == []


def test_untag_missing_key_succeeds(server, repository):
    arn = repository_arn(repository)
    server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "keep", "Value": "1"}])

    server.ecr.untag_resource(resourceArn=arn, tagKeys=["never-set"])

    assert tags_of(server, arn) == {"keep": "1"}


def test_create_repository_tags_readable(server, repository_name):
    server.create_repository(repository_name, tags=[{"Key": "owner", "Value": "alice"},
                                                    {"Key": "cost-center", "Value": "42"}])

    assert tags_of(server, repository_arn(repository_name)) == {"owner": "alice", "cost-center": "42"}


def test_tags_gone_after_recreate(server, repository_name):
    arn = repository_arn(repository_name)
    server.create_repository(repository_name, tags=[{"Key": "old", "Value": "1"}])
    server.ecr.delete_repository(repositoryName=repository_name)

    server.create_repository(repository_name)

    assert tags_of(server, arn) == {}


def test_tags_are_per_repository(server, repository, repository_name):
    other = repository_name + "-other"
    server.create_repository(other)

    server.ecr.tag_resource(resourceArn=repository_arn(repository), tags=[{"Key": "only", "Value": "here"}])

    assert tags_of(server, repository_arn(other)) == {}


def test_fifty_tags_allowed(server, repository):
    arn = repository_arn(repository)

    server.ecr.tag_resource(resourceArn=arn, tags=numbered_tags(TAGS_MAX))

    assert len(tags_of(server, arn)) == TAGS_MAX


def test_fifty_one_tags_rejected(server, repository):
    arn = repository_arn(repository)

    status, code, _ = expect_error(server.ecr.tag_resource, resourceArn=arn, tags=numbered_tags(TAGS_MAX + 1))

    assert (status, code) == (400, "TooManyTagsException")
    assert tags_of(server, arn) == {}


def test_tag_limit_counts_existing_keys(server, repository):
    arn = repository_arn(repository)
    server.ecr.tag_resource(resourceArn=arn, tags=numbered_tags(45, "old"))

    status, code, _ = expect_error(server.ecr.tag_resource, resourceArn=arn, tags=numbered_tags(6, "new"))

    assert (status, code) == (400, "TooManyTagsException")
    assert sorted(tags_of(server, arn)) == sorted(tag["Key"] for tag in numbered_tags(45, "old"))


def test_tag_limit_reached_exactly(server, repository):
    arn = repository_arn(repository)
    server.ecr.tag_resource(resourceArn=arn, tags=numbered_tags(45, "old"))

    server.ecr.tag_resource(resourceArn=arn, tags=numbered_tags(5, "new"))

    assert len(tags_of(server, arn)) == TAGS_MAX


def test_retagging_existing_keys_at_limit(server, repository):
    arn = repository_arn(repository)
    server.ecr.tag_resource(resourceArn=arn, tags=numbered_tags(TAGS_MAX))

    server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "key0", "Value": "changed"}])

    tags = tags_of(server, arn)
    assert len(tags) == TAGS_MAX
    assert tags["key0"] == "changed"


def test_tag_after_untag_at_limit(server, repository):
    arn = repository_arn(repository)
    server.ecr.tag_resource(resourceArn=arn, tags=numbered_tags(TAGS_MAX))
    status, code, _ = expect_error(server.ecr.tag_resource, resourceArn=arn,
                                   tags=[{"Key": "extra", "Value": "1"}])
    assert (status, code) == (400, "TooManyTagsException")

    server.ecr.untag_resource(resourceArn=arn, tagKeys=["key7"])
    server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "extra", "Value": "1"}])

    tags = tags_of(server, arn)
    assert len(tags) == TAGS_MAX
    assert "extra" in tags
    assert "key7" not in tags


def test_create_repository_too_many_tags(server, repository_name):
    status, code, _ = expect_error(server.ecr.create_repository, repositoryName=repository_name,
                                   tags=numbered_tags(TAGS_MAX + 1))

    assert (status, code) == (400, "TooManyTagsException")
    names = [repo["repositoryName"] for repo in server.ecr.describe_repositories()["repositories"]]
    assert repository_name not in names


@pytest.mark.parametrize("tag", [
    {"Key": "aws:owner", "Value": "x"},
    {"Key": "k" * 129, "Value": "x"},
    {"Key": "", "Value": "x"},
    {"Key": "long-value", "Value": "v" * 257},
], ids=["aws-prefix", "key-129", "key-empty", "value-257"])
def test_invalid_tag_rejected(server, repository, tag):
    arn = repository_arn(repository)

    status, code, message = expect_error(server.ecr_unchecked.tag_resource, resourceArn=arn,
                                         tags=[{"Key": "good", "Value": "1"}, tag])

    assert (status, code) == (400, "InvalidTagParameterException")
    assert message != ""
    assert tags_of(server, arn) == {}


def test_longest_key_and_value_accepted(server, repository):
    arn = repository_arn(repository)

    server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "k" * 128, "Value": "v" * 256}])

    assert tags_of(server, arn) == {"k" * 128: "v" * 256}


def test_create_repository_reserved_tag_key(server, repository_name):
    status, code, _ = expect_error(server.ecr.create_repository, repositoryName=repository_name,
                                   tags=[{"Key": "aws:team", "Value": "x"}])

    assert (status, code) == (400, "InvalidTagParameterException")


def test_untag_invalid_key_rejected(server, repository):
    status, code, _ = expect_error(server.ecr_unchecked.untag_resource, resourceArn=repository_arn(repository),
                                   tagKeys=["k" * 129])

    assert (status, code) == (400, "InvalidTagParameterException")


@pytest.mark.parametrize("arn", [
    "not-an-arn",
    "arn:aws:s3:::bucket",
    f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/",
    f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repo/name",
    f"arn:aws:ecr:{REGION}:12345:repository/name",
    f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/UPPER",
], ids=["plain", "s3", "no-name", "wrong-type", "short-account", "bad-name"])
@pytest.mark.parametrize("operation", ["list", "tag", "untag"])
def test_malformed_arn_rejected(server, arn, operation):
    calls = {
        "list": lambda: server.ecr.list_tags_for_resource(resourceArn=arn),
        "tag": lambda: server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "a", "Value": "b"}]),
        "untag": lambda: server.ecr.untag_resource(resourceArn=arn, tagKeys=["a"]),
    }

    status, code, _ = expect_error(calls[operation])

    assert (status, code) == (400, "InvalidParameterException")


@pytest.mark.parametrize("operation", ["list", "tag", "untag"])
def test_unknown_repository_arn(server, repository_name, operation):
    arn = repository_arn(repository_name)
    calls = {
        "list": lambda: server.ecr.list_tags_for_resource(resourceArn=arn),
        "tag": lambda: server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "a", "Value": "b"}]),
        "untag": lambda: server.ecr.untag_resource(resourceArn=arn, tagKeys=["a"]),
    }

    status, code, message = expect_error(calls[operation])

    assert (status, code) == (400, "RepositoryNotFoundException")
    assert message == repository_not_found_message(repository_name)


def test_tags_survive_restart(fresh_server, repository_name):
    arn = repository_arn(repository_name)
    fresh_server.create_repository(repository_name, tags=[{"Key": "a", "Value": "1"}])
    fresh_server.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "b", "Value": "2"}])

    fresh_server.restart()

    assert tags_of(fresh_server, arn) == {"a": "1", "b": "2"}
