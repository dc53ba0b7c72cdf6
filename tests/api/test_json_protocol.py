"""The awsJson1_1 wire protocol of the ECR API: targets, signatures, bodies and error shapes."""

import pytest


def error_of(response):
    body = response.json()
    return body["__type"], body.get("message", "")


def test_success_has_request_id(server):
    response = server.ecr_request("DescribeRepositories", {})

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-amz-json-1.1")
    assert response.headers.get("x-amzn-RequestId", "") != ""


def test_error_has_request_id_and_shape(server):
    response = server.ecr_request("DescribeRepositories", {"repositoryNames": ["does-not-exist"]})

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/x-amz-json-1.1")
    assert response.headers.get("x-amzn-RequestId", "") != ""
    code, message = error_of(response)
    assert code == "RepositoryNotFoundException"
    assert message != ""


def test_request_ids_differ(server):
    first = server.ecr_request("DescribeRepositories", {})
    second = server.ecr_request("DescribeRepositories", {})

    assert first.headers["x-amzn-RequestId"] != second.headers["x-amzn-RequestId"]


def test_unsigned_request_rejected(server):
    response = server.ecr_request("DescribeRepositories", {}, sign=False)

    assert 400 <= response.status_code < 500
    code, message = error_of(response)
    assert code == "MissingAuthenticationTokenException"
    assert "missing authentication token" in message.lower()


def test_incomplete_signature_rejected(server):
    response = server.ecr_request("DescribeRepositories", {}, sign=False,
                                  headers={"Authorization": "AWS4-HMAC-SHA256 garbage",
                                           "X-Amz-Date": "20240101T000000Z"})

    assert response.status_code == 400
    code, _ = error_of(response)
    assert code == "IncompleteSignatureException"


def test_unknown_operation_rejected(server):
    response = server.ecr_request("FlyToTheMoon", {})

    assert response.status_code == 400
    code, _ = error_of(response)
    assert code == "UnknownOperationException"


def test_missing_target_rejected(server):
    response = server.ecr_request("DescribeRepositories", {},
                                  headers={"X-Amz-Target": ""})

    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\"text\""])
def test_malformed_body_rejected(server, body):
    response = server.ecr_request("DescribeRepositories", body)

    assert response.status_code == 400
    code, _ = error_of(response)
    assert code == "SerializationException"


def test_wrong_member_type_rejected(server):
    response = server.ecr_request("DescribeRepositories", {"repositoryNames": "not-a-list"})

    assert response.status_code == 400
    code, _ = error_of(response)
    assert code in ("SerializationException", "InvalidParameterException", "ValidationException")


def test_target_prefix_required(server):
    response = server.ecr_request("DescribeRepositories", {},
                                  headers={"X-Amz-Target": "SomeOtherService_20200101.DescribeRepositories"})

    assert response.status_code == 400
    code, _ = error_of(response)
    assert code == "UnknownOperationException"



def test_oversized_body_rejected(server):
    body = b'{"repositoryName": "' + b"a" * (16 * 1024 * 1024) + b'"}'

    response = server.ecr_request("CreateRepository", body)

    assert 400 <= response.status_code < 500
    assert server.ecr_request("DescribeRepositories", {}).status_code == 200
