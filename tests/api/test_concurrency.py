"""Parallel pushes and API calls from several threads leave a consistent registry."""

from concurrent.futures import ThreadPoolExecutor

import testimages

THREADS = 8


def test_parallel_pushes_all_listed(server, repository, seed):
    images = [testimages.build_image(f"{seed}-{index}", layer_count=2, layer_bytes=200000)
              for index in range(THREADS)]

    def push(index):
        return server.thread_client().push_image(repository, images[index], tag=f"t{index}")

    with ThreadPoolExecutor(THREADS) as pool:
        digests = list(pool.map(push, range(THREADS)))

    assert digests == [image.digest for image in images]
    listed = {(entry["imageDigest"], entry["imageTag"])
              for entry in server.ecr.list_images(repositoryName=repository)["imageIds"]}
    assert listed == {(image.digest, f"t{index}") for index, image in enumerate(images)}


def test_same_blob_uploaded_in_parallel(server, repository, seed):
    data = testimages.make_layer({"shared": seed.encode() * 50000})
    digest = testimages.sha256_digest(data)

    def upload(_):
        return server.thread_client().push_blob(repository, data).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(upload, range(THREADS)))

    assert statuses == [201] * THREADS
    fetched = server.v2("GET", f"/{repository}/blobs/{digest}")
    assert fetched.content == data


def test_parallel_repository_creation(fresh_server):
    names = [f"parallel-{index}" for index in range(THREADS * 2)]

    def create(index):
        client = fresh_server.boto3_client()
        return client.create_repository(repositoryName=names[index])["repository"]

    with ThreadPoolExecutor(THREADS) as pool:
        created = list(pool.map(create, range(len(names))))

    assert [repository["repositoryName"] for repository in created] == names
    described = fresh_server.ecr.describe_repositories()["repositories"]
    assert sorted(repository["repositoryName"] for repository in described) == sorted(names)
