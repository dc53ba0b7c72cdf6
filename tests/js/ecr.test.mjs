// ECR operations that Debian's boto3 and awscli lack, driven through the AWS SDK for JavaScript v3.
//
// The test starts its own localecr (LOCALECR_BIN, default build/localecr) on an
// ephemeral loopback port with a temporary data directory. The client gets an
// explicit endpoint, region and dummy credentials, so no request leaves 127.0.0.1.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import {
  BatchCheckLayerAvailabilityCommand,
  BatchGetImageCommand,
  CompleteLayerUploadCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAccountSettingCommand,
  GetAuthorizationTokenCommand,
  GetDownloadUrlForLayerCommand,
  GetLifecyclePolicyPreviewCommand,
  InitiateLayerUploadCommand,
  ListImageReferrersCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutAccountSettingCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateImageStorageClassCommand,
  UploadLayerPartCommand,
} from "@aws-sdk/client-ecr";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BINARY = process.env.LOCALECR_BIN || path.resolve(HERE, "../../build/localecr");
const ACCOUNT = "000000000000";
const REGION = "us-east-1";
const MIB = 1024 * 1024;
const HEALTH_TIMEOUT_MS = 5000;
const START_ATTEMPTS = 3;
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const EMPTY_CONFIG = "application/vnd.oci.empty.v1+json";
const SBOM_TYPE = "application/vnd.example.sbom.v1+json";
const SIGNATURE_TYPE = "application/vnd.example.signature.v1+json";

let serverProcess;
let workDir;
let logPath;
let endpoint;
let ecr;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilHealthy() {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let lastError = "no response";
  while (Date.now() < deadline) {
    if (serverProcess.exitCode !== null) {
      throw new Error(`localecr exited with ${serverProcess.exitCode}:\n${readFileSync(logPath, "utf8")}`);
    }
    try {
      const response = await fetch(`${endpoint}/_localecr/health`);
      if (response.status === 200 && serverProcess.exitCode === null) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`localecr not healthy within ${HEALTH_TIMEOUT_MS} ms (${lastError}):\n${readFileSync(logPath, "utf8")}`);
}

function stopServer() {
  return new Promise((resolve) => {
    if (!serverProcess || serverProcess.exitCode !== null) return resolve();
    const timer = setTimeout(() => serverProcess.kill("SIGKILL"), 10000);
    serverProcess.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    serverProcess.kill("SIGTERM");
  });
}

async function startServer() {
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  const log = openSync(logPath, "a");
  serverProcess = spawn(BINARY, ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir",
    path.join(workDir, "data"), "--log-level", "debug"], { stdio: ["ignore", log, log] });
  closeSync(log);
  await waitUntilHealthy();
}

before(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "localecr-js-"));
  logPath = path.join(workDir, "server.log");
  // Another process may take the free port before the server binds it, so try a few ports.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await startServer();
      break;
    } catch (error) {
      await stopServer();
      if (attempt === START_ATTEMPTS) throw error;
    }
  }
  ecr = new ECRClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
});

after(async () => {
  ecr?.destroy();
  await stopServer();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

// Helpers

let repositoryCounter = 0;

async function newRepository(prefix, extra = {}) {
  repositoryCounter += 1;
  const repositoryName = `${prefix}-${process.pid}-${repositoryCounter}`;
  const response = await ecr.send(new CreateRepositoryCommand({ repositoryName, ...extra }));
  return { name: repositoryName, arn: response.repository.repositoryArn };
}

function sha256(data) {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function bytesOf(seed, size) {
  const unit = Buffer.from(createHash("sha256").update(seed).digest("hex"));
  const out = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += unit.length) unit.copy(out, offset);
  return out;
}

async function expectError(promise, name) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, name, `expected ${name}, got ${error.name}: ${error.message}`);
    assert.equal(error.$metadata?.httpStatusCode, 400);
    return true;
  });
}

async function uploadLayer(repositoryName, data, partSizes = [data.length]) {
  const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName }));
  let offset = 0;
  for (const size of partSizes) {
    const part = data.subarray(offset, offset + size);
    const response = await ecr.send(new UploadLayerPartCommand({
      repositoryName, uploadId, partFirstByte: offset, partLastByte: offset + part.length - 1,
      layerPartBlob: part,
    }));
    assert.equal(response.lastByteReceived, offset + part.length - 1);
    offset += part.length;
  }
  const digest = sha256(data);
  const completed = await ecr.send(new CompleteLayerUploadCommand({ repositoryName, uploadId, layerDigests: [digest] }));
  assert.equal(completed.layerDigest, digest);
  return digest;
}

async function putManifest(repositoryName, document, tag) {
  const manifest = JSON.stringify(document);
  const response = await ecr.send(new PutImageCommand({
    repositoryName, imageManifest: manifest, imageManifestMediaType: document.mediaType,
    ...(tag ? { imageTag: tag } : {}),
  }));
  assert.equal(response.image.imageId.imageDigest, sha256(manifest));
  return { digest: sha256(manifest), size: Buffer.byteLength(manifest) };
}

// Tests

describe("DescribeRegistry", () => {
  test("returns the registry ID and an empty replication configuration", async () => {
    const response = await ecr.send(new DescribeRegistryCommand({}));
    assert.equal(response.registryId, ACCOUNT);
    assert.deepEqual(response.replicationConfiguration, { rules: [] });
  });
});

describe("account settings", () => {
  test("have their defaults", async () => {
    const expected = { BASIC_SCAN_TYPE_VERSION: "AWS_NATIVE", REGISTRY_POLICY_SCOPE: "V2", BLOB_MOUNTING: "DISABLED" };
    for (const [name, value] of Object.entries(expected)) {
      const response = await ecr.send(new GetAccountSettingCommand({ name }));
      assert.equal(response.name, name);
      assert.equal(response.value, value, name);
    }
  });

  test("can be put and read back", async () => {
    const put = await ecr.send(new PutAccountSettingCommand({ name: "REGISTRY_POLICY_SCOPE", value: "V1" }));
    assert.deepEqual([put.name, put.value], ["REGISTRY_POLICY_SCOPE", "V1"]);
    const got = await ecr.send(new GetAccountSettingCommand({ name: "REGISTRY_POLICY_SCOPE" }));
    assert.equal(got.value, "V1");
    await ecr.send(new PutAccountSettingCommand({ name: "REGISTRY_POLICY_SCOPE", value: "V2" }));
    const restored = await ecr.send(new GetAccountSettingCommand({ name: "REGISTRY_POLICY_SCOPE" }));
    assert.equal(restored.value, "V2");
  });

  test("reject an unknown name or value", async () => {
    await expectError(ecr.send(new GetAccountSettingCommand({ name: "NO_SUCH_SETTING" })), "InvalidParameterException");
    await expectError(ecr.send(new PutAccountSettingCommand({ name: "NO_SUCH_SETTING", value: "ENABLED" })),
      "InvalidParameterException");
    await expectError(ecr.send(new PutAccountSettingCommand({ name: "BLOB_MOUNTING", value: "SOMETIMES" })),
      "InvalidParameterException");
    const unchanged = await ecr.send(new GetAccountSettingCommand({ name: "BLOB_MOUNTING" }));
    assert.equal(unchanged.value, "DISABLED");
  });
});

describe("resource tags", () => {
  test("CreateRepository tags, TagResource and UntagResource", async () => {
    const repo = await newRepository("tags", { tags: [{ Key: "owner", Value: "alice" }] });
    const initial = await ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.arn }));
    assert.deepEqual(initial.tags, [{ Key: "owner", Value: "alice" }]);

    await ecr.send(new TagResourceCommand({ resourceArn: repo.arn, tags: [{ Key: "team", Value: "core" }] }));
    await ecr.send(new UntagResourceCommand({ resourceArn: repo.arn, tagKeys: ["owner"] }));

    const final = await ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.arn }));
    assert.deepEqual(final.tags, [{ Key: "team", Value: "core" }]);
  });

  test("enforce the 50-tag limit and the key rules", async () => {
    const repo = await newRepository("tag-limits");
    const fifty = Array.from({ length: 50 }, (_, index) => ({ Key: `k${index}`, Value: `v${index}` }));
    await ecr.send(new TagResourceCommand({ resourceArn: repo.arn, tags: fifty }));
    await expectError(ecr.send(new TagResourceCommand({ resourceArn: repo.arn, tags: [{ Key: "one-more", Value: "x" }] })),
      "TooManyTagsException");
    await expectError(ecr.send(new TagResourceCommand({ resourceArn: repo.arn, tags: [{ Key: "aws:name", Value: "x" }] })),
      "InvalidTagParameterException");
    const listed = await ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.arn }));
    assert.equal(listed.tags.length, 50);
  });

  test("report unknown repositories and malformed ARNs", async () => {
    await expectError(ecr.send(new ListTagsForResourceCommand({
      resourceArn: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/no-such-repository-${process.pid}`,
    })), "RepositoryNotFoundException");
    await expectError(ecr.send(new ListTagsForResourceCommand({ resourceArn: "arn:aws:s3:::bucket" })),
      "InvalidParameterException");
  });
});

describe("layer upload", () => {
  test("Initiate, UploadLayerPart and Complete, then check and download the layer", async () => {
    const repo = await newRepository("layers");
    const data = bytesOf("layer upload", 5 * MIB + 4321);

    const initiated = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: repo.name }));
    assert.match(initiated.uploadId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(initiated.partSize, 10 * MIB);
    const first = await ecr.send(new UploadLayerPartCommand({
      repositoryName: repo.name, uploadId: initiated.uploadId, partFirstByte: 0, partLastByte: 5 * MIB - 1,
      layerPartBlob: data.subarray(0, 5 * MIB),
    }));
    assert.deepEqual([first.registryId, first.repositoryName, first.uploadId, first.lastByteReceived],
      [ACCOUNT, repo.name, initiated.uploadId, 5 * MIB - 1]);
    await ecr.send(new UploadLayerPartCommand({
      repositoryName: repo.name, uploadId: initiated.uploadId, partFirstByte: 5 * MIB,
      partLastByte: data.length - 1, layerPartBlob: data.subarray(5 * MIB),
    }));
    const digest = sha256(data);
    const completed = await ecr.send(new CompleteLayerUploadCommand({
      repositoryName: repo.name, uploadId: initiated.uploadId, layerDigests: [digest],
    }));
    assert.deepEqual([completed.registryId, completed.repositoryName, completed.uploadId, completed.layerDigest],
      [ACCOUNT, repo.name, initiated.uploadId, digest]);

    const checked = await ecr.send(new BatchCheckLayerAvailabilityCommand({
      repositoryName: repo.name, layerDigests: [digest, sha256("missing")],
    }));
    assert.equal(checked.layers.length, 1);
    assert.equal(checked.layers[0].layerDigest, digest);
    assert.equal(checked.layers[0].layerAvailability, "AVAILABLE");
    assert.equal(checked.layers[0].layerSize, data.length);
    assert.deepEqual(checked.failures.map((f) => [f.layerDigest, f.failureCode]),
      [[sha256("missing"), "MissingLayerDigest"]]);

    const { downloadUrl, layerDigest } = await ecr.send(new GetDownloadUrlForLayerCommand({
      repositoryName: repo.name, layerDigest: digest,
    }));
    assert.equal(layerDigest, digest);
    assert.ok(downloadUrl.startsWith(`${endpoint}/_localecr/layers/`), downloadUrl);
    const downloaded = Buffer.from(await (await fetch(downloadUrl)).arrayBuffer());
    assert.ok(downloaded.equals(data), "downloaded layer differs from the uploaded one");
  });

  test("report a part out of place with lastValidByteReceived", async () => {
    const repo = await newRepository("layer-gap");
    const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: repo.name }));
    await ecr.send(new UploadLayerPartCommand({
      repositoryName: repo.name, uploadId, partFirstByte: 0, partLastByte: 9, layerPartBlob: bytesOf("a", 10),
    }));
    await assert.rejects(ecr.send(new UploadLayerPartCommand({
      repositoryName: repo.name, uploadId, partFirstByte: 20, partLastByte: 29, layerPartBlob: bytesOf("b", 10),
    })), (error) => {
      assert.equal(error.name, "InvalidLayerPartException");
      assert.equal(error.lastValidByteReceived, 9);
      assert.equal(error.uploadId, uploadId);
      assert.equal(error.repositoryName, repo.name);
      assert.equal(error.registryId, ACCOUNT);
      return true;
    });
  });

  test("reject a small part that is not the last, and an empty upload", async () => {
    const repo = await newRepository("layer-small");
    const data = bytesOf("small parts", 2000);
    const { uploadId } = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: repo.name }));
    for (const [first, last] of [[0, 999], [1000, 1999]]) {
      await ecr.send(new UploadLayerPartCommand({
        repositoryName: repo.name, uploadId, partFirstByte: first, partLastByte: last,
        layerPartBlob: data.subarray(first, last + 1),
      }));
    }
    await assert.rejects(ecr.send(new CompleteLayerUploadCommand({
      repositoryName: repo.name, uploadId, layerDigests: [sha256(data)],
    })), (error) => {
      assert.equal(error.name, "LayerPartTooSmallException");
      assert.equal(error.message, "Layer parts must be at least 5 MiB in size.");
      return true;
    });

    const empty = await ecr.send(new InitiateLayerUploadCommand({ repositoryName: repo.name }));
    await expectError(ecr.send(new CompleteLayerUploadCommand({
      repositoryName: repo.name, uploadId: empty.uploadId, layerDigests: [sha256("")],
    })), "EmptyUploadException");
    await expectError(ecr.send(new UploadLayerPartCommand({
      repositoryName: repo.name, uploadId: "0123abcd-0000-4000-8000-000000000000", partFirstByte: 0, partLastByte: 0,
      layerPartBlob: Buffer.from("x"),
    })), "UploadNotFoundException");
  });
});

describe("ListImageReferrers", () => {
  test("lists artifacts pushed with PutImage whose subject is the image", async () => {
    const repo = await newRepository("referrers");
    const layer = bytesOf("referrer layer", 300);
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
    const empty = Buffer.from("{}");
    const layerDigest = await uploadLayer(repo.name, layer);
    const configDigest = await uploadLayer(repo.name, config);
    const emptyDigest = await uploadLayer(repo.name, empty);
    const subject = await putManifest(repo.name, {
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: [{ mediaType: OCI_LAYER, digest: layerDigest, size: layer.length }],
    }, "v1");
    const subjectDescriptor = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size };
    const artifact = (artifactType, annotations) => ({
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType,
      config: { mediaType: EMPTY_CONFIG, digest: emptyDigest, size: 2 },
      layers: [{ mediaType: EMPTY_CONFIG, digest: emptyDigest, size: 2 }],
      subject: subjectDescriptor, annotations,
    });
    const sbom = await putManifest(repo.name, artifact(SBOM_TYPE, { "org.example.kind": "sbom" }));
    const signature = await putManifest(repo.name, artifact(SIGNATURE_TYPE, { "org.example.kind": "signature" }));

    const all = await ecr.send(new ListImageReferrersCommand({
      repositoryName: repo.name, subjectId: { imageDigest: subject.digest },
    }));
    const byDigest = Object.fromEntries(all.referrers.map((referrer) => [referrer.digest, referrer]));
    assert.deepEqual(Object.keys(byDigest).sort(), [sbom.digest, signature.digest].sort());
    assert.deepEqual(byDigest[sbom.digest], {
      digest: sbom.digest, mediaType: OCI_MANIFEST, artifactType: SBOM_TYPE, size: sbom.size,
      annotations: { "org.example.kind": "sbom" }, artifactStatus: "ACTIVE",
    });
    assert.equal(byDigest[signature.digest].artifactType, SIGNATURE_TYPE);

    const filtered = await ecr.send(new ListImageReferrersCommand({
      repositoryName: repo.name, subjectId: { imageDigest: subject.digest },
      filter: { artifactTypes: [SIGNATURE_TYPE] },
    }));
    assert.deepEqual(filtered.referrers.map((referrer) => referrer.digest), [signature.digest]);

    const none = await ecr.send(new ListImageReferrersCommand({
      repositoryName: repo.name, subjectId: { imageDigest: sbom.digest },
    }));
    assert.deepEqual(none.referrers, []);

    // The same referrers on /v2/, with the credentials from GetAuthorizationToken.
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    const response = await fetch(`${endpoint}/v2/${repo.name}/referrers/${subject.digest}`, {
      headers: { Authorization: `Basic ${token.authorizationData[0].authorizationToken}` },
    });
    assert.equal(response.status, 200);
    const index = await response.json();
    assert.deepEqual(index.manifests.map((descriptor) => descriptor.digest).sort(), [sbom.digest, signature.digest].sort());
  });

  test("reports an unknown repository", async () => {
    await expectError(ecr.send(new ListImageReferrersCommand({
      repositoryName: `no-such-repository-${process.pid}`, subjectId: { imageDigest: sha256("x") },
    })), "RepositoryNotFoundException");
  });
});

// Push a small image with the layer API: a config and a layer derived from seed, tagged when tag is given.
async function pushImage(repositoryName, seed, tag) {
  const layer = bytesOf(`${seed} layer`, 200);
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed, rootfs: { type: "layers", diff_ids: [] } }));
  const layerDigest = await uploadLayer(repositoryName, layer);
  const configDigest = await uploadLayer(repositoryName, config);
  const document = {
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
    layers: [{ mediaType: OCI_LAYER, digest: layerDigest, size: layer.length }],
  };
  const pushed = await putManifest(repositoryName, document, tag);
  return { ...pushed, manifest: JSON.stringify(document), mediaType: OCI_MANIFEST };
}

function immutableMessage(repositoryName, tag) {
  return `The image tag '${tag}' already exists in the '${repositoryName}' repository and cannot be overwritten because the tag is immutable.`;
}

async function expectErrorMessage(promise, name, message) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, name, `expected ${name}, got ${error.name}: ${error.message}`);
    assert.equal(error.$metadata?.httpStatusCode, 400);
    assert.equal(error.message, message);
    return true;
  });
}

async function putAgain(repositoryName, image, tag) {
  return ecr.send(new PutImageCommand({ repositoryName, imageManifest: image.manifest, imageManifestMediaType: image.mediaType, imageTag: tag }));
}

async function tagTarget(repositoryName, tag) {
  const response = await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: tag }] }));
  return response.images[0].imageId.imageDigest;
}

const wildcard = (...patterns) => patterns.map((filter) => ({ filterType: "WILDCARD", filter }));

describe("tag mutability exclusion filters", () => {
  test("CreateRepository and DescribeRepositories carry the filters", async () => {
    const filters = wildcard("latest", "dev-*");
    const repo = await newRepository("exclusions", { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: filters });
    const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repo.name] }));
    assert.equal(described.repositories[0].imageTagMutability, "IMMUTABLE_WITH_EXCLUSION");
    assert.deepEqual(described.repositories[0].imageTagMutabilityExclusionFilters, filters);
  });

  test("IMMUTABLE_WITH_EXCLUSION protects the tags no filter matches", async () => {
    const repo = await newRepository("immutable-excl", { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: wildcard("latest", "dev-*") });
    const first = await pushImage(repo.name, "immutable-excl first", "v1");
    await putAgain(repo.name, first, "latest");
    await putAgain(repo.name, first, "dev-1");
    const second = await pushImage(repo.name, "immutable-excl second");

    await expectErrorMessage(putAgain(repo.name, second, "v1"), "ImageTagAlreadyExistsException", immutableMessage(repo.name, "v1"));
    await putAgain(repo.name, second, "latest");
    await putAgain(repo.name, second, "dev-1");

    assert.equal(await tagTarget(repo.name, "v1"), first.digest);
    assert.equal(await tagTarget(repo.name, "latest"), second.digest);
    assert.equal(await tagTarget(repo.name, "dev-1"), second.digest);
  });

  test("MUTABLE_WITH_EXCLUSION protects the tags a filter matches", async () => {
    const repo = await newRepository("mutable-excl");
    const put = await ecr.send(new PutImageTagMutabilityCommand({
      repositoryName: repo.name, imageTagMutability: "MUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: wildcard("release-*"),
    }));
    assert.equal(put.imageTagMutability, "MUTABLE_WITH_EXCLUSION");
    assert.deepEqual(put.imageTagMutabilityExclusionFilters, wildcard("release-*"));
    const first = await pushImage(repo.name, "mutable-excl first", "release-1");
    await putAgain(repo.name, first, "latest");
    const second = await pushImage(repo.name, "mutable-excl second");

    await expectErrorMessage(putAgain(repo.name, second, "release-1"), "ImageTagAlreadyExistsException", immutableMessage(repo.name, "release-1"));
    await putAgain(repo.name, second, "latest");

    assert.equal(await tagTarget(repo.name, "release-1"), first.digest);
    assert.equal(await tagTarget(repo.name, "latest"), second.digest);
  });

  test("filters go only with the *_WITH_EXCLUSION settings", async () => {
    repositoryCounter += 1;
    const repositoryName = `exclusion-rules-${process.pid}-${repositoryCounter}`;
    for (const imageTagMutability of ["MUTABLE", "IMMUTABLE"]) {
      await expectError(ecr.send(new CreateRepositoryCommand({ repositoryName, imageTagMutability, imageTagMutabilityExclusionFilters: wildcard("latest") })),
        "InvalidParameterException");
    }
    for (const imageTagMutability of ["IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"]) {
      await expectErrorMessage(ecr.send(new CreateRepositoryCommand({ repositoryName, imageTagMutability })), "InvalidParameterException",
        "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: " +
        `'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as ${imageTagMutability}'`);
    }
    await expectError(ecr.send(new CreateRepositoryCommand({
      repositoryName, imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: wildcard("a", "b", "c", "d", "e", "f"),
    })), "InvalidParameterException");
    await expectError(ecr.send(new CreateRepositoryCommand({
      repositoryName, imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: wildcard("no spaces"),
    })), "InvalidParameterException");
    await expectError(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] })), "RepositoryNotFoundException");
  });
});

describe("archive storage class", () => {
  test("UpdateImageStorageClass archives and restores an image", async () => {
    const repo = await newRepository("storage-class");
    const image = await pushImage(repo.name, "storage class", "v1");

    const archived = await ecr.send(new UpdateImageStorageClassCommand({
      repositoryName: repo.name, imageId: { imageTag: "v1" }, targetStorageClass: "ARCHIVE",
    }));
    assert.deepEqual([archived.registryId, archived.repositoryName, archived.imageId, archived.imageStatus],
      [ACCOUNT, repo.name, { imageDigest: image.digest, imageTag: "v1" }, "ARCHIVED"]);

    const active = await ecr.send(new DescribeImagesCommand({ repositoryName: repo.name }));
    assert.deepEqual(active.imageDetails, []);
    const hidden = await ecr.send(new DescribeImagesCommand({ repositoryName: repo.name, filter: { imageStatus: "ARCHIVED" } }));
    assert.equal(hidden.imageDetails.length, 1);
    assert.equal(hidden.imageDetails[0].imageStatus, "ARCHIVED");
    assert.ok(hidden.imageDetails[0].lastArchivedAt instanceof Date);
    const listed = await ecr.send(new ListImagesCommand({ repositoryName: repo.name }));
    assert.deepEqual(listed.imageIds, [{ imageDigest: image.digest, imageTag: "v1" }]);
    const pulled = await ecr.send(new BatchGetImageCommand({ repositoryName: repo.name, imageIds: [{ imageTag: "v1" }] }));
    assert.deepEqual(pulled.images, []);
    assert.equal(pulled.failures[0].failureCode, "ImageNotFound");

    await expectError(ecr.send(new UpdateImageStorageClassCommand({
      repositoryName: repo.name, imageId: { imageDigest: image.digest }, targetStorageClass: "ARCHIVE",
    })), "ImageStorageClassUpdateNotSupportedException");

    const restored = await ecr.send(new UpdateImageStorageClassCommand({
      repositoryName: repo.name, imageId: { imageDigest: image.digest }, targetStorageClass: "STANDARD",
    }));
    assert.equal(restored.imageStatus, "ACTIVE");
    assert.deepEqual(restored.imageId, { imageDigest: image.digest });
    const described = await ecr.send(new DescribeImagesCommand({ repositoryName: repo.name, filter: { imageStatus: "ANY" } }));
    assert.equal(described.imageDetails.length, 1);
    assert.equal(described.imageDetails[0].imageStatus, "ACTIVE");
    assert.ok(described.imageDetails[0].lastActivatedAt instanceof Date);
    assert.ok(described.imageDetails[0].lastActivatedAt >= described.imageDetails[0].lastArchivedAt);
    const again = await ecr.send(new BatchGetImageCommand({ repositoryName: repo.name, imageIds: [{ imageTag: "v1" }] }));
    assert.equal(again.images[0].imageManifest, image.manifest);

    await expectError(ecr.send(new UpdateImageStorageClassCommand({
      repositoryName: repo.name, imageId: { imageTag: "v1" }, targetStorageClass: "STANDARD",
    })), "ImageStorageClassUpdateNotSupportedException");
    await expectError(ecr.send(new UpdateImageStorageClassCommand({
      repositoryName: repo.name, imageId: { imageTag: "missing" }, targetStorageClass: "ARCHIVE",
    })), "ImageNotFoundException");
  });

  test("a lifecycle preview reports transitions to the archive", async () => {
    const repo = await newRepository("preview-archive");
    const images = [];
    for (const n of [1, 2, 3]) images.push(await pushImage(repo.name, `preview archive ${n}`, `keep-${n}`));
    const lifecyclePolicyText = JSON.stringify({
      rules: [{
        rulePriority: 1, description: "archive all but the newest",
        selection: { tagStatus: "tagged", tagPrefixList: ["keep"], countType: "imageCountMoreThan", countNumber: 1 },
        action: { type: "transition", targetStorageClass: "archive" },
      }],
    });
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: repo.name, lifecyclePolicyText }));
    const started = await ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: repo.name }));
    assert.equal(started.status, "IN_PROGRESS");

    const preview = await ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: repo.name }));

    assert.equal(preview.status, "COMPLETE");
    const results = Object.fromEntries(preview.previewResults.map((result) => [result.imageDigest, result]));
    assert.deepEqual(Object.keys(results).sort(), [images[0].digest, images[1].digest].sort());
    for (const result of preview.previewResults) {
      assert.deepEqual(result.action, { type: "TRANSITION", targetStorageClass: "ARCHIVE" });
      assert.equal(result.appliedRulePriority, 1);
      assert.equal(result.storageClass, "STANDARD");
      assert.ok(result.imagePushedAt instanceof Date);
    }
    assert.equal(preview.summary.expiringImageTotalCount, 0);
    assert.deepEqual(preview.summary.transitioningImageTotalCounts, [{ targetStorageClass: "ARCHIVE", imageTotalCount: 2 }]);

    // The same run through the admin endpoint archives those two.
    const run = await (await fetch(`${endpoint}/_localecr/lifecycle/run`, {
      method: "POST", body: JSON.stringify({ repository: repo.name }),
    })).json();
    assert.deepEqual(run.transitioned.map((entry) => entry.imageDigest).sort(), [images[0].digest, images[1].digest].sort());
    const archived = await ecr.send(new DescribeImagesCommand({ repositoryName: repo.name, filter: { imageStatus: "ARCHIVED" } }));
    assert.deepEqual(archived.imageDetails.map((detail) => detail.imageDigest).sort(), [images[0].digest, images[1].digest].sort());
  });
});
