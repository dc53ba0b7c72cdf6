"""Build small, deterministic container images in memory for registry tests.

Every image is derived from a seed string, so two tests that use different
seeds never share a digest. Manifests are serialised with three-space
indentation (the docker CLI's style) so that a server that re-serialises
JSON instead of storing the pushed bytes produces a different digest.
"""

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

# Media types of a single-platform manifest and of a multi-platform index, per format.
FORMATS = {
    "docker": {"manifest": DOCKER_MANIFEST, "index": DOCKER_MANIFEST_LIST,
               "config": DOCKER_CONFIG, "layer": DOCKER_LAYER},
    "oci": {"manifest": OCI_MANIFEST, "index": OCI_INDEX,
            "config": OCI_CONFIG, "layer": OCI_LAYER},
}


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def encode_json(document) -> bytes:
    return json.dumps(document, indent=3).encode()


@dataclass
class Blob:
    data: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "size": self.size, "digest": self.digest}


@dataclass
class Image:
    """A single-platform image: config blob, layer blobs and the manifest bytes."""

    config: Blob
    layers: list
    manifest: bytes
    media_type: str
    platform: dict = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def blobs(self) -> list:
        return [self.config, *self.layers]

    @property
    def layers_size(self) -> int:
        return sum(layer.size for layer in self.layers)


@dataclass
class ImageIndex:
    """A multi-platform image: the child images and the index (manifest list) bytes."""

    images: list
    manifest: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)


def make_layer(files: dict) -> bytes:
    """Return a gzip-compressed tar of `files` (path -> bytes) with fixed timestamps."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, content in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mtime = 0
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(content))
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0) as stream:
        stream.write(raw.getvalue())
    return compressed.getvalue()


def build_image(seed: str, *, fmt: str = "docker", layer_count: int = 1,
                architecture: str = "amd64", layer_bytes: int = 64) -> Image:
    """Build an image whose layers contain files derived from `seed`."""
    types = FORMATS[fmt]
    layers = []
    diff_ids = []
    for index in range(layer_count):
        filler = hashlib.sha256(f"{seed}/{architecture}/{index}".encode()).hexdigest().encode()
        content = (filler * (layer_bytes // len(filler) + 1))[:layer_bytes]
        layer = make_layer({f"layer{index}/{seed}.txt": content})
        layers.append(Blob(layer, types["layer"]))
        diff_ids.append(sha256_digest(gzip.decompress(layer)))

    config_document = {
        "architecture": architecture,
        "os": "linux",
        "config": {"Cmd": ["/bin/true"], "Labels": {"seed": seed}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config = Blob(encode_json(config_document), types["config"])

    manifest_document = {
        "schemaVersion": 2,
        "mediaType": types["manifest"],
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    platform = {"architecture": architecture, "os": "linux"}
    return Image(config, layers, encode_json(manifest_document), types["manifest"], platform)


def build_index(seed: str, *, fmt: str = "docker",
                architectures: tuple = ("amd64", "arm64")) -> ImageIndex:
    """Build a multi-platform image with one child image per architecture."""
    media_type = FORMATS[fmt]["index"]
    images = [build_image(seed, fmt=fmt, architecture=arch) for arch in architectures]
    index_document = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            {"mediaType": image.media_type, "size": len(image.manifest),
             "digest": image.digest, "platform": image.platform}
            for image in images
        ],
    }
    return ImageIndex(images, encode_json(index_document), media_type)


def schema1_image(name: str, tag: str, seed: str) -> tuple:
    """Return (manifest bytes, layer bytes) of a Docker image manifest v2 schema 1, unsigned."""
    layer = make_layer({f"{seed}.txt": seed.encode()})
    document = {
        "schemaVersion": 1,
        "name": name,
        "tag": tag,
        "architecture": "amd64",
        "fsLayers": [{"blobSum": sha256_digest(layer)}],
        "history": [{"v1Compatibility": json.dumps({"id": hashlib.sha256(seed.encode()).hexdigest()})}],
    }
    return encode_json(document), layer
