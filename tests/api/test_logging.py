"""The server's log on stderr: one access line per request, and no credentials."""

import testimages
from harness import decode_basic_token


def test_access_line_per_request(server, repository_name):
    since = server.log_path.stat().st_size

    response = server.v2("GET", f"/{repository_name}/tags/list")

    assert response.status_code == 404
    log = server.wait_for_log(repository_name, since)
    lines = [line for line in log.splitlines() if repository_name in line]
    assert len(lines) == 1
    assert "404" in lines[0]
    assert "GET" in lines[0]


def test_json_action_logged(server, repository_name):
    since = server.log_path.stat().st_size

    server.ecr.create_repository(repositoryName=repository_name)

    log = server.wait_for_log(repository_name, since)
    lines = [line for line in log.splitlines() if repository_name in line]
    assert len(lines) == 1
    assert "CreateRepository" in lines[0]


def test_credentials_not_logged(server, repository, seed):
    since = server.log_path.stat().st_size
    token = server.ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    _, password = decode_basic_token(token)
    signed = server.ecr_request("DescribeRepositories", {"repositoryNames": [repository]})
    signature = signed.request.headers["Authorization"].rsplit("Signature=", 1)[1]
    server.push_image(repository, testimages.build_image(seed), tag="v1")
    server.v2("GET", "/", auth=False, headers={"Authorization": "Basic " + token})

    log = server.wait_for_log(repository, since)

    assert password not in log
    assert token not in log
    assert signature not in log
    assert server.basic_auth.split(" ", 1)[1] not in log
