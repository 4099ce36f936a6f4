"""The `lab` command line turns the library's expected errors into one line and exit code 2; bugs keep their traceback."""

from __future__ import annotations

import pytest

from lab.cli import main as lab_main


def _raising(exc: BaseException):
    def run(args):
        raise exc
    return run


@pytest.mark.parametrize("error", [
    "lab.errors:LabError", "lab.consume.hub:PullError", "lab.publish.release:PublishError",
    "lab.consume.record:RecordError", "builtins:FileNotFoundError",
])
def test_an_expected_error_left_unhandled_is_one_line_and_exit_2(monkeypatch, capsys, error):
    import importlib

    module, name = error.split(":")
    cls = getattr(importlib.import_module(module), name)
    monkeypatch.setattr("lab.commands.diff.run", _raising(cls("the release is damaged:\nmodel.safetensors")))
    assert lab_main(["diff", "a", "b"]) == 2
    err = capsys.readouterr().err
    assert err == "lab diff: the release is damaged: model.safetensors\n"


def test_a_corrupt_safetensors_error_from_the_library_is_expected(monkeypatch, capsys, tmp_path):
    from safetensors.torch import load_file

    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")

    def run(args):
        load_file(bad)

    monkeypatch.setattr("lab.commands.diff.run", run)
    assert lab_main(["diff", "a", "b"]) == 2
    assert capsys.readouterr().err.startswith("lab diff: Error while deserializing header")


@pytest.mark.parametrize("bug", [KeyError("x"), TypeError("bad call"), RecursionError(), AttributeError("y")])
def test_a_bug_is_not_hidden(monkeypatch, bug):
    monkeypatch.setattr("lab.commands.diff.run", _raising(bug))
    with pytest.raises(type(bug)):
        lab_main(["diff", "a", "b"])
