"""Run the AWS SDK for JavaScript tests in tests/js, so the main suite covers the operations boto3 lacks.

On its first run, tests/js/run installs the pinned @aws-sdk/client-ecr with
`npm ci`, which needs the npm registry. Then it runs `node --test`, and those
tests start their own server from LOCALECR_BIN.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import REPO_ROOT

JS_RUN = REPO_ROOT / "tests" / "js" / "run"
OUTPUT_TAIL_CHARS = 20000
TIMEOUT_SECONDS = 900


def test_js_sdk_suite(localecr_binary):
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not found on PATH: the JavaScript SDK tests need node 20+ and npm")
    env = dict(os.environ, LOCALECR_BIN=str(Path(localecr_binary).resolve()), AWS_EC2_METADATA_DISABLED="true")

    result = subprocess.run([str(JS_RUN)], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                            timeout=TIMEOUT_SECONDS)

    output = (result.stdout + result.stderr)[-OUTPUT_TAIL_CHARS:]
    assert result.returncode == 0, f"{JS_RUN} exited with {result.returncode}:\n{output}"
    assert "# fail 0" in result.stdout, output
    assert "# pass 0\n" not in result.stdout, f"no JavaScript test ran:\n{output}"
