"""The labs in fixtures/labs: every command of a lab's steps.json runs and prints what it states.

Each lab folder has a README.md for people and a steps.json with the same commands and the
substrings their output must contain. These tests check that the README shows every command and
every stated output of steps.json, then start the server as the lab's `start` command says, on a
free port with a temporary data directory, and run each step with bash from the repository root
in the lab's environment.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from harness import REPO_ROOT, find_free_port, loopback_environment, sanitizer_reports

LABS_DIR = REPO_ROOT / "fixtures" / "labs"
LABS = ["repository-policy", "immutability-lifecycle", "vulnerable-image"]
README_ADDRESS = "127.0.0.1:5000"
README_BINARY = "build/localecr"
STEP_TIMEOUT_SECONDS = 120
START_TIMEOUT_SECONDS = 10.0


def load_lab(lab: str) -> tuple:
    folder = LABS_DIR / lab
    return json.loads((folder / "steps.json").read_text()), (folder / "README.md").read_text()


def lab_environment(spec: dict, work_dir: Path, images: Path, address: str) -> dict:
    """The environment the README exports, moved to `address`, a temporary data folder and `images`."""
    env = loopback_environment(work_dir / "aws-config")
    # The README sets credentials only where the lab requires them (IAM labs use --profile).
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(key, None)
    env.update({key: value.replace(README_ADDRESS, address) for key, value in spec["env"].items()})
    data_dir = work_dir / "data"
    data_dir.mkdir()
    env["DATA"] = str(data_dir)
    env["IMAGES"] = str(images)
    # The steps run `aws`, so use Debian's aws CLI, as the other API tests do.
    env["PATH"] = "/usr/bin:" + env.get("PATH", "/bin")
    return env


def localize(command: str, binary: Path) -> str:
    return command.replace(README_BINARY + " ", f"{binary} ")


def wait_until_healthy(process: subprocess.Popen, url: str, log_path: Path):
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with requests.Session() as http:
        http.trust_env = False
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the lab's server exited with {process.returncode}:\n"
                                     + log_path.read_text(errors="replace"))
            try:
                if http.get(url + "/_localecr/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
    raise AssertionError("the lab's server did not become healthy:\n" + log_path.read_text(errors="replace"))


@pytest.mark.parametrize("lab", LABS)
def test_readme_mirrors_steps(lab):
    spec, readme = load_lab(lab)
    commands = [*spec["prepare"], spec["start"] + " &", *spec["stop"]]
    commands += [step["run"] for step in spec["steps"]]
    missing = [command for command in commands if command not in readme]
    assert not missing, f"fixtures/labs/{lab}/README.md does not show these steps.json commands: {missing}"
    outputs = [text for step in spec["steps"] for text in step["expect"]]
    unstated = [text for text in outputs if text.replace("\t", "    ") not in readme.replace("\t", "    ")]
    assert not unstated, f"fixtures/labs/{lab}/README.md does not state these outputs: {unstated}"
    assert f"--seed fixtures/labs/{lab}/seed.json" in spec["start"].replace("$LAB", f"fixtures/labs/{lab}")


@pytest.mark.parametrize("lab", LABS)
def test_lab_runs_as_written(lab, localecr_binary, fixture_images, tmp_path):
    spec, _ = load_lab(lab)
    address = f"127.0.0.1:{find_free_port()}"
    env = lab_environment(spec, tmp_path, fixture_images, address)
    start = localize(spec["start"], localecr_binary)
    assert "2>$DATA/server.log" in start
    server = subprocess.Popen(["bash", "-c", "exec " + start], cwd=REPO_ROOT, env=env,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    log_path = Path(env["DATA"]) / "server.log"
    try:
        wait_until_healthy(server, f"http://{address}", log_path)
        for number, step in enumerate(spec["steps"], 1):
            command = localize(step["run"], localecr_binary)
            result = subprocess.run(["bash", "-c", command], cwd=REPO_ROOT, env=env, capture_output=True,
                                    text=True, timeout=STEP_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
            output = result.stdout + result.stderr
            context = f"{lab} step {number}: {step['run']}\nexit {result.returncode}\noutput:\n{output}"
            assert result.returncode == step["exit"], context
            for text in step["expect"]:
                assert text in output, f"missing {text!r}\n{context}"
            for text in step.get("absent", []):
                assert text not in output, f"unexpected {text!r}\n{context}"
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    log = log_path.read_text(errors="replace")
    assert server.returncode == 0, f"the lab's server exited with {server.returncode}:\n{log}"
    assert not sanitizer_reports(log), log
