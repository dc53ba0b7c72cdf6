"""The localecr server process under test and helpers that check its responses.

Each server listens on an ephemeral loopback port with its own temporary data
directory and writes its log to a file. Every client is pointed at 127.0.0.1
explicitly, and the AWS CLI and boto3 get dummy credentials and an empty
config, so no test contacts another host.
"""

import base64
import copy
import datetime
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.parse
from pathlib import Path

import boto3
import botocore.config
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import testimages

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "000000000000"
REGION = "us-east-1"
AWS_CLI = "/usr/bin/aws"
JSON_TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
HEALTH_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 10.0
HTTP_TIMEOUT_SECONDS = 60
LOG_SECTION_MAX_CHARS = 20000
STORE_COMMAND_TIMEOUT_SECONDS = 120

# Lines that AddressSanitizer and UndefinedBehaviorSanitizer write when they find an error.
SANITIZER_REPORT = re.compile(r"ERROR: (?:Address|Leak|Thread|Memory)Sanitizer|runtime error:")

# Servers whose process should be running; failed tests get their recent log.
running_servers = []


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def loopback_environment(config_dir: Path) -> dict:
    """Return an environment for CLI tools that keeps AWS and HTTP traffic on loopback."""
    config_dir.mkdir(parents=True, exist_ok=True)
    config_file = config_dir / "config"
    credentials_file = config_dir / "credentials"
    config_file.write_text(f"[default]\nregion = {REGION}\noutput = json\n")
    credentials_file.write_text("")
    env = {key: value for key, value in os.environ.items()
           if not key.upper().endswith("_PROXY") and not key.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(config_file),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials_file),
        "NO_PROXY": "127.0.0.1,localhost,::1",
        "HOME": str(config_dir),
    })
    return env


class LocalEcrServer:
    """One localecr process, with clients for both of its APIs."""

    def __init__(self, binary: Path, work_dir: Path, extra_args=()):
        self.binary = binary
        self.work_dir = work_dir
        self.data_dir = work_dir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = work_dir / "server.log"
        self.extra_args = list(extra_args)
        self.env = loopback_environment(work_dir / "aws-config")
        self.port = find_free_port()
        self.process = None
        self.log_mark = 0
        self.http = requests.Session()
        self.http.trust_env = False
        self._ecr = None
        self._basic_auth = None

    # Process control

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self):
        command = [str(self.binary), "serve", "--listen", self.host,
                   "--data-dir", str(self.data_dir), "--log-level", "debug", *self.extra_args]
        with open(self.log_path, "ab") as log:
            log.write(f"=== start: {' '.join(command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, env=self.env)
        running_servers.append(self)
        try:
            self.wait_until_healthy()
        except Exception:
            self.stop()
            raise

    def wait_until_healthy(self):
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        last_error = None
        while time.monotonic() < deadline:
            status = self.process.poll()
            if status is not None:
                raise RuntimeError(f"localecr exited with status {status} during start-up:\n"
                                   f"{self.read_log()}")
            try:
                response = self.http.get(self.url + "/_localecr/health", timeout=1)
                if response.status_code == 200:
                    return
                last_error = f"health returned HTTP {response.status_code}: {response.text!r}"
            except requests.RequestException as error:
                last_error = repr(error)
            time.sleep(0.05)
        raise RuntimeError(f"localecr did not become healthy within {HEALTH_TIMEOUT_SECONDS} s "
                           f"({last_error}):\n{self.read_log()}")

    def stop(self) -> int:
        """Send SIGTERM, wait, and return the exit status (SIGKILL after a timeout)."""
        if self in running_servers:
            running_servers.remove(self)
        if self.process is None:
            return 0
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.http.close()
        return process.returncode

    def thread_client(self) -> "LocalEcrServer":
        """Return a handle on this server with its own HTTP session, for use from another thread.

        requests.Session and boto3 clients are not thread-safe, so each thread needs its own.
        """
        self.basic_auth  # Fetch the token once, so threads do not race to fill the cache.
        clone = copy.copy(self)
        clone.http = requests.Session()
        clone.http.trust_env = False
        clone._ecr = None
        return clone

    def kill(self):
        """Send SIGKILL, as a crash would, and wait for the process to end."""
        if self in running_servers:
            running_servers.remove(self)
        process, self.process = self.process, None
        process.kill()
        process.wait()

    def restart(self):
        """Stop the server and start it again on the same port and data directory."""
        self.stop()
        self.start()

    def read_log(self, since: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(since)
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def mark_log(self):
        self.log_mark = self.log_path.stat().st_size if self.log_path.exists() else 0

    def wait_for_log(self, text: str, since: int = 0, timeout: float = 5.0) -> str:
        """Return the log written after offset `since` once it contains `text`, or whatever is there after `timeout`.

        A request's access line is written when its response completes, which can be after the client has read it.
        """
        deadline = time.monotonic() + timeout
        log = self.read_log(since)
        while text not in log and time.monotonic() < deadline:
            time.sleep(0.05)
            log = self.read_log(since)
        return log

    # AWS CLI and boto3

    def aws(self, *args, input=None, check=True) -> subprocess.CompletedProcess:
        """Run /usr/bin/aws against this server and return the completed process."""
        command = [AWS_CLI, "--endpoint-url", self.url, "--region", REGION, *args]
        result = subprocess.run(command, input=input, capture_output=True, text=True,
                                env=self.env, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n"
                                 f"stdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def aws_json(self, *args):
        return json.loads(self.aws(*args, "--output", "json").stdout)

    def boto3_client(self, region=REGION, **config):
        return boto3.client(
            "ecr", endpoint_url=self.url, region_name=region,
            aws_access_key_id="test", aws_secret_access_key="test",
            config=botocore.config.Config(retries={"max_attempts": 1}, **config))

    @property
    def ecr(self):
        """boto3 ECR client; botocore's client-side checks are on."""
        if self._ecr is None:
            self._ecr = self.boto3_client()
        return self._ecr

    @property
    def ecr_unchecked(self):
        """boto3 ECR client that sends parameters botocore would reject, to test the server's checks."""
        return self.boto3_client(parameter_validation=False)

    def login_password(self) -> str:
        return self.aws("ecr", "get-login-password").stdout.strip()

    @property
    def basic_auth(self) -> str:
        """Authorization header value for /v2/, from one GetAuthorizationToken call per server."""
        if self._basic_auth is None:
            token = self.ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
            self._basic_auth = "Basic " + token
        return self._basic_auth

    def renew_token(self):
        """Forget the cached /v2/ token, so the next request gets a new one.

        Tokens last 12 hours on the server's clock, so tests that move the clock further renew them.
        """
        self._basic_auth = None

    # Raw JSON API

    def ecr_request(self, operation: str, body, *, sign=True, headers=None) -> requests.Response:
        """POST one ECR JSON API request; `body` is a dict or raw bytes."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request_headers = {"Content-Type": "application/x-amz-json-1.1",
                           "X-Amz-Target": JSON_TARGET_PREFIX + operation}
        request_headers.update(headers or {})
        if sign:
            signed = AWSRequest(method="POST", url=self.url + "/", data=data, headers=request_headers)
            SigV4Auth(Credentials("test", "test"), "ecr", REGION).add_auth(signed)
            request_headers = dict(signed.headers.items())
        return self.http.post(self.url + "/", data=data, headers=request_headers,
                              timeout=HTTP_TIMEOUT_SECONDS)

    # Raw /v2/ API

    def v2(self, method: str, path: str, *, auth=True, headers=None, **kwargs) -> requests.Response:
        """Send one registry request; `path` starts after /v2 or is a full Location URL."""
        url = path if path.startswith("http") else self.url + "/v2" + path
        request_headers = {"Authorization": self.basic_auth} if auth else {}
        request_headers.update(headers or {})
        kwargs.setdefault("timeout", HTTP_TIMEOUT_SECONDS)
        kwargs.setdefault("allow_redirects", False)
        return self.http.request(method, url, headers=request_headers, **kwargs)

    def absolute(self, location: str) -> str:
        return location if location.startswith("http") else self.url + location

    def push_blob(self, repository: str, data: bytes) -> requests.Response:
        """Upload a blob in one POST with ?digest= and require 201 Created."""
        digest = testimages.sha256_digest(data)
        response = self.v2("POST", f"/{repository}/blobs/uploads/", params={"digest": digest},
                           data=data, headers={"Content-Type": "application/octet-stream"})
        assert response.status_code == 201, (
            f"monolithic upload of {digest} to {repository}: HTTP {response.status_code} {response.text}")
        return response

    def put_manifest(self, repository: str, reference: str, manifest: bytes,
                     media_type: str) -> requests.Response:
        return self.v2("PUT", f"/{repository}/manifests/{reference}", data=manifest,
                       headers={"Content-Type": media_type})

    def push_image(self, repository: str, image, tag=None) -> str:
        """Push the blobs and manifests of an Image or ImageIndex; return the top digest."""
        children = image.images if isinstance(image, testimages.ImageIndex) else []
        for child in children:
            self.push_image(repository, child)
        if not children:
            for blob in image.blobs:
                self.push_blob(repository, blob.data)
        response = self.put_manifest(repository, tag or image.digest, image.manifest, image.media_type)
        assert response.status_code == 201, (
            f"manifest PUT to {repository}:{tag or image.digest}: HTTP {response.status_code} {response.text}")
        return image.digest

    def create_repository(self, name: str, **kwargs) -> dict:
        return self.ecr.create_repository(repositoryName=name, **kwargs)["repository"]

    # Store maintenance commands on this server's data directory

    def store_command(self, command: str, *args, data_dir=None) -> subprocess.CompletedProcess:
        """Run `localecr fsck` or `localecr gc` on the data directory and return the completed process.

        Fails the calling test when the command's stderr contains a sanitizer report.
        """
        argv = [str(self.binary), command, "--data-dir", str(data_dir or self.data_dir), *args]
        result = subprocess.run(argv, capture_output=True, text=True, env=self.env,
                                timeout=STORE_COMMAND_TIMEOUT_SECONDS)
        reports = sanitizer_reports(result.stderr)
        assert not reports, f"{' '.join(argv)} wrote sanitizer reports:\n" + "\n".join(reports)
        return result

    def fsck(self, *args, **kwargs) -> subprocess.CompletedProcess:
        return self.store_command("fsck", *args, **kwargs)

    def gc(self, *args, **kwargs) -> subprocess.CompletedProcess:
        return self.store_command("gc", *args, **kwargs)

    # Files in the data directory

    def blob_file(self, digest: str) -> Path:
        """Path where the store keeps the bytes of blob `digest` (sha256:<hex>)."""
        hex_digest = digest.split(":", 1)[1]
        return self.data_dir / "blobs" / "sha256" / hex_digest[:2] / hex_digest

    def blob_files(self) -> set:
        """Digests of every file under blobs/sha256/, whatever the database records."""
        root = self.data_dir / "blobs" / "sha256"
        return {"sha256:" + path.name for path in root.glob("*/*") if path.is_file()}

    def upload_files(self) -> set:
        """Names of the files under uploads/ (one per upload session, named by its UUID)."""
        return {path.name for path in (self.data_dir / "uploads").iterdir()}

    def query_database(self, sql: str) -> list:
        """Run `sql` on localecr.db through a read-only SQLite connection and return the rows."""
        connection = sqlite3.connect(f"file:{self.data_dir / 'localecr.db'}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()


# Assertion helpers shared by the test modules


def client_error(excinfo) -> tuple:
    """Return (HTTP status, error code, message) of a botocore ClientError."""
    response = excinfo.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"],
            response["Error"]["Code"], response["Error"]["Message"])


def oci_error_codes(response: requests.Response) -> list:
    """Return the `code` of each entry of an OCI error body."""
    body = response.json()
    return [error["code"] for error in body["errors"]]


def repository_not_found_message(name: str) -> str:
    return f"The repository with name '{name}' does not exist in the registry with id '{ACCOUNT_ID}'"


def sanitizer_reports(text: str) -> list:
    """Return the lines of `text` that start or name a sanitizer error report."""
    return [line for line in text.splitlines() if SANITIZER_REPORT.search(line)]


def fsck_lines(result: subprocess.CompletedProcess, kind: str) -> list:
    """Return the `problem:` or `note:` lines (per `kind`) that localecr fsck printed."""
    prefix = kind + ": "
    return [line for line in result.stdout.splitlines() if line.startswith(prefix)]


def decode_basic_token(token: str) -> tuple:
    """Split a base64 'user:password' authorization token into (user, password)."""
    user, _, password = base64.b64decode(token).decode().partition(":")
    return user, password


# IAM mode (--auth iam): identities files, per-principal clients and AWS's denial messages

EXAMPLE_IDENTITIES = REPO_ROOT / "fixtures" / "identities.example.json"
SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
STS_NAMESPACE = "{https://sts.amazonaws.com/doc/2011-06-15/}"

# The `because` or `with` clause of each kind of denial, after the resource.
DENIAL_REASONS = {
    "no-identity-allow": "because no identity-based policy allows the {action} action",
    "no-resource-allow": "because no resource-based policy allows the {action} action",
    "identity-deny": "with an explicit deny in an identity-based policy",
    "resource-deny": "with an explicit deny in a resource-based policy",
}


class Keys:
    """An access key of an identities file: long-term, or temporary with a session token."""

    def __init__(self, access_key_id: str, secret_access_key: str, session_token: str = None):
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token

    def credentials(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key, self.session_token)

    def with_changes(self, **changes) -> "Keys":
        fields = {"access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key,
                  "session_token": self.session_token}
        fields.update(changes)
        return Keys(**fields)

    def environment(self, base: dict) -> dict:
        """Return `base` with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN set to these keys."""
        env = {key: value for key, value in base.items() if key != "AWS_SESSION_TOKEN"}
        env["AWS_ACCESS_KEY_ID"] = self.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key
        if self.session_token is not None:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


def load_identities(path: Path = EXAMPLE_IDENTITIES) -> dict:
    return json.loads(Path(path).read_text())


def write_identities(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document, indent=2))
    return path


def account_of(document: dict, account_id: str) -> dict:
    for account in document["accounts"]:
        if account["id"] == account_id:
            return account
    raise KeyError(f"no account {account_id} in the identities document")


def user_keys(document: dict, account_id: str, user: str = None) -> Keys:
    """Keys of a user of an identities document, or of the account's root user when `user` is None."""
    account = account_of(document, account_id)
    if user is None:
        key = account["root_access_keys"][0]
    else:
        key = next(entry for entry in account["users"] if entry["name"] == user)["access_keys"][0]
    return Keys(key["access_key_id"], key["secret_access_key"], key.get("session_token"))


def user_arn(account_id: str, user: str = None) -> str:
    return f"arn:aws:iam::{account_id}:root" if user is None else f"arn:aws:iam::{account_id}:user/{user}"


def repository_arn(account_id: str, name: str, region: str = REGION) -> str:
    return f"arn:aws:ecr:{region}:{account_id}:repository/{name}"


def denial_message(principal_arn: str, action: str, resource: str, reason: str) -> str:
    """AWS's AccessDenied message; `reason` is a key of DENIAL_REASONS."""
    return (f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} "
            + DENIAL_REASONS[reason].format(action=action))


def policy_document(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def registry_host(account_id: str, port: int, region: str = REGION, suffix: str = "localhost") -> str:
    return f"{account_id}.dkr.ecr.{region}.{suffix}:{port}"


def sign_request(keys: Keys, method: str, url: str, data: bytes, headers: dict, *, service: str = "ecr",
                 region: str = REGION, when: datetime.datetime = None) -> dict:
    """Return `headers` plus a SigV4 signature made with botocore's SigV4Auth, at `when` (UTC) if given."""
    request = AWSRequest(method=method, url=url, data=data, headers=headers)
    signer = SigV4Auth(keys.credentials(), service, region)
    moment = when or datetime.datetime.now(datetime.timezone.utc)
    request.context["timestamp"] = moment.strftime(SIGV4_TIMESTAMP)
    # SigV4Auth.add_auth without its own clock reading.
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signer._inject_signature_to_request(request, signer.signature(signer.string_to_sign(request, canonical),
                                                                  request))
    return dict(request.headers.items())


def _iam_client(server, keys: Keys, service: str, region: str):
    return boto3.client(
        service, endpoint_url=server.url, region_name=region,
        aws_access_key_id=keys.access_key_id, aws_secret_access_key=keys.secret_access_key,
        aws_session_token=keys.session_token,
        config=botocore.config.Config(retries={"max_attempts": 1}))


def iam_ecr(server, keys: Keys, region: str = REGION):
    """boto3 ECR client of `server` signing with `keys`."""
    return _iam_client(server, keys, "ecr", region)


def iam_sts(server, keys: Keys, region: str = REGION):
    """boto3 STS client of `server` signing with `keys`."""
    return _iam_client(server, keys, "sts", region)


def aws_as(server, keys: Keys, *args, check=False) -> subprocess.CompletedProcess:
    """Run /usr/bin/aws against `server` with `keys` in the environment."""
    command = [AWS_CLI, "--endpoint-url", server.url, "--region", REGION, "--output", "json", *args]
    result = subprocess.run(command, capture_output=True, text=True, env=keys.environment(server.env),
                            timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n"
                             f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def signed_ecr_request(server, keys: Keys, operation: str, body, *, region: str = REGION, when=None,
                       headers=None, sign_headers=None) -> requests.Response:
    """POST one ECR JSON API request signed with `keys`; `headers` are added after signing."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request_headers = {"Content-Type": "application/x-amz-json-1.1",
                       "X-Amz-Target": JSON_TARGET_PREFIX + operation}
    request_headers.update(sign_headers or {})
    request_headers = sign_request(keys, "POST", server.url + "/", data, request_headers, region=region, when=when)
    request_headers.update(headers or {})
    return server.http.post(server.url + "/", data=data, headers=request_headers, timeout=HTTP_TIMEOUT_SECONDS)


def json_error(response: requests.Response) -> tuple:
    """Return (HTTP status, __type, message) of an ECR JSON API error response."""
    body = response.json()
    return response.status_code, body.get("__type"), body.get("message")


def registry_password(server, keys: Keys, region: str = REGION) -> str:
    """The password half of a GetAuthorizationToken token minted for `keys`."""
    token = iam_ecr(server, keys, region).get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return decode_basic_token(token)[1]


def basic_authorization(password: str) -> str:
    return "Basic " + base64.b64encode(f"AWS:{password}".encode()).decode()


def v2_as(server, password: str, method: str, path: str, *, host: str = None, headers=None,
          **kwargs) -> requests.Response:
    """Send one /v2/ request with a registry password, to `host` (a Host header) when given."""
    request_headers = {"Authorization": basic_authorization(password)}
    if host is not None:
        request_headers["Host"] = host
    request_headers.update(headers or {})
    kwargs.setdefault("timeout", HTTP_TIMEOUT_SECONDS)
    kwargs.setdefault("allow_redirects", False)
    return server.http.request(method, server.url + "/v2" + path, headers=request_headers, **kwargs)


def oci_denied(response: requests.Response) -> tuple:
    """Return (HTTP status, [(code, message), ...]) of a /v2/ error response."""
    return response.status_code, [(error["code"], error["message"]) for error in response.json()["errors"]]


def start_iam_server(binary: Path, work_dir: Path, identities: Path, *extra_args) -> LocalEcrServer:
    """Start a server in IAM mode with an identities file."""
    server = LocalEcrServer(binary, work_dir, ["--auth", "iam", "--identities", str(identities), *extra_args])
    server.start()
    return server


def signed_sts_request(server, keys: Keys, params: dict, *, region: str = REGION, when=None) -> requests.Response:
    """POST one STS query-protocol request (form body) signed with `keys`."""
    data = urllib.parse.urlencode(dict(params, Version="2011-06-15")).encode()
    headers = sign_request(keys, "POST", server.url + "/", data,
                           {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                           service="sts", region=region, when=when)
    return server.http.post(server.url + "/", data=data, headers=headers, timeout=HTTP_TIMEOUT_SECONDS)


def server_now(server) -> datetime.datetime:
    """The server's clock (GET /_localecr/clock), which --clock and POST /_localecr/clock move."""
    response = server.http.get(server.url + "/_localecr/clock", timeout=HTTP_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    return datetime.datetime.fromisoformat(response.json()["now"].replace("Z", "+00:00"))


def set_clock(server, now: str) -> datetime.datetime:
    """Set the server's clock to `now` (RFC 3339) and return its new time."""
    response = server.http.post(server.url + "/_localecr/clock", json={"now": now}, timeout=HTTP_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    return datetime.datetime.fromisoformat(response.json()["now"].replace("Z", "+00:00"))


def advance_clock(server, seconds: float) -> datetime.datetime:
    """Move the server's clock forward and return its new time."""
    response = server.http.post(server.url + "/_localecr/clock", json={"advance_seconds": seconds},
                                timeout=HTTP_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    return datetime.datetime.fromisoformat(response.json()["now"].replace("Z", "+00:00"))


# Polling, fixture layouts, scans and the audit trail

SKOPEO = "/usr/bin/skopeo"
VULN_DB = REPO_ROOT / "fixtures" / "vulndb" / "osv"
EXPECTED_FINDINGS = REPO_ROOT / "fixtures" / "vulndb" / "expected-findings.json"
SCAN_TIMEOUT_SECONDS = 60.0
# Audit records are written in batches every 200 ms; this is how long a test waits for one.
AUDIT_TIMEOUT_SECONDS = 10.0


def wait_until(probe, timeout: float, interval: float = 0.1, what: str = "the condition"):
    """Call `probe` until it returns a true value and return that value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def skopeo_push(server, layout: Path, repository: str, tag: str = "latest", *, all_images=False,
                password: str = None) -> subprocess.CompletedProcess:
    """Copy the `latest` image of an OCI layout to `repository:tag` on the server with skopeo."""
    command = [SKOPEO, "copy", *(["--all"] if all_images else []), "--dest-tls-verify=false",
               "--dest-creds", f"AWS:{password or server.login_password()}",
               f"oci:{layout}:latest", f"docker://{server.host}/{repository}:{tag}"]
    result = subprocess.run(command, capture_output=True, text=True, env=server.env, timeout=1800)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stderr}")
    return result


def layout_blob(layout: Path, digest: str) -> bytes:
    algorithm, hex_digest = digest.split(":")
    return (layout / "blobs" / algorithm / hex_digest).read_bytes()


def push_layout_image(server, layout: Path, repository: str, reference: str = None) -> dict:
    """Push the `latest` single-platform image of an OCI layout with raw /v2/ requests.

    The manifest goes to `reference` (its digest when None). Returns its descriptor.
    """
    index = json.loads((layout / "index.json").read_text())
    descriptor = next(entry for entry in index["manifests"]
                      if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest")
    manifest = layout_blob(layout, descriptor["digest"])
    document = json.loads(manifest)
    for blob in [document["config"], *document["layers"]]:
        server.push_blob(repository, layout_blob(layout, blob["digest"]))
    response = server.put_manifest(repository, reference or descriptor["digest"], manifest, descriptor["mediaType"])
    assert response.status_code == 201, response.text
    return {"mediaType": descriptor["mediaType"], "digest": descriptor["digest"], "size": len(manifest)}


def expected_findings(fixture: str) -> list:
    """The `findings` that fixtures/vulndb/expected-findings.json lists for a fixture image."""
    return json.loads(EXPECTED_FINDINGS.read_text())["images"][fixture]["findings"]


def wait_for_scan(server, repository: str, image_id: dict, timeout: float = SCAN_TIMEOUT_SECONDS,
                  client=None) -> dict:
    """Poll DescribeImageScanFindings until the scan is no longer IN_PROGRESS; return the response."""
    ecr = client or server.ecr

    def finished():
        response = ecr.describe_image_scan_findings(repositoryName=repository, imageId=image_id)
        return response if response["imageScanStatus"]["status"] != "IN_PROGRESS" else None

    return wait_until(finished, timeout, 0.2, f"the scan of {image_id} in {repository}")


def audit_records(server, **query) -> list:
    """GET /_localecr/audit with the given filters (eventName, principal, errorCode, since, until, limit)."""
    response = server.http.get(server.url + "/_localecr/audit", params=query, timeout=HTTP_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    return response.json()["Records"]


def audit_cli(server, *args, data_dir=None) -> subprocess.CompletedProcess:
    """Run `localecr audit ARGS --data-dir DIR` and return the completed process."""
    argv = [str(server.binary), "audit", *args[:1], "--data-dir", str(data_dir or server.data_dir), *args[1:]]
    return subprocess.run(argv, capture_output=True, text=True, env=server.env, timeout=STORE_COMMAND_TIMEOUT_SECONDS)


def audit_query(server, sql: str) -> list:
    """Rows of `localecr audit query --json SQL` as dicts; fails the test on a non-zero exit."""
    result = audit_cli(server, "query", "--json", sql)
    assert result.returncode == 0, f"audit query exited with {result.returncode}: {result.stderr}"
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


# Admin endpoints for CI suites: reset, state and fault injection (docs/configuration.md)


def reset_server(server) -> requests.Response:
    """Send POST /_localecr/reset, which empties the whole store, and return the response."""
    return server.http.post(server.url + "/_localecr/reset", timeout=HTTP_TIMEOUT_SECONDS)


def server_state(server) -> dict:
    """Return the counts, clock and auth mode of GET /_localecr/state."""
    response = server.http.get(server.url + "/_localecr/state", timeout=HTTP_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    return response.json()


def post_fault(server, body) -> requests.Response:
    """Send one fault rule (a dict, or raw bytes for malformed bodies) to POST /_localecr/faults."""
    if isinstance(body, bytes):
        return server.http.post(server.url + "/_localecr/faults", data=body,
                                headers={"Content-Type": "application/json"}, timeout=HTTP_TIMEOUT_SECONDS)
    return server.http.post(server.url + "/_localecr/faults", json=body, timeout=HTTP_TIMEOUT_SECONDS)


def add_fault(server, **rule) -> dict:
    """Add a fault rule such as add_fault(server, operation="PutImage", fault="throttle", count=2)."""
    response = post_fault(server, rule)
    assert response.status_code == 201, f"fault rule {rule}: HTTP {response.status_code} {response.text}"
    return response.json()


def fault_rules(server) -> list:
    """Return the rules of GET /_localecr/faults, each with its `fired` count."""
    response = server.http.get(server.url + "/_localecr/faults", timeout=HTTP_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    return response.json()["faults"]


def clear_faults(server):
    response = server.http.delete(server.url + "/_localecr/faults", timeout=HTTP_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text


def recent_events(server) -> list:
    """Return the EventBridge events of GET /_localecr/events."""
    response = server.http.get(server.url + "/_localecr/events", params={"limit": 1000},
                               timeout=HTTP_TIMEOUT_SECONDS)
    assert response.status_code == 200, response.text
    return response.json()["events"]
