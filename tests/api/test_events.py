"""EventBridge-format events: envelopes, detail types, rules, targets and delivery.

Every event goes to --events-file (one JSON line each) and to the ring behind
GET /_localecr/events; --event-rules sends the events that match a rule's
EventBridge pattern to its webhook and file targets (ecr-semantics.md §6.1 and
§6.3). Webhook receivers are http.server instances on 127.0.0.1 started by
the tests; a rule with a webhook to another host makes the server fail to start.
"""

import collections
import http.server
import json
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import testimages
from harness import (ACCOUNT_ID, REGION, VULN_DB, expected_findings, find_free_port,
                     push_layout_image, repository_arn, wait_for_scan, wait_until)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DELIVERY_TIMEOUT_SECONDS = 15.0
# Webhook retries pause 1, 2, 4 and 8 seconds: five attempts in all.
RETRY_PAUSES = [1, 2, 4, 8]


# A webhook receiver on loopback


@dataclass
class Received:
    at: float
    path: str
    headers: dict
    body: bytes
    status: int

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    """HTTP server on 127.0.0.1 that records every POST.

    It responds to the first requests with the statuses in `statuses`, and to later ones with `then`.
    """

    def __init__(self, statuses=(), then=200):
        self.statuses = list(statuses)
        self.then = then
        self.requests = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # so that curl's Expect: 100-continue gets a response at once

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.then
                    receiver.requests.append(Received(time.monotonic(), self.path, dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def received(self) -> list:
        with self.lock:
            return list(self.requests)

    def events(self) -> list:
        return [request.event for request in self.received()]

    def wait_for(self, count, timeout=DELIVERY_TIMEOUT_SECONDS) -> list:
        return wait_until(lambda: self.received() if len(self.received()) >= count else None, timeout, 0.05,
                          f"{count} webhook requests")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receivers():
    """Start webhook receivers for the test and shut them down when it ends."""
    started = []

    def start(statuses=(), then=200) -> WebhookReceiver:
        receiver = WebhookReceiver(statuses, then)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


def rules_file(tmp_path, *rules) -> Path:
    path = tmp_path / "event-rules.json"
    path.write_text(json.dumps({"rules": list(rules)}, indent=2))
    return path


def rule(name, pattern, *targets) -> dict:
    return {"name": name, "event_pattern": pattern, "targets": list(targets)}


def webhook(url) -> dict:
    return {"type": "webhook", "url": url}


def file_target(path) -> dict:
    return {"type": "file", "path": str(path)}


@pytest.fixture
def event_server(server_factory, tmp_path):
    """Start a server with an events file, the sample vulnerability database and the given rules."""
    def start(*rules, extra_args=()):
        args = ["--events-file", str(tmp_path / "events.jsonl"), "--vuln-db", str(VULN_DB), *extra_args]
        if rules:
            args += ["--event-rules", str(rules_file(tmp_path, *rules))]
        server = server_factory(*args)
        server.events_file = tmp_path / "events.jsonl"
        return server
    return start


def read_lines(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for_lines(path: Path, predicate, what, timeout=DELIVERY_TIMEOUT_SECONDS) -> list:
    return wait_until(lambda: (lambda lines: lines if predicate(lines) else None)(read_lines(path)), timeout, 0.05,
                      what)


def deliveries(server) -> list:
    response = server.http.get(server.url + "/_localecr/events/deliveries", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


def ring(server, after=None) -> dict:
    params = {} if after is None else {"after": after}
    response = server.http.get(server.url + "/_localecr/events", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def of_type(events, detail_type, **detail) -> list:
    return [event for event in events if event["detail-type"] == detail_type
            and all(event["detail"].get(key.replace("_", "-")) == value for key, value in detail.items())]


def assert_envelope(event, detail_type, resources=()):
    assert list(event)[:8] == ["version", "id", "detail-type", "source", "account", "time", "region", "resources"]
    assert event["version"] == "0"
    assert UUID.match(event["id"]), event["id"]
    assert event["detail-type"] == detail_type
    assert event["source"] == "aws.ecr"
    assert event["account"] == ACCOUNT_ID
    assert EVENT_TIME.match(event["time"]), event["time"]
    assert event["region"] == REGION
    assert event["resources"] == list(resources)


def push_apps(server, fixture_images, fixture_manifest, repository, tag="v1") -> str:
    return push_layout_image(server, fixture_images / fixture_manifest["apps"]["path"], repository, tag)["digest"]


def apps_counts() -> dict:
    return dict(collections.Counter(entry["severity"] for entry in expected_findings("apps")))


# Webhooks


def test_webhook_gets_push_and_scan_events(event_server, receivers, fixture_images, fixture_manifest):
    receiver = receivers()
    server = event_server(rule("everything", {"source": ["aws.ecr"]}, webhook(receiver.url("/ecr/events"))))
    server.create_repository("hooked", imageScanningConfiguration={"scanOnPush": True})

    digest = push_apps(server, fixture_images, fixture_manifest, "hooked")
    wait_for_scan(server, "hooked", {"imageDigest": digest})
    received = receiver.wait_for(2)

    (push,) = of_type([request.event for request in received], "ECR Image Action")
    (scan,) = of_type([request.event for request in received], "ECR Image Scan")
    assert all(request.path == "/ecr/events" for request in received)
    assert all(request.headers.get("Content-Type") == "application/json" for request in received)
    assert_envelope(push, "ECR Image Action")
    assert push["detail"] == {"result": "SUCCESS", "repository-name": "hooked", "action-type": "PUSH",
                              "image-digest": digest, "image-tag": "v1"}
    assert_envelope(scan, "ECR Image Scan", [repository_arn(ACCOUNT_ID, "hooked")])
    assert scan["detail"] == {"scan-status": "COMPLETE", "repository-name": "hooked",
                              "finding-severity-counts": apps_counts(), "image-digest": digest,
                              "image-tags": ["v1"]}
    log = deliveries(server)
    for event in (push, scan):
        (entry,) = [item for item in log if item["eventId"] == event["id"]]
        assert (entry["rule"], entry["url"], entry["attempt"], entry["status"], entry["final"]) == (
            "everything", receiver.url("/ecr/events"), 1, 200, True)
    assert len(receiver.received()) == 2


def test_webhook_retry_after_two_500s(event_server, receivers, seed):
    receiver = receivers(statuses=[500, 500])
    server = event_server(rule("flaky", {"detail-type": ["ECR Image Action"]}, webhook(receiver.url())))
    server.create_repository("flaky")

    digest = server.push_image("flaky", testimages.build_image(seed), tag="v1")
    received = receiver.wait_for(3)
    time.sleep(2.5)  # no fourth attempt follows the success

    assert [request.status for request in receiver.received()] == [500, 500, 200]
    assert len({request.body for request in received}) == 1
    event = received[0].event
    assert event["detail"]["image-digest"] == digest
    log = [entry for entry in deliveries(server) if entry["eventId"] == event["id"]]
    assert [(entry["attempt"], entry["status"], entry["final"]) for entry in log] == [
        (1, 500, False), (2, 500, False), (3, 200, True)]
    assert all(entry["rule"] == "flaky" and entry["url"] == receiver.url() for entry in log)
    assert log[0]["error"]
    assert log[1]["error"]
    assert not log[2]["error"]


def test_webhook_gives_up_after_five_attempts(event_server, receivers, seed):
    failing = receivers(then=500)
    closed = f"http://127.0.0.1:{find_free_port()}/nobody"
    server = event_server(rule("doomed", {"detail-type": ["ECR Image Action"]}, webhook(failing.url()),
                               webhook(closed)))
    server.create_repository("doomed")
    image = testimages.build_image(seed)
    for blob in image.blobs:
        server.push_blob("doomed", blob.data)
    # Push late in a wall-clock second, so that a pause rounded to whole seconds shows as a short pause.
    wait_until(lambda: 0.6 <= time.time() % 1 < 0.7, 2, 0.005, "60 % of a second")

    response = server.put_manifest("doomed", "v1", image.manifest, image.media_type)
    received = failing.wait_for(5, timeout=30)
    time.sleep(9)  # a sixth attempt would come 16 s after the fifth at the latest

    assert response.status_code == 201, response.text
    assert len(failing.received()) == 5
    pauses = [later.at - earlier.at for earlier, later in zip(received, received[1:])]
    for pause, expected in zip(pauses, RETRY_PAUSES):
        assert expected - 0.25 <= pause <= expected + 1.5, f"pauses {pauses}, expected {RETRY_PAUSES}"
    log = deliveries(server)
    to_failing = [entry for entry in log if entry["url"] == failing.url()]
    to_closed = [entry for entry in log if entry["url"] == closed]
    assert [(entry["attempt"], entry["status"], entry["final"]) for entry in to_failing] == [
        (1, 500, False), (2, 500, False), (3, 500, False), (4, 500, False), (5, 500, True)]
    assert [(entry["attempt"], entry["status"], entry["final"]) for entry in to_closed] == [
        (1, 0, False), (2, 0, False), (3, 0, False), (4, 0, False), (5, 0, True)]
    assert all(entry["error"] for entry in to_failing + to_closed)


NON_LOOPBACK_WEBHOOKS = {
    "ipv4": "http://192.0.2.10:8080/hook",
    "ipv6": "https://[2001:db8::1]/hook",
    "name": "http://ecr-events.example.com/hook",
    "localhost-prefix": "http://localhost.example.com/hook",
    "loopback-prefix": "http://127.0.0.1.example.com/hook",
    "userinfo": "http://127.0.0.1@192.0.2.10/hook",
}


def start_with_remote_webhook(binary, tmp_path, url) -> tuple:
    """Start a server whose rule names `url`; return (exit status, output) once it exits.

    The server must exit before any event, so it never contacts the address.
    """
    rules = rules_file(tmp_path, rule("remote", {"source": ["aws.ecr"]}, webhook(url)))
    command = [str(binary), "serve", "--listen", f"127.0.0.1:{find_free_port()}",
               "--data-dir", str(tmp_path / "data"), "--event-rules", str(rules)]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace")
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"localecr started with the non-loopback webhook {url}")
    return process.returncode, output


@pytest.mark.parametrize("url", list(NON_LOOPBACK_WEBHOOKS.values()), ids=list(NON_LOOPBACK_WEBHOOKS))
def test_non_loopback_webhook_rejected(localecr_binary, tmp_path, url):
    status, output = start_with_remote_webhook(localecr_binary, tmp_path, url)

    assert status != 0
    assert "is not a loopback address; start with --allow-remote-webhooks to allow it" in output, output


def test_webhook_rejection_message(localecr_binary, tmp_path):
    url = NON_LOOPBACK_WEBHOOKS["ipv4"]

    status, output = start_with_remote_webhook(localecr_binary, tmp_path, url)

    assert status != 0
    assert f"rule remote: webhook {url} is not a loopback address" in output, output.splitlines()[-1]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "[::1]"])
def test_loopback_webhook_accepted(event_server, host):
    server = event_server(rule("local", {"source": ["aws.ecr"]}, webhook(f"http://{host}:{find_free_port()}/x")))

    assert server.http.get(server.url + "/_localecr/health", timeout=10).status_code == 200


# File targets and the events file


def test_file_target_gets_matching_events(event_server, tmp_path, seed):
    target = tmp_path / "pushes.jsonl"
    server = event_server(rule("pushes", {"detail-type": ["ECR Image Action"], "detail": {"action-type": ["PUSH"]}},
                               file_target(target)))
    server.create_repository("filed")
    image = testimages.build_image(seed)

    server.push_image("filed", image, tag="v1")
    server.ecr.batch_delete_image(repositoryName="filed", imageIds=[{"imageTag": "v1"}])
    every = wait_for_lines(server.events_file, lambda lines: len(lines) >= 2, "two events in the events file")
    lines = wait_for_lines(target, lambda lines: len(lines) >= 1, "the push event in the file target")
    time.sleep(0.5)

    assert read_lines(target) == lines == [every[0]]
    assert every[0]["detail"]["action-type"] == "PUSH"
    assert every[1]["detail"] == {"result": "SUCCESS", "repository-name": "filed", "action-type": "DELETE",
                                  "image-digest": image.digest, "image-tag": "v1"}


def test_events_file_and_ring(event_server, fixture_images, fixture_manifest, seed):
    server = event_server()
    server.create_repository("logged", imageScanningConfiguration={"scanOnPush": True})
    untagged = testimages.build_image(seed)

    digest = push_apps(server, fixture_images, fixture_manifest, "logged")
    wait_for_scan(server, "logged", {"imageDigest": digest})
    server.ecr.put_image_scanning_configuration(repositoryName="logged",
                                                imageScanningConfiguration={"scanOnPush": False})
    server.push_image("logged", untagged)
    server.ecr.batch_delete_image(repositoryName="logged", imageIds=[{"imageDigest": untagged.digest}])
    lines = wait_for_lines(server.events_file, lambda lines: len(lines) >= 4, "four events")
    time.sleep(0.5)

    assert [(event["detail-type"], event["detail"].get("action-type")) for event in read_lines(server.events_file)] == [
        ("ECR Image Action", "PUSH"), ("ECR Image Scan", None), ("ECR Image Action", "PUSH"),
        ("ECR Image Action", "DELETE")]
    # A push by digest carries no image-tag.
    assert lines[2]["detail"] == {"result": "SUCCESS", "repository-name": "logged", "action-type": "PUSH",
                                  "image-digest": untagged.digest}
    assert "image-tag" not in lines[3]["detail"]
    everything = ring(server)
    assert [item["event"] for item in everything["events"]] == lines
    sequence = [item["seq"] for item in everything["events"]]
    assert sequence == sorted(sequence)
    assert len(set(sequence)) == 4
    assert everything["next"] == sequence[-1]
    later = ring(server, after=sequence[1])
    assert [item["seq"] for item in later["events"]] == sequence[2:]
    assert ring(server, after=everything["next"]) == {"events": [], "next": everything["next"]}


def test_failed_push_sends_a_failure_event(event_server, seed):
    server = event_server()
    server.create_repository("failing")
    image = testimages.build_image(seed)  # its blobs are never uploaded

    response = server.put_manifest("failing", "v1", image.manifest, image.media_type)
    lines = wait_for_lines(server.events_file, lambda lines: len(lines) >= 1, "the failure event")

    assert response.status_code == 400
    (event,) = lines
    assert_envelope(event, "ECR Image Action")
    assert event["detail"]["result"] == "FAILURE"
    assert (event["detail"]["action-type"], event["detail"]["repository-name"]) == ("PUSH", "failing")


def test_archive_and_restore_events(event_server, seed):
    server = event_server()
    server.create_repository("stored")
    image = testimages.build_image(seed)
    server.push_image("stored", image, tag="v1")

    for target in ("ARCHIVE", "STANDARD"):
        response = server.ecr_request("UpdateImageStorageClass", {"repositoryName": "stored",
                                                                  "imageId": {"imageTag": "v1"},
                                                                  "targetStorageClass": target})
        assert response.status_code == 200, response.text
    lines = wait_for_lines(server.events_file, lambda lines: len(lines) >= 3, "the storage class events")

    archive, restore = of_type(lines, "ECR Image Action", action_type="UPDATE_STORAGE_CLASS")
    fields = {"action-type", "target-storage-class", "image-digest", "repository-name", "result",
              "manifest-media-type", "artifact-media-type"}
    assert (set(archive["detail"]), set(restore["detail"])) == (fields, fields | {"last-activated-at"})
    for event, target in ((archive, "ARCHIVE"), (restore, "STANDARD")):
        assert_envelope(event, "ECR Image Action")
        detail = event["detail"]
        assert (detail["target-storage-class"], detail["image-digest"], detail["repository-name"], detail["result"],
                detail["manifest-media-type"], detail["artifact-media-type"]) == (
            target, image.digest, "stored", "SUCCESS", image.media_type, image.config.media_type)


def test_lifecycle_archive_and_expiry_events(event_server, seed):
    server = event_server(extra_args=("--lifecycle-interval", "0"))
    server.create_repository("aging")
    images = [testimages.build_image(f"{seed}-{index}") for index in range(4)]
    for index, image in enumerate(images):
        server.push_image("aging", image, tag=f"{'release' if index < 2 else 'build'}-{index}")
    server.ecr.put_lifecycle_policy(repositoryName="aging", lifecyclePolicyText=json.dumps({"rules": [
        {"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPrefixList": ["release"],
                                          "countType": "imageCountMoreThan", "countNumber": 1},
         "action": {"type": "transition", "targetStorageClass": "archive"}},
        {"rulePriority": 2, "selection": {"tagStatus": "tagged", "tagPrefixList": ["build"],
                                          "countType": "imageCountMoreThan", "countNumber": 1},
         "action": {"type": "expire"}}]}))

    run = server.http.post(server.url + "/_localecr/lifecycle/run", json={"repository": "aging"}, timeout=60)
    wait_for_lines(server.events_file, lambda lines: len(lines) >= 5, "the archive event")
    time.sleep(0.5)

    assert run.status_code == 200, run.text
    assert [entry["imageDigest"] for entry in run.json()["transitioned"]] == [images[0].digest]
    assert [entry["imageDigest"] for entry in run.json()["expired"]] == [images[2].digest]
    later = read_lines(server.events_file)[4:]
    assert [(event["detail-type"], event["detail"]["action-type"], event["detail"]["image-digest"])
            for event in later] == [("ECR Image Action", "UPDATE_STORAGE_CLASS", images[0].digest)]
    assert later[0]["detail"]["target-storage-class"] == "ARCHIVE"


def test_referrer_push_event(event_server, seed):
    server = event_server()
    server.create_repository("referred")
    subject = testimages.build_image(seed)
    server.push_image("referred", subject, tag="v1")
    empty = testimages.Blob(b"{}", "application/vnd.oci.empty.v1+json")
    sbom = testimages.Blob(json.dumps({"sbom": seed}).encode(), "text/sbom+json")
    server.push_blob("referred", empty.data)
    server.push_blob("referred", sbom.data)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": testimages.OCI_MANIFEST, "artifactType": "text/sbom+json",
                           "config": empty.descriptor(), "layers": [sbom.descriptor()],
                           "subject": {"mediaType": subject.media_type, "digest": subject.digest,
                                       "size": len(subject.manifest)}}).encode()
    digest = testimages.sha256_digest(manifest)

    response = server.put_manifest("referred", digest, manifest, testimages.OCI_MANIFEST)
    lines = wait_for_lines(server.events_file, lambda lines: of_type(lines, "ECR Referrer Action"), "a referrer event")

    assert response.status_code == 201, response.text
    (event,) = of_type(lines, "ECR Referrer Action")
    assert_envelope(event, "ECR Referrer Action")
    detail = event["detail"]
    assert {key: detail.get(key) for key in ("action-type", "result", "repository-name", "image-digest",
                                             "manifest-media-type", "artifact-media-type")} == {
        "action-type": "PUSH", "result": "SUCCESS", "repository-name": "referred", "image-digest": digest,
        "manifest-media-type": testimages.OCI_MANIFEST, "artifact-media-type": "text/sbom+json"}


# Pattern matching


def test_rules_filter_by_pattern(event_server, receivers, tmp_path, fixture_images, fixture_manifest):
    """One rule takes only repositories named prod-*; another only scans that found a CRITICAL vulnerability."""
    prod_file = tmp_path / "prod.jsonl"
    critical = receivers()
    server = event_server(
        rule("prod-only", {"source": ["aws.ecr"], "detail": {"repository-name": [{"prefix": "prod-"}]}},
             file_target(prod_file)),
        rule("critical-findings", {"detail-type": ["ECR Image Scan"],
                                   "detail": {"finding-severity-counts": {"CRITICAL": [{"numeric": [">", 0]}]}}},
             webhook(critical.url("/critical"))))
    pushed = {}
    for name, fixture in (("prod-api", "apps"), ("dev-api", "apps"), ("prod-empty", "single"),
                          ("my-prod-api", "apps")):
        server.create_repository(name, imageScanningConfiguration={"scanOnPush": True})
        pushed[name] = push_layout_image(server, fixture_images / fixture_manifest[fixture]["path"], name,
                                         "v1")["digest"]
    for name, digest in pushed.items():
        wait_for_scan(server, name, {"imageDigest": digest})
    every = wait_for_lines(server.events_file, lambda lines: len(lines) >= 8, "eight events")
    critical.wait_for(3)
    time.sleep(1)

    expected_prod = [event for event in every if event["detail"]["repository-name"].startswith("prod-")]
    assert [(event["detail-type"], event["detail"]["repository-name"]) for event in read_lines(prod_file)] == [
        (event["detail-type"], event["detail"]["repository-name"]) for event in expected_prod]
    assert read_lines(prod_file) == expected_prod
    assert len(expected_prod) == 4
    scans = sorted((event["detail"]["repository-name"], event["detail"]["scan-status"])
                   for event in critical.events())
    assert scans == [("dev-api", "COMPLETE"), ("my-prod-api", "COMPLETE"), ("prod-api", "COMPLETE")]
    assert all(event["detail"]["finding-severity-counts"] == apps_counts() for event in critical.events())
    (empty_scan,) = of_type(every, "ECR Image Scan", repository_name="prod-empty")
    assert empty_scan["detail"]["scan-status"] == "UNSUPPORTED_IMAGE"
    assert empty_scan["detail"]["finding-severity-counts"] == {}


# localecr events tail


def test_events_tail_prints_new_events(event_server, seed):
    server = event_server()
    server.create_repository("tailed")
    server.push_image("tailed", testimages.build_image(f"{seed}-before"), tag="before")
    wait_for_lines(server.events_file, lambda lines: len(lines) >= 1, "the first event")
    mark = server.log_path.stat().st_size

    tail = subprocess.Popen([str(server.binary), "events", "tail", "--server", server.url, "--count", "2"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=server.env)
    try:
        wait_until(lambda: 'path="/_localecr/events"' in server.read_log(mark), 10, 0.05, "the first poll of tail")
        image = testimages.build_image(seed)
        server.push_image("tailed", image, tag="v1")
        server.ecr.batch_delete_image(repositoryName="tailed", imageIds=[{"imageTag": "v1"}])
        output, errors = tail.communicate(timeout=20)
    finally:
        if tail.poll() is None:
            tail.send_signal(signal.SIGTERM)
            tail.communicate()

    assert tail.returncode == 0, errors
    printed = [json.loads(line) for line in output.splitlines()]
    file_events = read_lines(server.events_file)
    assert printed == file_events[1:3]
    assert [event["detail"]["action-type"] for event in printed] == ["PUSH", "DELETE"]
    assert all(event["detail"]["image-digest"] == image.digest for event in printed)


def test_events_tail_without_server(localecr_binary):
    result = subprocess.run([str(localecr_binary), "events", "tail", "--server", f"http://127.0.0.1:{find_free_port()}",
                             "--count", "1"], capture_output=True, text=True, timeout=30)

    assert result.returncode == 1
    assert "cannot reach" in result.stderr
