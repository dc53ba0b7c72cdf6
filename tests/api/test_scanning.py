"""Image scanning end to end: configuration, manual and on-push scans, findings, rescans.

The server scans against the sample OSV database in fixtures/vulndb/osv. The
findings of the `apps`, `alpine-like` and Debian fixture images must equal
fixtures/vulndb/expected-findings.json exactly. That means the same CVE ids,
severities, packages, installed versions, fixed versions and CVSS vectors, and
nothing more: setuptools, deleted by a whiteout, never appears.

The rules come from ecr-semantics.md §5. There is a quota of one scan per
image per 24 hours. A registry filter without `*` matches the names that
contain it, and one with `*` is a full wildcard match. CONTINUOUS_SCAN wins
over SCAN_ON_PUSH, ENHANCED allows no manual scans, and findingSeverityCounts
lists only the severities present.

Tests that change the registry scanning configuration or move the clock start
their own server, so they do not change what the module's other tests see.
"""

import collections
import datetime
import json
import os
import shutil
import tarfile
import time
import zlib
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, WaiterError

import testimages
from harness import (ACCOUNT_ID, REGION, VULN_DB, LocalEcrServer, advance_clock, client_error, expected_findings,
                     push_layout_image, repository_arn, skopeo_push, wait_for_scan, wait_until)

QUOTA_MESSAGE = "The scan quota per image has been exceeded. Wait and try again."
COMPLETE_DESCRIPTION = "The scan was completed successfully."
UNSUPPORTED_DESCRIPTION = "UnsupportedImageError: The operating system and/or package manager are not supported."
# The newest `modified` time of the advisories in fixtures/vulndb/osv (fixtures/vulndb/README.md).
VULN_DB_UPDATED_AT = datetime.datetime(2026, 12, 4, tzinfo=datetime.timezone.utc)
SEVERITIES = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL", "UNDEFINED"}


@pytest.fixture(scope="module")
def server(localecr_binary, tmp_path_factory):
    """The module's server, scanning against the sample OSV database in the default BASIC mode."""
    server = LocalEcrServer(localecr_binary, tmp_path_factory.mktemp("localecr-scanning"),
                            ["--vuln-db", str(VULN_DB)])
    server.start()
    yield server
    server.stop()


@pytest.fixture
def scan_server(server_factory):
    """A server of the test's own, for tests that change the registry configuration or the clock."""
    def start(*extra_args, vuln_db=VULN_DB):
        return server_factory("--vuln-db", str(vuln_db), *extra_args)
    return start


def layout(fixture_images, fixture_manifest, name) -> Path:
    return fixture_images / fixture_manifest[name]["path"]


# Comparing findings with expected-findings.json


def attributes(finding) -> dict:
    return {attribute["key"]: attribute["value"] for attribute in finding["attributes"]}


def basic_row(finding) -> tuple:
    """Return (name, severity, package, version, CVSS key prefix, vector, score, uri) of a basic finding."""
    values = attributes(finding)
    prefix = "CVSS2" if "CVSS2_VECTOR" in values else "CVSS3"
    return (finding["name"], finding["severity"], values.get("package_name"), values.get("package_version"),
            prefix, values.get(prefix + "_VECTOR"), values.get(prefix + "_SCORE"), finding["uri"])


def expected_basic_row(entry) -> tuple:
    prefix = "CVSS2" if entry["cvssVersion"].startswith("2") else "CVSS3"
    return (entry["id"], entry["severity"], entry["package"], entry["installedVersion"], prefix,
            entry["cvssVector"], f"{entry['cvssScore']:.1f}", entry["uri"])


def assert_basic_findings(findings, expected):
    """Check that the findings equal the expected list exactly (as a multiset), with the four attribute keys only."""
    assert sorted(basic_row(finding) for finding in findings) == sorted(expected_basic_row(entry)
                                                                         for entry in expected)
    for finding in findings:
        keys = set(attributes(finding))
        assert keys in ({"package_name", "package_version", "CVSS3_VECTOR", "CVSS3_SCORE"},
                        {"package_name", "package_version", "CVSS2_VECTOR", "CVSS2_SCORE"}), finding
        assert finding["description"], finding


def enhanced_row(finding, raw: bool) -> tuple:
    """Return the compared fields of an enhanced finding.

    Debian's boto3 1.26 and awscli 2.9.19 predate fixedInVersion, fixAvailable and
    exploitAvailable and drop them, so only raw JSON responses (`raw`) have them.
    """
    details = finding["packageVulnerabilityDetails"]
    (package,) = details["vulnerablePackages"]
    (cvss,) = details["cvss"]
    row = (details["vulnerabilityId"], finding["severity"], package["name"], package["version"], finding["score"],
           cvss["scoringVector"], cvss["version"], package["packageManager"], details["sourceUrl"],
           package["sourceLayerHash"])
    return row + (package["fixedInVersion"], finding["fixAvailable"]) if raw else row


def expected_enhanced_row(entry, layer_digest, raw: bool) -> tuple:
    row = (entry["id"], entry["severity"], entry["package"], entry["installedVersion"], entry["cvssScore"],
           entry["cvssVector"], entry["cvssVersion"], entry["packageManager"], entry["uri"], layer_digest)
    if not raw:
        return row
    fixed = entry["fixedVersion"]
    if fixed is None:
        return row + ("NotAvailable", "NO")
    return row + (fixed, "YES")


def assert_enhanced_findings(findings, expected, layer_of, *, repository, digest, tags, platform="DEBIAN_12",
                             raw=False):
    """Check that enhanced findings equal the expected list, in Amazon Inspector's shape (ecr-semantics.md §5.3).

    `layer_of(entry)` returns the digest of the layer that wrote the package of an expected entry.
    Set `raw` for findings from a raw JSON response, which has the fields old clients drop.
    """
    assert sorted(enhanced_row(finding, raw) for finding in findings) == sorted(
        expected_enhanced_row(entry, layer_of(entry), raw) for entry in expected)
    arn = repository_arn(ACCOUNT_ID, repository)
    for finding in findings:
        details = finding["packageVulnerabilityDetails"]
        package = details["vulnerablePackages"][0]
        assert finding["title"] == f"{details['vulnerabilityId']} - {package['name']}"
        assert finding["awsAccountId"] == ACCOUNT_ID
        assert finding["findingArn"].startswith(f"arn:aws:inspector2:{REGION}:{ACCOUNT_ID}:finding/")
        assert (finding["type"], finding["status"]) == ("PACKAGE_VULNERABILITY", "ACTIVE")
        if raw:
            assert finding["exploitAvailable"] == "NO"
        assert details["vendorSeverity"] == finding["severity"]
        assert details["cvss"][0]["baseScore"] == finding["score"]
        assert details["vulnerabilityId"] in details["relatedVulnerabilities"]
        assert details["sourceUrl"] in details["referenceUrls"]
        assert finding["remediation"]["recommendation"]["text"]
        (resource,) = finding["resources"]
        assert resource["type"] == "AWS_ECR_CONTAINER_IMAGE"
        assert resource["id"] == f"{arn}/{digest}"
        image = resource["details"]["awsEcrContainerImage"]
        assert (image["imageHash"], image["repositoryName"], image["registry"], image["platform"]) == (
            digest, repository, ACCOUNT_ID, platform)
        assert sorted(image["imageTags"]) == sorted(tags)


def inventory_layers(entry) -> callable:
    """Return layer_of() for an image whose manifest.json entry has an `inventory`."""
    layers = {(package["name"], package["version"], package["path"]): package["layerDigest"]
              for package in entry["inventory"]["packages"]}
    return lambda expected: layers[(expected["package"], expected["installedVersion"], expected["path"])]


def severity_counts(expected) -> dict:
    return dict(collections.Counter(entry["severity"] for entry in expected))


def epoch(value) -> float:
    """Convert a boto3 (datetime), JSON API (number) or CLI (ISO 8601 string) timestamp to epoch seconds."""
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value).timestamp()
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


# Pushing and scanning


def push_apps(server, fixture_images, fixture_manifest, repository, tag="latest") -> str:
    return push_layout_image(server, layout(fixture_images, fixture_manifest, "apps"), repository, tag)["digest"]


def scan(server, repository, image_id, client=None) -> dict:
    """Start a scan, check the StartImageScan response, and return the finished DescribeImageScanFindings."""
    ecr = client or server.ecr
    started = ecr.start_image_scan(repositoryName=repository, imageId=image_id)
    assert started["imageScanStatus"]["status"] == "IN_PROGRESS"
    return wait_for_scan(server, repository, image_id, client=ecr)


def raw_findings(server, repository, digest) -> dict:
    """Send DescribeImageScanFindings as a raw JSON request, to see every field the server sends."""
    response = server.ecr_request("DescribeImageScanFindings", {"repositoryName": repository,
                                                                "imageId": {"imageDigest": digest}})
    assert response.status_code == 200, response.text
    return response.json()


def cli_findings(server, repository, digest, *extra) -> dict:
    return server.aws_json("ecr", "describe-image-scan-findings", "--repository-name", repository,
                           "--image-id", f"imageDigest={digest}", *extra)


def put_registry_config(server, scan_type, *rules) -> dict:
    return server.ecr.put_registry_scanning_configuration(scanType=scan_type, rules=list(rules))


def scan_rule(frequency, *filters) -> dict:
    return {"scanFrequency": frequency,
            "repositoryFilters": [{"filter": pattern, "filterType": "WILDCARD"} for pattern in filters]}


def scan_not_found(server, repository, image_id) -> tuple:
    with pytest.raises(ClientError) as excinfo:
        server.ecr.describe_image_scan_findings(repositoryName=repository, imageId=image_id)
    return client_error(excinfo)


# Findings of the fixture images


def test_findings_before_any_scan(server, repository, seed):
    digest = server.push_image(repository, testimages.build_image(seed), tag="v1")

    status, code, message = scan_not_found(server, repository, {"imageTag": "v1"})

    assert (status, code) == (400, "ScanNotFoundException")
    assert message.startswith("Image scan does not exist for the image with ")
    assert digest in message
    assert message.endswith(f"in the repository with name '{repository}' in the registry with id '{ACCOUNT_ID}'")


def test_start_image_scan_response(server, repository, fixture_images, fixture_manifest):
    digest = push_apps(server, fixture_images, fixture_manifest, repository)

    started = server.ecr.start_image_scan(repositoryName=repository, imageId={"imageTag": "latest"})

    assert (started["registryId"], started["repositoryName"]) == (ACCOUNT_ID, repository)
    assert started["imageId"] == {"imageDigest": digest, "imageTag": "latest"}
    assert started["imageScanStatus"]["status"] == "IN_PROGRESS"
    server.ecr.get_waiter("image_scan_complete").wait(
        repositoryName=repository, imageId={"imageDigest": digest}, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def test_apps_basic_findings_match_expected(server, repository, fixture_images, fixture_manifest):
    digest = push_apps(server, fixture_images, fixture_manifest, repository)
    expected = expected_findings("apps")

    result = scan(server, repository, {"imageDigest": digest})

    assert result["imageScanStatus"] == {"status": "COMPLETE", "description": COMPLETE_DESCRIPTION}
    assert result["imageId"]["imageDigest"] == digest
    findings = result["imageScanFindings"]
    assert "enhancedFindings" not in findings
    assert_basic_findings(findings["findings"], expected)
    assert findings["findingSeverityCounts"] == severity_counts(expected)
    assert findings["vulnerabilitySourceUpdatedAt"] == VULN_DB_UPDATED_AT
    assert abs(findings["imageScanCompletedAt"].timestamp() - time.time()) < 120


def test_apps_findings_exclude_removed_packages(server, repository, fixture_images, fixture_manifest):
    digest = push_apps(server, fixture_images, fixture_manifest, repository)
    must_not_match = json.loads((VULN_DB.parent / "expected-findings.json").read_text())["images"]["apps"][
        "mustNotMatch"]

    findings = scan(server, repository, {"imageDigest": digest})["imageScanFindings"]["findings"]

    packages = {(attributes(finding)["package_name"], attributes(finding)["package_version"]) for finding in findings}
    assert not any(name.lower() == "setuptools" for name, _ in packages)
    # The opaque directory in layer 4 hides lodash 4.17.4 and minimist 0.0.8 of /srv/old-app.
    assert ("lodash", "4.17.4") not in packages
    assert ("minimist", "0.0.8") not in packages
    assert ("minimist", "1.2.8") not in packages  # the new copy, above the fixed version
    # libssl1.1 is only `deinstall ok config-files`; log4j-api is another package than log4j-core.
    assert not any(name in ("libssl1.1", "org.apache.logging.log4j:log4j-api") for name, _ in packages)
    names = {finding["name"] for finding in findings}
    for entry in must_not_match:
        if entry["reason"] in ("removed", "other-ecosystem", "not-installed"):
            continue
        assert not any(finding["name"] == advisory_cve(entry["advisoryId"])
                       and attributes(finding)["package_name"] == entry["package"]
                       and attributes(finding)["package_version"] == entry["version"] for finding in findings), entry
    # The two setuptools advisories.
    assert "CVE-2022-40897" not in names
    assert "CVE-2024-6345" not in names


def advisory_cve(advisory_id) -> str:
    return json.loads((VULN_DB / f"{advisory_id}.json").read_text())["aliases"][0]


def test_apps_findings_through_cli(server, repository, fixture_images, fixture_manifest):
    digest = push_apps(server, fixture_images, fixture_manifest, repository, tag="cli")
    expected = expected_findings("apps")
    started = server.aws_json("ecr", "start-image-scan", "--repository-name", repository, "--image-id", "imageTag=cli")
    assert started["imageScanStatus"]["status"] == "IN_PROGRESS"
    wait_for_scan(server, repository, {"imageDigest": digest})

    server.aws("ecr", "wait", "image-scan-complete", "--repository-name", repository, "--image-id", "imageTag=cli")
    result = cli_findings(server, repository, digest)

    assert result["imageScanStatus"]["status"] == "COMPLETE"
    assert_basic_findings(result["imageScanFindings"]["findings"], expected)
    assert result["imageScanFindings"]["findingSeverityCounts"] == severity_counts(expected)


def test_alpine_like_findings_match_expected(server, repository, fixture_images, fixture_manifest):
    digest = push_layout_image(server, layout(fixture_images, fixture_manifest, "alpine-like"), repository,
                               "v1")["digest"]
    expected = expected_findings("alpine-like")

    result = scan(server, repository, {"imageTag": "v1"})

    assert result["imageScanStatus"]["status"] == "COMPLETE"
    assert_basic_findings(result["imageScanFindings"]["findings"], expected)
    assert result["imageScanFindings"]["findingSeverityCounts"] == {"MEDIUM": 2}
    assert result["imageId"]["imageDigest"] == digest


def test_apps_enhanced_findings_match_expected(scan_server, fixture_images, fixture_manifest):
    server = scan_server()
    repository = "enhanced/apps"
    put_registry_config(server, "ENHANCED", scan_rule("SCAN_ON_PUSH", "enhanced/*"))
    server.create_repository(repository)
    expected = expected_findings("apps")
    skopeo_push(server, layout(fixture_images, fixture_manifest, "apps"), repository, "v1")
    digest = fixture_manifest["apps"]["digest"]

    result = wait_for_scan(server, repository, {"imageDigest": digest})
    cli = cli_findings(server, repository, digest)
    raw = raw_findings(server, repository, digest)

    assert result["imageScanStatus"]["status"] == "COMPLETE"
    for findings, is_raw in ((result["imageScanFindings"], False), (cli["imageScanFindings"], False),
                             (raw["imageScanFindings"], True)):
        assert "findings" not in findings
        assert_enhanced_findings(findings["enhancedFindings"], expected, inventory_layers(fixture_manifest["apps"]),
                                 repository=repository, digest=digest, tags=["v1"], raw=is_raw)
        assert findings["findingSeverityCounts"] == severity_counts(expected)
    assert not any(finding["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"] == "setuptools"
                   for finding in result["imageScanFindings"]["enhancedFindings"])


def test_enhanced_finding_arns_are_distinct(scan_server, fixture_images, fixture_manifest):
    """Each finding is its own Amazon Inspector finding, so no two share a findingArn."""
    server = scan_server()
    put_registry_config(server, "ENHANCED", scan_rule("SCAN_ON_PUSH", "apps"))
    server.create_repository("apps")
    digest = push_apps(server, fixture_images, fixture_manifest, "apps")

    findings = wait_for_scan(server, "apps", {"imageDigest": digest})["imageScanFindings"]["enhancedFindings"]

    arns = [finding["findingArn"] for finding in findings]
    assert len(arns) == len(expected_findings("apps"))
    assert len(set(arns)) == len(arns), collections.Counter(arns).most_common(3)


def test_describe_images_scan_summary(server, repository, fixture_images, fixture_manifest, seed):
    digest = push_apps(server, fixture_images, fixture_manifest, repository)
    unscanned = server.push_image(repository, testimages.build_image(seed), tag="unscanned")
    findings = scan(server, repository, {"imageDigest": digest})["imageScanFindings"]

    details = {detail["imageDigest"]: detail for detail in
               server.ecr.describe_images(repositoryName=repository)["imageDetails"]}
    cli = {detail["imageDigest"]: detail for detail in
           server.aws_json("ecr", "describe-images", "--repository-name", repository)["imageDetails"]}

    for detail in (details[digest], cli[digest]):
        assert detail["imageScanStatus"] == {"status": "COMPLETE", "description": COMPLETE_DESCRIPTION}
        summary = detail["imageScanFindingsSummary"]
        assert summary["findingSeverityCounts"] == severity_counts(expected_findings("apps"))
        assert epoch(summary["imageScanCompletedAt"]) == pytest.approx(findings["imageScanCompletedAt"].timestamp(),
                                                                       abs=0.01)
        assert epoch(summary["vulnerabilitySourceUpdatedAt"]) == VULN_DB_UPDATED_AT.timestamp()
    for detail in (details[unscanned], cli[unscanned]):
        assert "imageScanStatus" not in detail
        assert "imageScanFindingsSummary" not in detail


def test_findings_pagination(server, repository, fixture_images, fixture_manifest):
    digest = push_apps(server, fixture_images, fixture_manifest, repository)
    complete = scan(server, repository, {"imageDigest": digest})["imageScanFindings"]["findings"]
    assert len(complete) == 24

    pages, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = server.ecr.describe_image_scan_findings(repositoryName=repository, imageId={"imageDigest": digest},
                                                       maxResults=5, **kwargs)
        pages.append(page["imageScanFindings"]["findings"])
        assert page["imageScanFindings"]["findingSeverityCounts"] == severity_counts(expected_findings("apps"))
        token = page.get("nextToken")
        if token is None:
            break
    paginated = [finding for page in server.ecr.get_paginator("describe_image_scan_findings").paginate(
        repositoryName=repository, imageId={"imageDigest": digest}, PaginationConfig={"PageSize": 7})
        for finding in page["imageScanFindings"]["findings"]]
    cli = cli_findings(server, repository, digest, "--page-size", "4")["imageScanFindings"]["findings"]

    assert [len(page) for page in pages] == [5, 5, 5, 5, 4]
    assert [finding for page in pages for finding in page] == complete
    assert paginated == complete
    assert cli == complete


@pytest.mark.parametrize("max_results", [0, 1001])
def test_findings_max_results_range(server, repository, fixture_images, fixture_manifest, max_results):
    digest = push_apps(server, fixture_images, fixture_manifest, repository)
    scan(server, repository, {"imageDigest": digest})

    with pytest.raises(ClientError) as excinfo:
        server.ecr_unchecked.describe_image_scan_findings(repositoryName=repository, imageId={"imageDigest": digest},
                                                         maxResults=max_results)

    assert client_error(excinfo)[:2] == (400, "InvalidParameterException")


def test_enhanced_findings_pagination(scan_server, fixture_images, fixture_manifest):
    server = scan_server()
    put_registry_config(server, "ENHANCED", scan_rule("SCAN_ON_PUSH", "apps"))
    server.create_repository("apps")
    digest = push_apps(server, fixture_images, fixture_manifest, "apps")
    complete = wait_for_scan(server, "apps", {"imageDigest": digest})["imageScanFindings"]["enhancedFindings"]

    pages = [page["imageScanFindings"]["enhancedFindings"] for page in
             server.ecr.get_paginator("describe_image_scan_findings").paginate(
                 repositoryName="apps", imageId={"imageDigest": digest}, PaginationConfig={"PageSize": 10})]

    assert [len(page) for page in pages] == [10, 10, 4]
    assert [finding for page in pages for finding in page] == complete


# Scan statuses


def test_image_without_os_is_unsupported(server, repository, fixture_images, fixture_manifest):
    push_layout_image(server, layout(fixture_images, fixture_manifest, "single"), repository, "v1")

    result = scan(server, repository, {"imageTag": "v1"})

    assert result["imageScanStatus"] == {"status": "UNSUPPORTED_IMAGE", "description": UNSUPPORTED_DESCRIPTION}
    assert result["imageScanFindings"]["findings"] == []
    assert result["imageScanFindings"]["findingSeverityCounts"] == {}
    with pytest.raises(WaiterError):
        server.ecr.get_waiter("image_scan_complete").wait(repositoryName=repository, imageId={"imageTag": "v1"},
                                                          WaiterConfig={"Delay": 1, "MaxAttempts": 3})


def push_unreadable_layer_image(server, repository, tag) -> str:
    """Push an image whose only layer has a gzip tar media type but contains text; the manifest is valid."""
    config = testimages.Blob(json.dumps({"architecture": "amd64", "os": "linux",
                                         "rootfs": {"type": "layers", "diff_ids": []}}).encode(),
                             testimages.OCI_CONFIG)
    layer = testimages.Blob(b"this is not a gzip stream\n" * 20, testimages.OCI_LAYER)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": testimages.OCI_MANIFEST,
                           "config": config.descriptor(), "layers": [layer.descriptor()]}).encode()
    server.push_blob(repository, config.data)
    server.push_blob(repository, layer.data)
    response = server.put_manifest(repository, tag, manifest, testimages.OCI_MANIFEST)
    assert response.status_code == 201, response.text
    return testimages.sha256_digest(manifest)


def test_unreadable_layer_fails_the_scan(server, repository):
    digest = push_unreadable_layer_image(server, repository, "broken")

    result = scan(server, repository, {"imageTag": "broken"})

    assert result["imageScanStatus"]["status"] == "FAILED"
    assert result["imageScanStatus"]["description"]
    details = server.ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])
    detail = details["imageDetails"][0]
    assert detail["imageScanStatus"]["status"] == "FAILED"
    with pytest.raises(WaiterError) as excinfo:
        server.ecr.get_waiter("image_scan_complete").wait(repositoryName=repository, imageId={"imageTag": "broken"},
                                                          WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    assert "terminal failure state" in str(excinfo.value)


def test_scan_of_missing_image(server, repository):
    with pytest.raises(ClientError) as excinfo:
        server.ecr.start_image_scan(repositoryName=repository, imageId={"imageTag": "nope"})

    assert client_error(excinfo)[:2] == (400, "ImageNotFoundException")


# The quota of one scan per image per 24 hours


def test_second_scan_within_a_day(scan_server, fixture_images, fixture_manifest):
    server = scan_server()
    server.create_repository("quota")
    digest = push_apps(server, fixture_images, fixture_manifest, "quota")
    first = scan(server, "quota", {"imageDigest": digest})["imageScanFindings"]["imageScanCompletedAt"]

    with pytest.raises(ClientError) as excinfo:
        server.ecr.start_image_scan(repositoryName="quota", imageId={"imageTag": "latest"})
    cli = server.aws("ecr", "start-image-scan", "--repository-name", "quota", "--image-id", "imageTag=latest",
                     check=False)
    advance_clock(server, 23 * 3600)
    with pytest.raises(ClientError) as still:
        server.ecr.start_image_scan(repositoryName="quota", imageId={"imageDigest": digest})
    advance_clock(server, 86401 - 23 * 3600)
    again = scan(server, "quota", {"imageDigest": digest})

    assert client_error(excinfo) == (400, "LimitExceededException", QUOTA_MESSAGE)
    assert cli.returncode != 0
    assert "LimitExceededException" in cli.stderr
    assert QUOTA_MESSAGE in cli.stderr
    assert client_error(still)[1] == "LimitExceededException"
    assert again["imageScanStatus"]["status"] == "COMPLETE"
    assert again["imageScanFindings"]["imageScanCompletedAt"].timestamp() - first.timestamp() >= 86401
    assert_basic_findings(again["imageScanFindings"]["findings"], expected_findings("apps"))


def test_scan_on_push_counts_in_quota(scan_server, fixture_images, fixture_manifest):
    server = scan_server()
    server.create_repository("onpush", imageScanningConfiguration={"scanOnPush": True})
    digest = push_apps(server, fixture_images, fixture_manifest, "onpush")
    wait_for_scan(server, "onpush", {"imageDigest": digest})

    with pytest.raises(ClientError) as excinfo:
        server.ecr.start_image_scan(repositoryName="onpush", imageId={"imageDigest": digest})

    assert client_error(excinfo) == (400, "LimitExceededException", QUOTA_MESSAGE)


def test_quota_is_per_image(server, repository, fixture_images, fixture_manifest):
    apps = push_apps(server, fixture_images, fixture_manifest, repository)
    alpine = push_layout_image(server, layout(fixture_images, fixture_manifest, "alpine-like"), repository,
                               "alpine")["digest"]
    scan(server, repository, {"imageDigest": apps})

    result = scan(server, repository, {"imageDigest": alpine})

    assert result["imageScanStatus"]["status"] == "COMPLETE"


def test_archived_image_cannot_be_scanned(server, repository, seed):
    server.push_image(repository, testimages.build_image(seed), tag="old")
    archived = server.ecr_request("UpdateImageStorageClass", {"repositoryName": repository,
                                                              "imageId": {"imageTag": "old"},
                                                              "targetStorageClass": "ARCHIVE"})
    assert archived.status_code == 200, archived.text

    with pytest.raises(ClientError) as excinfo:
        server.ecr.start_image_scan(repositoryName=repository, imageId={"imageTag": "old"})

    status, code, message = client_error(excinfo)
    assert (status, code) == (400, "ImageArchivedException")
    assert "archived" in message


def test_manual_scan_with_enhanced_scanning(scan_server, fixture_images, fixture_manifest):
    server = scan_server()
    put_registry_config(server, "ENHANCED", scan_rule("CONTINUOUS_SCAN", "other"))
    server.create_repository("manual")
    push_apps(server, fixture_images, fixture_manifest, "manual")

    with pytest.raises(ClientError) as excinfo:
        server.ecr.start_image_scan(repositoryName="manual", imageId={"imageTag": "latest"})

    status, code, message = client_error(excinfo)
    assert (status, code) == (400, "ValidationException")
    assert "enhanced" in message.lower()


# Scan on push


def test_repository_scan_on_push(server, repository_name, fixture_images, fixture_manifest, seed):
    server.create_repository(repository_name)
    put = server.ecr.put_image_scanning_configuration(repositoryName=repository_name,
                                                      imageScanningConfiguration={"scanOnPush": True})
    described = server.ecr.describe_repositories(repositoryNames=[repository_name])["repositories"][0]

    digest = push_apps(server, fixture_images, fixture_manifest, repository_name)
    result = wait_for_scan(server, repository_name, {"imageDigest": digest})

    assert put["imageScanningConfiguration"] == {"scanOnPush": True}
    assert put["repositoryName"] == repository_name
    assert put["registryId"] == ACCOUNT_ID
    assert described["imageScanningConfiguration"] == {"scanOnPush": True}
    assert result["imageScanStatus"]["status"] == "COMPLETE"
    assert_basic_findings(result["imageScanFindings"]["findings"], expected_findings("apps"))


def test_scan_on_push_turned_off(server, repository_name, fixture_images, fixture_manifest, seed):
    """With scanOnPush off no scan starts; a later scanned push in another repository shows the worker ran."""
    server.create_repository(repository_name, imageScanningConfiguration={"scanOnPush": True})
    server.ecr.put_image_scanning_configuration(repositoryName=repository_name,
                                                imageScanningConfiguration={"scanOnPush": False})
    unscanned = server.push_image(repository_name, testimages.build_image(seed), tag="v1")
    witness = f"{repository_name}-witness"
    server.create_repository(witness, imageScanningConfiguration={"scanOnPush": True})
    witness_digest = push_apps(server, fixture_images, fixture_manifest, witness)
    wait_for_scan(server, witness, {"imageDigest": witness_digest})

    assert scan_not_found(server, repository_name, {"imageDigest": unscanned})[1] == "ScanNotFoundException"


def test_registry_scan_on_push_rule(scan_server, fixture_images, fixture_manifest):
    server = scan_server()
    put_registry_config(server, "BASIC", scan_rule("SCAN_ON_PUSH", "prod-*"))
    for name in ("dev-api", "prod-api"):
        server.create_repository(name)
    skipped = push_apps(server, fixture_images, fixture_manifest, "dev-api")
    scanned = push_apps(server, fixture_images, fixture_manifest, "prod-api")

    result = wait_for_scan(server, "prod-api", {"imageDigest": scanned})

    assert result["imageScanStatus"]["status"] == "COMPLETE"
    assert_basic_findings(result["imageScanFindings"]["findings"], expected_findings("apps"))
    assert scan_not_found(server, "dev-api", {"imageDigest": skipped})[1] == "ScanNotFoundException"


# Registry scanning configuration


def test_registry_scanning_configuration_round_trip(scan_server):
    server = scan_server()

    default = server.ecr.get_registry_scanning_configuration()
    rules = [scan_rule("CONTINUOUS_SCAN", "prod-*", "release"), scan_rule("SCAN_ON_PUSH", "*")]
    put = put_registry_config(server, "ENHANCED", *rules)
    read = server.ecr.get_registry_scanning_configuration()
    cli = server.aws_json("ecr", "get-registry-scanning-configuration")

    assert default["registryId"] == ACCOUNT_ID
    assert default["scanningConfiguration"] == {"scanType": "BASIC", "rules": []}
    assert put["registryScanningConfiguration"] == {"scanType": "ENHANCED", "rules": rules}
    assert read["scanningConfiguration"] == {"scanType": "ENHANCED", "rules": rules}
    assert cli["scanningConfiguration"] == {"scanType": "ENHANCED", "rules": rules}


def test_continuous_scan_needs_enhanced(scan_server):
    server = scan_server()

    with pytest.raises(ClientError) as excinfo:
        put_registry_config(server, "BASIC", scan_rule("CONTINUOUS_SCAN", "prod"))

    assert client_error(excinfo)[:2] == (400, "ValidationException")
    assert server.ecr.get_registry_scanning_configuration()["scanningConfiguration"] == {"scanType": "BASIC",
                                                                                         "rules": []}


@pytest.mark.parametrize("rules", [
    [scan_rule("SCAN_ON_PUSH", "Prod")],
    [scan_rule("SCAN_ON_PUSH", "prod repo")],
    [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX"}]}],
    [scan_rule("SCAN_ON_PUSH", "a"), scan_rule("SCAN_ON_PUSH", "b"), scan_rule("SCAN_ON_PUSH", "c")],
], ids=["upper-case", "space", "filter-type", "three-rules"])
def test_invalid_registry_scanning_configuration(scan_server, rules):
    server = scan_server()

    with pytest.raises(ClientError) as excinfo:
        server.ecr_unchecked.put_registry_scanning_configuration(scanType="BASIC", rules=rules)

    assert client_error(excinfo)[:2] == (400, "InvalidParameterException")


# ecr-semantics.md §5.1: which repositories each filter matches. The last column, prod-repo-x,
# is not in the reference's table; it follows from "with `*`, a full wildcard match".
FILTER_REPOSITORIES = ["prod", "repo-prod", "prod-repo", "repo-prod-repo", "prodrepo", "prod-repo-x"]
FILTER_TABLE = {
    "prod": "YYYYYY",
    "*prod": "YYNNNN",
    "prod*": "YNYNYY",
    "*prod*": "YYYYYY",
    "prod*repo": "NNYNYN",
}


@pytest.mark.parametrize("pattern", list(FILTER_TABLE))
def test_filter_matching(scan_server, pattern):
    server = scan_server()
    for name in FILTER_REPOSITORIES:
        server.create_repository(name)
    put_registry_config(server, "BASIC", scan_rule("SCAN_ON_PUSH", pattern))

    response = server.ecr.batch_get_repository_scanning_configuration(repositoryNames=FILTER_REPOSITORIES)

    assert response["failures"] == []
    got = {config["repositoryName"]: config for config in response["scanningConfigurations"]}
    for name, mark in zip(FILTER_REPOSITORIES, FILTER_TABLE[pattern]):
        matched = mark == "Y"
        assert got[name]["repositoryArn"] == repository_arn(ACCOUNT_ID, name)
        assert (got[name]["scanFrequency"], got[name]["scanOnPush"]) == (
            ("SCAN_ON_PUSH", True) if matched else ("MANUAL", False)), name
        assert got[name]["appliedScanFilters"] == (
            [{"filter": pattern, "filterType": "WILDCARD"}] if matched else []), name


@pytest.mark.parametrize("continuous_first", [True, False], ids=["continuous-first", "continuous-second"])
def test_continuous_scan_wins_over_scan_on_push(scan_server, continuous_first):
    server = scan_server()
    for name in ("prod-api", "repo-prod"):
        server.create_repository(name)
    rules = [scan_rule("CONTINUOUS_SCAN", "prod-*"), scan_rule("SCAN_ON_PUSH", "prod")]
    put_registry_config(server, "ENHANCED", *(rules if continuous_first else rules[::-1]))

    response = server.ecr.batch_get_repository_scanning_configuration(repositoryNames=["prod-api", "repo-prod"])

    got = {config["repositoryName"]: config for config in response["scanningConfigurations"]}
    assert (got["prod-api"]["scanFrequency"], got["prod-api"]["scanOnPush"]) == ("CONTINUOUS_SCAN", True)
    assert (got["repo-prod"]["scanFrequency"], got["repo-prod"]["scanOnPush"]) == ("SCAN_ON_PUSH", True)
    assert {item["filter"] for item in got["prod-api"]["appliedScanFilters"]} >= {"prod-*"}


def test_batch_get_scanning_configuration(scan_server):
    server = scan_server()
    server.create_repository("flagged", imageScanningConfiguration={"scanOnPush": True})
    server.create_repository("plain")

    response = server.ecr.batch_get_repository_scanning_configuration(
        repositoryNames=["flagged", "missing-repo", "plain"])
    cli = server.aws_json("ecr", "batch-get-repository-scanning-configuration", "--repository-names", "missing-repo")

    got = {config["repositoryName"]: config for config in response["scanningConfigurations"]}
    assert sorted(got) == ["flagged", "plain"]
    assert (got["flagged"]["scanFrequency"], got["flagged"]["scanOnPush"], got["flagged"]["appliedScanFilters"]) == (
        "SCAN_ON_PUSH", True, [])
    assert (got["plain"]["scanFrequency"], got["plain"]["scanOnPush"]) == ("MANUAL", False)
    assert response["failures"] == [{"repositoryName": "missing-repo", "failureCode": "REPOSITORY_NOT_FOUND",
                                     "failureReason": "REPOSITORY_NOT_FOUND"}]
    assert cli["scanningConfigurations"] == []
    assert [failure["failureCode"] for failure in cli["failures"]] == ["REPOSITORY_NOT_FOUND"]


def test_manual_rule_overrides_repository_flag(scan_server, fixture_images, fixture_manifest):
    """A registry rule that covers a repository decides its frequency, even MANUAL over scanOnPush."""
    server = scan_server()
    server.create_repository("manual-rule", imageScanningConfiguration={"scanOnPush": True})
    server.create_repository("witness", imageScanningConfiguration={"scanOnPush": True})
    put_registry_config(server, "BASIC", scan_rule("MANUAL", "manual-rule"))

    config = server.ecr.batch_get_repository_scanning_configuration(
        repositoryNames=["manual-rule", "witness"])["scanningConfigurations"]
    unscanned = push_apps(server, fixture_images, fixture_manifest, "manual-rule")
    witness = push_apps(server, fixture_images, fixture_manifest, "witness")
    wait_for_scan(server, "witness", {"imageDigest": witness})

    got = {entry["repositoryName"]: entry for entry in config}
    assert (got["manual-rule"]["scanFrequency"], got["manual-rule"]["scanOnPush"]) == ("MANUAL", False)
    assert (got["witness"]["scanFrequency"], got["witness"]["scanOnPush"]) == ("SCAN_ON_PUSH", True)
    assert scan_not_found(server, "manual-rule", {"imageDigest": unscanned})[1] == "ScanNotFoundException"


# Multi-platform images


def test_index_scan_reports_platform_findings(server, repository, fixture_images, fixture_manifest):
    apps = push_layout_image(server, layout(fixture_images, fixture_manifest, "apps"), repository)
    alpine = push_layout_image(server, layout(fixture_images, fixture_manifest, "alpine-like"), repository)
    index = json.dumps({"schemaVersion": 2, "mediaType": testimages.OCI_INDEX, "manifests": [
        dict(apps, platform={"architecture": "amd64", "os": "linux"}),
        dict(alpine, platform={"architecture": "arm64", "os": "linux", "variant": "v8"}),
    ]}).encode()
    response = server.put_manifest(repository, "multi", index, testimages.OCI_INDEX)
    assert response.status_code == 201, response.text
    expected = expected_findings("apps") + expected_findings("alpine-like")

    result = scan(server, repository, {"imageTag": "multi"})
    detail = server.ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "multi"}])["imageDetails"][0]

    assert result["imageId"]["imageDigest"] == testimages.sha256_digest(index)
    assert result["imageScanStatus"]["status"] == "COMPLETE"
    assert_basic_findings(result["imageScanFindings"]["findings"], expected)
    assert result["imageScanFindings"]["findingSeverityCounts"] == severity_counts(expected)
    assert detail["imageScanStatus"]["status"] == "COMPLETE"
    assert detail["imageScanFindingsSummary"]["findingSeverityCounts"] == severity_counts(expected)


def test_index_with_unsupported_platform_image(server, repository, fixture_images, fixture_manifest):
    """An index whose last platform image has no operating system still reports the first one's findings."""
    apps = push_layout_image(server, layout(fixture_images, fixture_manifest, "apps"), repository)
    single = push_layout_image(server, layout(fixture_images, fixture_manifest, "single"), repository)
    index = json.dumps({"schemaVersion": 2, "mediaType": testimages.OCI_INDEX, "manifests": [
        dict(apps, platform={"architecture": "amd64", "os": "linux"}),
        dict(single, platform={"architecture": "arm64", "os": "linux"}),
    ]}).encode()
    assert server.put_manifest(repository, "mixed", index, testimages.OCI_INDEX).status_code == 201

    result = scan(server, repository, {"imageTag": "mixed"})

    assert result["imageScanStatus"]["status"] == "COMPLETE"
    assert_basic_findings(result["imageScanFindings"]["findings"], expected_findings("apps"))


# Continuous rescans when the vulnerability database changes

NEW_ADVISORY = {
    "schema_version": "1.6.0",
    "id": "DEBIAN-CVE-2099-0001",
    "modified": "2027-01-02T00:00:00Z",
    "published": "2027-01-01T00:00:00Z",
    "aliases": ["CVE-2099-0001"],
    "summary": "Sample advisory added by the localecr tests",
    "details": "A made-up bash issue that exists only in the tests, to see a rescan pick up a new advisory.",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.2.15-3"}]}]}],
    "references": [{"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/CVE-2099-0001"}],
    "database_specific": {"localecr_fixture": "test record"},
}
NEW_FINDING = ("CVE-2099-0001", "CRITICAL", "bash", "5.2.15-2+b2", "5.2.15-3", "YES")


def copy_vuln_db(tmp_path) -> Path:
    target = tmp_path / "osv"
    shutil.copytree(VULN_DB, target)
    return target


def add_advisory(folder: Path, advisory: dict):
    """Write a new advisory file and move the folder's mtime on, since the server watches it."""
    (folder / f"{advisory['id']}.json").write_text(json.dumps(advisory, indent=2))
    later = time.time() + 5
    os.utime(folder, (later, later))


def short_enhanced(finding) -> tuple:
    package = finding["packageVulnerabilityDetails"]["vulnerablePackages"][0]
    return (finding["packageVulnerabilityDetails"]["vulnerabilityId"], finding["severity"], package["name"],
            package["version"], package["fixedInVersion"], finding["fixAvailable"])


def enhanced_now(server, repository, digest) -> dict:
    return raw_findings(server, repository, digest)


def wait_for_enhanced(server, repository, digest, predicate, timeout=10.0) -> dict:
    def probe():
        response = enhanced_now(server, repository, digest)
        if response["imageScanStatus"]["status"] != "COMPLETE":
            return None
        return response if predicate(response["imageScanFindings"]["enhancedFindings"]) else None
    return wait_until(probe, timeout, 0.2, f"a rescan of {digest} in {repository}")


def has_new_finding(findings) -> bool:
    return NEW_FINDING in {short_enhanced(finding) for finding in findings}


def continuous_server(scan_server, tmp_path, fixture_images, fixture_manifest, *extra_args):
    """Start a server on a copy of the database, ENHANCED, with `cont-apps` continuous and `push-apps` on push only."""
    folder = copy_vuln_db(tmp_path)
    server = scan_server(*extra_args, vuln_db=folder)
    put_registry_config(server, "ENHANCED", scan_rule("CONTINUOUS_SCAN", "cont-*"),
                        scan_rule("SCAN_ON_PUSH", "push-*"))
    digests = {}
    for name in ("cont-apps", "push-apps"):
        server.create_repository(name)
        digests[name] = push_apps(server, fixture_images, fixture_manifest, name)
        first = wait_for_scan(server, name, {"imageDigest": digests[name]})
        assert first["imageScanStatus"]["status"] == "COMPLETE"
        assert len(first["imageScanFindings"]["enhancedFindings"]) == 24
    return server, folder, digests


def test_continuous_rescan_after_reload(scan_server, tmp_path, fixture_images, fixture_manifest):
    server, folder, digests = continuous_server(scan_server, tmp_path, fixture_images, fixture_manifest)
    before = enhanced_now(server, "push-apps", digests["push-apps"])["imageScanFindings"]
    add_advisory(folder, NEW_ADVISORY)

    reloaded = server.http.post(server.url + "/_localecr/vulndb/reload", timeout=60)
    rescanned = wait_for_enhanced(server, "cont-apps", digests["cont-apps"], has_new_finding)
    time.sleep(1.5)
    after = enhanced_now(server, "push-apps", digests["push-apps"])["imageScanFindings"]

    assert reloaded.status_code == 200, reloaded.text
    assert reloaded.json()["advisories"] == 36
    findings = rescanned["imageScanFindings"]
    assert len(findings["enhancedFindings"]) == 25
    assert findings["findingSeverityCounts"] == dict(severity_counts(expected_findings("apps")),
                                                     CRITICAL=8)
    assert findings["vulnerabilitySourceUpdatedAt"] == datetime.datetime(
        2027, 1, 2, tzinfo=datetime.timezone.utc).timestamp()
    # SCAN_ON_PUSH repositories are not rescanned.
    assert after["imageScanCompletedAt"] == before["imageScanCompletedAt"]
    assert not has_new_finding(after["enhancedFindings"])


def test_continuous_rescan_on_maintenance_pass(scan_server, tmp_path, fixture_images, fixture_manifest):
    # A lifecycle interval of 2 s makes the maintenance pass, which checks the database folder, run every second.
    server, folder, digests = continuous_server(scan_server, tmp_path, fixture_images, fixture_manifest,
                                                "--lifecycle-interval", "2")

    add_advisory(folder, NEW_ADVISORY)
    rescanned = wait_for_enhanced(server, "cont-apps", digests["cont-apps"], has_new_finding)

    assert len(rescanned["imageScanFindings"]["enhancedFindings"]) == 25


def test_continuous_rescan_after_edit_in_place(scan_server, tmp_path, fixture_images, fixture_manifest):
    """`--vuln-db`: "a change to it rescans CONTINUOUS_SCAN repositories", also an edit of an existing file."""
    server, folder, digests = continuous_server(scan_server, tmp_path, fixture_images, fixture_manifest,
                                                "--lifecycle-interval", "2")
    path = folder / "DEBIAN-CVE-2016-2781.json"
    folder_times = os.stat(folder)
    advisory = json.loads(path.read_text())
    advisory["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
    advisory["modified"] = "2027-01-03T00:00:00Z"

    with open(path, "w") as stream:  # rewrite the same file, as an editor saving in place does
        stream.write(json.dumps(advisory, indent=2))
    later = time.time() + 5
    os.utime(path, (later, later))
    os.utime(folder, ns=(folder_times.st_atime_ns, folder_times.st_mtime_ns))
    rescanned = wait_for_enhanced(
        server, "cont-apps", digests["cont-apps"],
        lambda findings: ("CVE-2016-2781", "CRITICAL", "coreutils", "9.1-1", "NotAvailable", "NO")
        in {short_enhanced(finding) for finding in findings})

    assert len(rescanned["imageScanFindings"]["enhancedFindings"]) == 24


# Restart


def zero_layer(size: int) -> bytes:
    """Return a gzip tar layer with one file of `size` zero bytes: small to push, slow to read."""
    info = tarfile.TarInfo("data/zeros.bin")
    info.size = size
    info.mode = 0o644
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    parts = [compressor.compress(info.tobuf(format=tarfile.USTAR_FORMAT))]
    chunk = bytes(1 << 20)
    for _ in range(size >> 20):
        parts.append(compressor.compress(chunk))
    parts.append(compressor.compress(bytes(-size % 512 + 1024)))
    parts.append(compressor.flush())
    return b"".join(parts)


def push_slow_image(server, repository, tag) -> str:
    """Push an image that lists one 512 MiB zero layer 16 times, so that its scan takes seconds."""
    config = testimages.Blob(json.dumps({"architecture": "amd64", "os": "linux",
                                         "rootfs": {"type": "layers", "diff_ids": []}}).encode(),
                             testimages.OCI_CONFIG)
    layer = testimages.Blob(zero_layer(512 << 20), testimages.OCI_LAYER)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": testimages.OCI_MANIFEST,
                           "config": config.descriptor(), "layers": [layer.descriptor()] * 16}).encode()
    server.push_blob(repository, config.data)
    server.push_blob(repository, layer.data)
    response = server.put_manifest(repository, tag, manifest, testimages.OCI_MANIFEST)
    assert response.status_code == 201, response.text
    return testimages.sha256_digest(manifest)


def test_queued_scan_resumes_after_restart(scan_server, fixture_images, fixture_manifest):
    server = scan_server()
    server.create_repository("queue")
    slow = push_slow_image(server, "queue", "slow")
    apps = push_apps(server, fixture_images, fixture_manifest, "queue")

    server.ecr.start_image_scan(repositoryName="queue", imageId={"imageDigest": slow})
    server.ecr.start_image_scan(repositoryName="queue", imageId={"imageDigest": apps})
    server.kill()
    queued = dict(server.query_database("SELECT i.digest, s.status FROM scans s JOIN images i ON i.id = s.image_id"))
    assert queued.get(apps) in ("PENDING", "IN_PROGRESS"), f"the apps scan was not queued at the kill: {queued}"
    server.start()
    result = wait_for_scan(server, "queue", {"imageDigest": apps})

    assert result["imageScanStatus"]["status"] == "COMPLETE"
    assert_basic_findings(result["imageScanFindings"]["findings"], expected_findings("apps"))
    assert wait_for_scan(server, "queue", {"imageDigest": slow})["imageScanStatus"]["status"] == "UNSUPPORTED_IMAGE"


# The real Debian 12 image


@pytest.mark.slow
def test_debian_image_findings_match_expected(scan_server, debian_layout, fixture_manifest):
    server = scan_server()
    entry = fixture_manifest["debian"]
    digest = entry["digest"]
    expected = expected_findings("debian")
    server.create_repository("debian/basic")
    skopeo_push(server, debian_layout, "debian/basic", "12")

    started = server.aws_json("ecr", "start-image-scan", "--repository-name", "debian/basic",
                              "--image-id", "imageTag=12")
    basic = wait_for_scan(server, "debian/basic", {"imageDigest": digest}, timeout=180)
    basic_cli = cli_findings(server, "debian/basic", digest)

    assert started["imageScanStatus"]["status"] == "IN_PROGRESS"
    assert basic["imageScanStatus"]["status"] == "COMPLETE"
    for findings in (basic["imageScanFindings"], basic_cli["imageScanFindings"]):
        assert_basic_findings(findings["findings"], expected)
        assert findings["findingSeverityCounts"] == severity_counts(expected)

    put_registry_config(server, "ENHANCED", scan_rule("SCAN_ON_PUSH", "debian/enhanced"))
    server.create_repository("debian/enhanced")
    skopeo_push(server, debian_layout, "debian/enhanced", "12")
    enhanced = wait_for_scan(server, "debian/enhanced", {"imageDigest": digest}, timeout=180)
    enhanced_cli = cli_findings(server, "debian/enhanced", digest)
    enhanced_raw = raw_findings(server, "debian/enhanced", digest)

    (layer,) = entry["layers"]
    assert enhanced["imageScanStatus"]["status"] == "COMPLETE"
    for findings, is_raw in ((enhanced["imageScanFindings"], False), (enhanced_cli["imageScanFindings"], False),
                             (enhanced_raw["imageScanFindings"], True)):
        assert_enhanced_findings(findings["enhancedFindings"], expected, lambda _: layer["digest"],
                                 repository="debian/enhanced", digest=digest, tags=["12"], raw=is_raw)
        assert findings["findingSeverityCounts"] == severity_counts(expected)
