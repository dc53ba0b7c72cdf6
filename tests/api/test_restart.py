"""A server restarted on the same data directory keeps repositories, images, blobs and tokens."""

import operator

import testimages


def test_restart_keeps_repositories(fresh_server):
    fresh_server.create_repository("kept/one", imageTagMutability="IMMUTABLE")
    fresh_server.create_repository("kept-two")
    before = {repository["repositoryName"]: repository
              for repository in fresh_server.ecr.describe_repositories()["repositories"]}

    fresh_server.restart()

    after = {repository["repositoryName"]: repository
             for repository in fresh_server.ecr.describe_repositories()["repositories"]}
    assert after == before


def test_restart_keeps_images(fresh_server):
    fresh_server.create_repository("images")
    image = testimages.build_image("restart-image", layer_count=2)
    index = testimages.build_index("restart-index")
    fresh_server.push_image("images", image, tag="v1")
    fresh_server.push_image("images", index, tag="multi")
    details_before = fresh_server.ecr.describe_images(repositoryName="images")["imageDetails"]

    fresh_server.restart()

    details_after = fresh_server.ecr.describe_images(repositoryName="images")["imageDetails"]
    by_digest = operator.itemgetter("imageDigest")
    assert sorted(details_after, key=by_digest) == sorted(details_before, key=by_digest)
    for reference, expected in (("v1", image), ("multi", index)):
        got = fresh_server.v2("GET", f"/images/manifests/{reference}", headers={"Accept": expected.media_type})
        assert got.status_code == 200
        assert got.content == expected.manifest
    for blob in image.blobs:
        got = fresh_server.v2("GET", f"/images/blobs/{blob.digest}")
        assert got.status_code == 200
        assert got.content == blob.data


def test_restart_keeps_deletions(fresh_server):
    fresh_server.create_repository("deletions")
    kept_image = testimages.build_image("restart-kept")
    dropped_image = testimages.build_image("restart-dropped")
    fresh_server.push_image("deletions", kept_image, tag="kept")
    fresh_server.push_image("deletions", dropped_image, tag="dropped")
    fresh_server.ecr.batch_delete_image(repositoryName="deletions", imageIds=[{"imageTag": "dropped"}])
    fresh_server.create_repository("gone")
    fresh_server.ecr.delete_repository(repositoryName="gone")

    fresh_server.restart()

    listed = fresh_server.ecr.list_images(repositoryName="deletions")["imageIds"]
    assert listed == [{"imageDigest": kept_image.digest, "imageTag": "kept"}]
    names = [repository["repositoryName"] for repository in fresh_server.ecr.describe_repositories()["repositories"]]
    assert names == ["deletions"]


def test_token_valid_after_restart(fresh_server):
    # ECR tokens are valid for 12 hours, and a registry restart must not end them early.
    authorization = fresh_server.basic_auth

    fresh_server.restart()

    response = fresh_server.v2("GET", "/", auth=False, headers={"Authorization": authorization})
    assert response.status_code == 200


def test_restart_then_push_more(fresh_server):
    fresh_server.create_repository("grows")
    first = testimages.build_image("restart-first")
    fresh_server.push_image("grows", first, tag="v1")

    fresh_server.restart()
    second = testimages.build_image("restart-second")
    fresh_server.push_image("grows", second, tag="v2")

    listed = {(entry["imageDigest"], entry["imageTag"])
              for entry in fresh_server.ecr.list_images(repositoryName="grows")["imageIds"]}
    assert listed == {(first.digest, "v1"), (second.digest, "v2")}


def test_kill_during_upload_recovers(fresh_server):
    fresh_server.create_repository("crash")
    image = testimages.build_image("restart-crash", layer_bytes=100000)
    fresh_server.push_image("crash", image, tag="v1")
    started = fresh_server.v2("POST", "/crash/blobs/uploads/")
    location = fresh_server.absolute(started.headers["Location"])
    patched = fresh_server.v2("PATCH", location, data=b"partial" * 1000,
                              headers={"Content-Type": "application/octet-stream"})
    assert patched.status_code == 202

    fresh_server.kill()
    fresh_server.start()

    got = fresh_server.v2("GET", "/crash/manifests/v1", headers={"Accept": image.media_type})
    assert got.status_code == 200
    assert got.content == image.manifest
    for blob in image.blobs:
        assert fresh_server.v2("GET", f"/crash/blobs/{blob.digest}").content == blob.data
    second = testimages.build_image("restart-after-crash")
    fresh_server.push_image("crash", second, tag="v2")
    assert sorted(fresh_server.v2("GET", "/crash/tags/list").json()["tags"]) == ["v1", "v2"]


def test_stop_exits_cleanly(fresh_server):
    status = fresh_server.stop()

    assert status == 0
