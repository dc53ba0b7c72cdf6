"""The server clock: --clock, GET and POST /_localecr/clock, and what reads it.

Push times, registry token expiry, layer download URLs and upload session
expiry all follow the server clock, so a test can age things by moving it
instead of waiting. Lifecycle ages are tested in test_lifecycle.py.
"""

import datetime
import re
import subprocess
import time

import pytest

import testimages
from harness import (LocalEcrServer, advance_clock, decode_basic_token, find_free_port, oci_denied,
                     oci_error_codes, server_now, set_clock, v2_as)

START = "2024-01-01T00:00:00Z"
CLOCK_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
TOKEN_LIFETIME_SECONDS = 12 * 3600
EXPIRED_TOKEN = "Your authorization token has expired. Reauthenticate and try again."
DAY = 86400
# How far the clock may run on in real time between a move and the check that follows it.
SLACK_SECONDS = 30
CLOCK_ERROR = "expected {\"now\": \"<RFC 3339 time>\"} or {\"advance_seconds\": <number>}"


@pytest.fixture(scope="module")
def server(localecr_binary, tmp_path_factory):
    """The module's server, started with --clock. Tests that need a known time set it first."""
    server = LocalEcrServer(localecr_binary, tmp_path_factory.mktemp("localecr-clock"), ["--clock", START])
    server.start()
    yield server
    server.stop()


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_near(actual: datetime.datetime, expected: datetime.datetime, slack: float = SLACK_SECONDS,
                early: float = 1.0):
    """Check that `actual` is at most `slack` seconds after `expected`, and at most `early` seconds before it.

    The default `early` of one second lets the tests whose subject is something else pass while a set
    clock reads a second early (test_set_clock checks that with `early=0`).
    """
    difference = (actual - expected).total_seconds()
    assert -early <= difference <= slack, f"{actual} is not within {slack} s after {expected}"


def clock_post(server, body: bytes):
    return server.http.post(server.url + "/_localecr/clock", data=body,
                            headers={"Content-Type": "application/json"}, timeout=30)


# GET and POST /_localecr/clock


def test_clock_starts_at_option(localecr_binary, tmp_path):
    server = LocalEcrServer(localecr_binary, tmp_path / "localecr", ["--clock", "2031-02-03T04:05:06Z"])
    server.start()
    try:
        response = server.http.get(server.url + "/_localecr/clock", timeout=30)
    finally:
        server.stop()

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["now"]
    assert CLOCK_FORMAT.fullmatch(body["now"]), body
    assert_near(utc(body["now"]), datetime.datetime(2031, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc))


def test_clock_runs_in_real_time(server):
    before = server_now(server)
    time.sleep(2.1)
    after = server_now(server)

    assert 2 <= (after - before).total_seconds() <= 2 + SLACK_SECONDS


@pytest.mark.parametrize("given, expected", [
    ("2030-05-06T07:08:09Z", "2030-05-06T07:08:09Z"),
    ("2030-05-06T09:08:09+02:00", "2030-05-06T07:08:09Z"),
    ("2030-05-06T02:08:09-05:00", "2030-05-06T07:08:09Z"),
    ("2030-05-06T07:08:09.750Z", "2030-05-06T07:08:09Z"),
])
def test_set_clock(server, given, expected):
    response = clock_post(server, b'{"now": "%s"}' % given.encode())

    # The clock reads the time it was set to, not a second before (the response has whole seconds).
    assert response.status_code == 200, response.text
    assert_near(utc(response.json()["now"]), utc(expected), slack=2, early=0)
    assert_near(server_now(server), utc(expected), slack=SLACK_SECONDS, early=0)


def test_set_clock_backwards(server):
    set_clock(server, "2030-01-01T00:00:00Z")

    moved = set_clock(server, "2020-06-01T00:00:00Z")

    assert_near(moved, utc("2020-06-01T00:00:00Z"), slack=2)
    assert_near(server_now(server), utc("2020-06-01T00:00:00Z"))


@pytest.mark.parametrize("seconds", [1, 3600, 12 * 3600 + 1, 90 * DAY, -DAY, 0.5])
def test_advance_clock(server, seconds):
    set_clock(server, "2030-01-01T00:00:00Z")
    before = server_now(server)

    response = clock_post(server, b'{"advance_seconds": %s}' % str(seconds).encode())

    assert response.status_code == 200, response.text
    after = utc(response.json()["now"])
    # The response has whole seconds, so allow one second of rounding either way.
    assert seconds - 1 <= (after - before).total_seconds() <= seconds + 1 + SLACK_SECONDS


@pytest.mark.parametrize("body", [
    b"",
    b"{}",
    b"not json",
    b"[]",
    b'"2030-01-01T00:00:00Z"',
    b'{"now": "yesterday"}',
    b'{"now": "2030-01-01"}',
    b'{"now": "2030-01-01T00:00:00"}',
    b'{"now": "2030-01-01T00:00:00Zjunk"}',
    b'{"now": 1893456000}',
    b'{"now": null}',
    b'{"advance_seconds": "60"}',
    b'{"advance_seconds": null}',
    b'{"now": "2030-01-01T00:00:00Z", "advance_seconds": 60}',
], ids=lambda body: body.decode() or "empty")
def test_set_clock_rejects_invalid_body(server, body):
    set_clock(server, "2030-01-01T00:00:00Z")

    response = clock_post(server, body)

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"error": "invalid_parameter", "message": CLOCK_ERROR}
    assert_near(server_now(server), utc("2030-01-01T00:00:00Z"))


@pytest.mark.parametrize("value", ["yesterday", "2024-01-01", "2024-01-01T00:00:00", "2024-13-01T00:00:00Z", ""])
def test_invalid_clock_option_rejected(localecr_binary, tmp_path, value):
    command = [str(localecr_binary), "serve", "--listen", f"127.0.0.1:{find_free_port()}",
               "--data-dir", str(tmp_path / "data"), "--clock", value]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"localecr serve --clock {value!r} started instead of refusing the value")

    assert result.returncode == 2, result.stderr
    assert f"invalid --clock '{value}'" in result.stderr


# What follows the clock


def test_push_times_follow_clock(server, repository, seed):
    start = set_clock(server, "2030-03-01T12:00:00Z")
    first = testimages.build_image(seed + "-first")
    server.push_image(repository, first, tag="first")
    advance_clock(server, 3 * DAY)
    server.renew_token()
    second = testimages.build_image(seed + "-second")
    server.push_image(repository, second, tag="second")

    details = {detail["imageDigest"]: detail
               for detail in server.ecr.describe_images(repositoryName=repository)["imageDetails"]}
    cli = {detail["imageDigest"]: detail
           for detail in server.aws_json("ecr", "describe-images", "--repository-name", repository)["imageDetails"]}

    assert_near(details[first.digest]["imagePushedAt"], start)
    assert_near(details[second.digest]["imagePushedAt"], start + datetime.timedelta(days=3))
    assert_near(utc(cli[second.digest]["imagePushedAt"]).astimezone(datetime.timezone.utc),
                start + datetime.timedelta(days=3))


def test_repository_created_at_follows_clock(server, repository_name):
    start = set_clock(server, "2029-07-04T00:00:00Z")

    created = server.create_repository(repository_name)

    assert_near(created["createdAt"], start)


def test_authorization_token_expires_at_follows_clock(server):
    start = set_clock(server, "2030-01-01T00:00:00Z")

    data = server.ecr.get_authorization_token()["authorizationData"][0]

    assert_near(data["expiresAt"], start + datetime.timedelta(seconds=TOKEN_LIFETIME_SECONDS))


def fresh_password(server) -> str:
    token = server.ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return decode_basic_token(token)[1]


def test_token_valid_just_before_twelve_hours(server, repository, seed):
    image = testimages.build_image(seed)
    server.renew_token()
    server.push_image(repository, image, tag="v1")
    password = fresh_password(server)

    advance_clock(server, TOKEN_LIFETIME_SECONDS - 60)
    base = v2_as(server, password, "GET", "/")
    manifest = v2_as(server, password, "GET", f"/{repository}/manifests/v1", headers={"Accept": image.media_type})

    assert base.status_code == 200, base.text
    assert manifest.status_code == 200, manifest.text
    assert manifest.content == image.manifest


def test_token_expired_after_twelve_hours(server, repository, seed):
    image = testimages.build_image(seed)
    server.renew_token()
    server.push_image(repository, image, tag="v1")
    password = fresh_password(server)

    advance_clock(server, TOKEN_LIFETIME_SECONDS + 1)
    base = v2_as(server, password, "GET", "/")
    manifest = v2_as(server, password, "GET", f"/{repository}/manifests/v1", headers={"Accept": image.media_type})
    blob = v2_as(server, password, "GET", f"/{repository}/blobs/{image.config.digest}")
    upload = v2_as(server, password, "POST", f"/{repository}/blobs/uploads/")

    assert oci_denied(base) == (403, [("DENIED", EXPIRED_TOKEN)])
    assert oci_denied(manifest) == (403, [("DENIED", EXPIRED_TOKEN)])
    assert oci_denied(blob) == (403, [("DENIED", EXPIRED_TOKEN)])
    assert oci_denied(upload) == (403, [("DENIED", EXPIRED_TOKEN)])
    # Reauthenticating gives a token that works at the new time.
    renewed = v2_as(server, fresh_password(server), "GET", f"/{repository}/manifests/v1",
                    headers={"Accept": image.media_type})
    assert renewed.status_code == 200, renewed.text


def test_layer_download_url_expires_after_an_hour(server, repository, seed):
    image = testimages.build_image(seed)
    server.renew_token()
    server.push_image(repository, image, tag="v1")
    layer = image.layers[0]
    url = server.ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=layer.digest)["downloadUrl"]

    advance_clock(server, 3600 - 60)
    fresh = server.http.get(url, timeout=30)
    advance_clock(server, 120)
    stale = server.http.get(url, timeout=30)

    assert fresh.status_code == 200
    assert fresh.content == layer.data
    assert stale.status_code == 403, stale.text


def test_upload_session_expiry_follows_clock(localecr_binary, tmp_path):
    # A day of --upload-expiry, checked every second (half the --lifecycle-interval).
    expiry = DAY
    server = LocalEcrServer(localecr_binary, tmp_path / "localecr",
                            ["--clock", START, "--upload-expiry", str(expiry), "--lifecycle-interval", "2"])
    server.start()
    try:
        server.create_repository("uploads")
        started = server.v2("POST", "/uploads/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = server.absolute(started.headers["Location"])
        session = started.headers["Docker-Upload-UUID"]

        time.sleep(3)
        assert server.v2("GET", location).status_code == 204
        assert session in server.upload_files()

        advance_clock(server, expiry + 1)
        server.renew_token()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and session in server.upload_files():
            time.sleep(0.2)
        gone = server.v2("GET", location)
    finally:
        server.stop()

    assert session not in server.upload_files()
    assert gone.status_code == 404, gone.text
    assert oci_error_codes(gone) == ["BLOB_UPLOAD_UNKNOWN"]


ACCESS_DURATION = re.compile(r'access id=\S+ client=\S+ method=(\S+) path="([^"]*)" .* ms=(-?[0-9.]+)')


def test_access_log_durations_ignore_clock_moves(server):
    set_clock(server, "2030-01-01T00:00:00Z")
    server.mark_log()

    advance_clock(server, DAY)
    advance_clock(server, -2 * DAY)
    server_now(server)

    log = server.wait_for_log('method=GET path="/_localecr/clock"', server.log_mark)
    lines = ACCESS_DURATION.findall(log)
    durations = [(method, path, float(ms)) for method, path, ms in lines]
    # The line of the first clock move may be written after the mark, so there are three or four.
    assert len(durations) >= 3, durations
    # A request's duration is real elapsed time, whatever the server clock did meanwhile.
    for method, path, ms in durations:
        assert 0 <= ms < 10000, f"{method} {path} logged ms={ms}"
