"""GetAuthorizationToken, the /v2/ Basic challenge, and registry login with the token."""

import base64
import datetime

import pytest
import requests

from harness import ACCOUNT_ID, REGION, decode_basic_token, oci_error_codes

CHALLENGE = (f'Basic realm="https://{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/",'
             'service="ecr.amazonaws.com"')


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def assert_denied(response: requests.Response):
    assert 400 <= response.status_code < 500
    assert "DENIED" in oci_error_codes(response)


def test_token_shape(server):
    before = datetime.datetime.now(datetime.timezone.utc)

    data = server.ecr.get_authorization_token()["authorizationData"]

    assert len(data) == 1
    user, password = decode_basic_token(data[0]["authorizationToken"])
    assert user == "AWS"
    assert password != ""
    expected_expiry = before + datetime.timedelta(hours=12)
    assert abs((data[0]["expiresAt"] - expected_expiry).total_seconds()) < 60
    assert data[0]["proxyEndpoint"] == f"http://{server.host}"


def test_token_raw_response_shape(server):
    response = server.ecr_request("GetAuthorizationToken", {})

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-amz-json-1.1")
    data = response.json()["authorizationData"][0]
    # awsJson1_1 serialises timestamps as epoch seconds in a JSON number.
    assert isinstance(data["expiresAt"], (int, float))
    assert isinstance(data["authorizationToken"], str)


def test_token_proxy_endpoint_follows_host(server):
    response = server.ecr_request("GetAuthorizationToken", {},
                                  headers={"Host": f"localhost:{server.port}"})

    assert response.json()["authorizationData"][0]["proxyEndpoint"] == f"http://localhost:{server.port}"


def test_token_with_registry_ids(server):
    # registryIds is deprecated and does not change the token's scope.
    data = server.ecr.get_authorization_token(registryIds=[ACCOUNT_ID])["authorizationData"]

    assert len(data) == 1
    assert decode_basic_token(data[0]["authorizationToken"])[0] == "AWS"


def test_login_password_matches_token_format(server):
    password = server.login_password()

    assert password != ""
    assert "\n" not in password
    response = server.v2("GET", "/", auth=False, headers={"Authorization": basic("AWS", password)})
    assert response.status_code == 200


def test_v2_without_credentials_challenged(server):
    response = server.v2("GET", "/", auth=False)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert response.text.strip() == "Not Authorized"


@pytest.mark.parametrize("method,path", [
    ("GET", "/some-repository/tags/list"),
    ("HEAD", "/some-repository/manifests/latest"),
    ("GET", "/some-repository/blobs/sha256:" + "0" * 64),
    ("POST", "/some-repository/blobs/uploads/"),
])
def test_every_v2_route_challenged(server, method, path):
    response = server.v2(method, path, auth=False)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_v2_with_token_accepted(server):
    response = server.v2("GET", "/")

    assert response.status_code == 200
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_v2_wrong_password_denied(server):
    password = server.login_password()

    response = server.v2("GET", "/", auth=False,
                         headers={"Authorization": basic("AWS", password[:-4] + "abcd")})

    assert_denied(response)


def test_v2_arbitrary_password_denied(server):
    response = server.v2("GET", "/", auth=False, headers={"Authorization": basic("AWS", "secret")})

    assert_denied(response)


def test_v2_wrong_user_denied(server):
    password = server.login_password()

    response = server.v2("GET", "/", auth=False, headers={"Authorization": basic("admin", password)})

    assert_denied(response)


@pytest.mark.parametrize("header", ["Basic", "Basic !!!not-base64!!!", "Bearer abc", "Basic " +
                                    base64.b64encode(b"no-colon").decode()])
def test_v2_malformed_authorization_rejected(server, header):
    response = server.v2("GET", "/", auth=False, headers={"Authorization": header})

    assert 400 <= response.status_code < 500


def test_tokens_from_cli_and_sdk_both_valid(server):
    cli_password = server.login_password()
    sdk_user, sdk_password = decode_basic_token(
        server.ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"])

    for password in (cli_password, sdk_password):
        response = server.v2("GET", "/", auth=False, headers={"Authorization": basic(sdk_user, password)})
        assert response.status_code == 200
