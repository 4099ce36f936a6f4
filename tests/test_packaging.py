"""The package's promises to users: entry points work, and the cheap commands stay cheap."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.entry.not_installed import HINT

NOT_INSTALLED_HINT = HINT.format(command="demo")
HEAVY = ("torch", "transformers", "peft", "llama_cpp")


def _imported_modules(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_lab_and_bot_loads_no_ml_library():
    modules = _imported_modules("import lab, bot, ci, schemas, lab.cli, bot.cli")
    assert not [m for m in HEAVY if m in modules]


def test_building_the_lab_parser_loads_no_ml_library():
    # Building the parser imports every subcommand module: none may import a heavy library at module level.
    modules = _imported_modules("from lab.cli import build_parser; build_parser()")
    assert not [m for m in HEAVY if m in modules]


def test_lab_without_a_command_prints_help_and_exits_2():
    result = subprocess.run([sys.executable, "-m", "lab.cli"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage: lab" in result.stdout


def test_arborist_help_lists_its_commands():
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "usage: arborist" in result.stdout


def test_tiny_llama_is_built_locally_and_generates(tiny_llama_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Any byte at all: ü ✓ \x00"}], add_generation_prompt=True, tokenize=False
    )
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    assert tokenizer.unk_token_id not in ids[0].tolist()
    out = model.generate(ids, max_new_tokens=4, do_sample=False)
    assert out.shape[1] > ids.shape[1]


# `pip install .` ships the product only: the wheel, and a bot served from it with the sandbox absent.

REPO_ROOT = Path(__file__).resolve().parents[1]
WHEEL_SOURCES = ("pyproject.toml", "README.md", "bot", "ci", "lab", "schemas", "sandbox")
SCAFFOLDING_WORDS = ("sandbox", "standin", "fake", "tiny", "demo")
SECRET = "packaging-test-secret"


@pytest.fixture(scope="module")
def root_wheel(tmp_path_factory) -> Path:
    """The root distribution's wheel, built (no network, no build isolation) from a copy holding sandbox/ too."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    for name in WHEEL_SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    out = tmp / "dist"
    subprocess.run([sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_wheel({str(out)!r})"],
                   cwd=source, check=True, capture_output=True, timeout=240)
    (wheel,) = out.glob("arborist-*.whl")
    return wheel


def test_the_root_wheel_holds_the_product_and_no_scaffolding(root_wheel):
    names = zipfile.ZipFile(root_wheel).namelist()
    modules = [n for n in names if n.endswith(".py")]
    assert {n.split("/")[0] for n in modules} == {"bot", "ci", "lab", "schemas"}
    assert {"bot/server.py", "bot/entry/serve.py", "lab/cli.py", "schemas/arborist_config.json"} <= set(names)
    assert [n for n in modules if any(word in n.lower() for word in SCAFFOLDING_WORDS)] == []
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "sandbox" not in zipfile.ZipFile(root_wheel).read(entry_points).decode()


def _signed(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, event: str, body: bytes, signature: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": f"pkg-{event}-{len(body)}",
        "X-Hub-Signature-256": signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _wait_healthy(url: str, server: subprocess.Popen, timeout_s: float = 60) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        assert server.poll() is None, server.communicate()[1]
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no 200 from {url} within {timeout_s}s")


def _requirements(lines: list[str], extras: set[str]) -> set[tuple[str, frozenset[str]]]:
    """(distribution, extras) for each requirement that applies without extras, or with the ones asked for."""
    wanted = set()
    for line in lines:
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in ({""} | extras)):
            wanted.add((canonicalize_name(req.name), frozenset(req.extras)))
    return wanted


def _closure(requires_dist: list[str]) -> set[str]:
    """Every installed distribution that `pip install` of these requirements brings, transitively."""
    todo, seen = list(_requirements(requires_dist, set())), set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        todo += _requirements(metadata.distribution(name).requires or [], set(extras))
    return {name for name, _ in seen}


def _core_site(wheel: Path, into: Path) -> Path:
    """A site-packages holding only what `pip install <wheel>` (no extras) installs, linked from this venv's."""
    archive = zipfile.ZipFile(wheel)
    archive.extractall(into)
    meta = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    for name in _closure(requires):
        dist = metadata.distribution(name)
        for top in {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            target = Path(str(dist.locate_file(top)))
            if target.exists() and not (into / top).exists():
                (into / top).symlink_to(target)
    return into


@pytest.fixture
def wheel_only_env(root_wheel, tmp_path) -> dict[str, str]:
    """The wheel and its dependencies only: no site hooks (so no editable finders), no checkout, no extras."""
    site = _core_site(root_wheel, tmp_path / "site")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "app.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(site),
            "ARBORIST_WEBHOOK_SECRET": SECRET, "ARBORIST_APP_ID": "1", "ARBORIST_PRIVATE_KEY_FILE": str(key_file),
            "ARBORIST_DATA_DIR": str(tmp_path / "data"), "ARBORIST_GITHUB_URL": "http://127.0.0.1:9"}


def _wheel_python(*args: str) -> list[str]:
    return [sys.executable, "-S", *args]  # -S: site.py does not run, so the checkout's editable finders stay off


def test_the_wheel_alone_serves_webhooks_without_the_sandbox(wheel_only_env, tmp_path):
    probe = subprocess.run(_wheel_python("-c", "import importlib.util as u, bot.server; "
                                         "print(u.find_spec('sandbox'), bot.server.__file__)"),
                           env=wheel_only_env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert probe.stdout.split() == ["None", str(tmp_path / "site" / "bot" / "server.py")], probe.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(_wheel_python("-m", "bot.cli", "serve", "--port", str(port), "--log-level", "warning"),
                              env=wheel_only_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{base}/healthz", server)
        ping = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
        assert _post(f"{base}/webhook", "ping", ping, _signed(ping)) == (200, {"msg": "pong",
                                                                                "zen": "Keep it logically awesome."})
        assert _post(f"{base}/webhook", "ping", ping, _signed(ping + b" "))[0] == 401
        opened = json.dumps({"action": "opened", "number": 7, "installation": {"id": 3},
                             "repository": {"full_name": "acme/taxonomy"},
                             "pull_request": {"number": 7, "head": {"sha": "a" * 40}}}).encode()
        status, body = _post(f"{base}/webhook", "pull_request", opened, _signed(opened))
        assert (status, body.get("status")) == (202, "queued")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_arborist_demo_without_the_sandbox_says_how_to_install_it(wheel_only_env, tmp_path):
    result = subprocess.run(_wheel_python("-m", "bot.cli", "demo", "--fast"), env=wheel_only_env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [NOT_INSTALLED_HINT]


@pytest.mark.parametrize("image", ["bot", "worker"])
def test_the_images_are_built_from_the_product_only(image):
    """The Dockerfile copies only product folders, and its .dockerignore lets nothing else into the build context."""
    dockerfile = (REPO_ROOT / "deploy" / f"Dockerfile.{image}").read_text(encoding="utf-8")
    copied = {word.rstrip("/") for line in dockerfile.splitlines() if line.startswith("COPY ") and "--from" not in line
              for word in line.split()[1:-1]}
    assert copied == {"pyproject.toml", "README.md", "bot", "ci", "lab", "schemas"}
    ignore = (REPO_ROOT / "deploy" / f"Dockerfile.{image}.dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignore  # everything is left out unless let in by name
    assert {line[1:].rstrip("/") for line in ignore if line.startswith("!")} <= copied
