"""The llama.cpp quantiser makes the quants people run, each one loads and answers, and what cannot be made says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.models.quantize import QuantError, QuantUnsupported, canonical, check_answer, describe, quantize

PROMPT = "What is the capital of France?"


def _f32_gguf(tmp_path_factory, hidden: int) -> Path:
    from lab.models.gguf_export import export_gguf
    from sandbox.tiny import TinyConfig, build_tiny_llama

    root = tmp_path_factory.mktemp(f"tiny-{hidden}")
    model = build_tiny_llama(root / "model", config=TinyConfig(hidden_size=hidden, intermediate_size=2 * hidden))
    return export_gguf(model, root / "model-f32.gguf", dtype="f32")


@pytest.fixture(scope="module")
def wide_gguf(tmp_path_factory) -> Path:
    """Rows of 256 values: what the K-quants need."""
    return _f32_gguf(tmp_path_factory, 256)


@pytest.fixture(scope="module")
def narrow_gguf(tmp_path_factory) -> Path:
    """Rows of 64 values (the usual tiny test model): K-quants fall back to q5_0/q5_1/q8_0."""
    return _f32_gguf(tmp_path_factory, 64)


@pytest.mark.parametrize("quant, family", [("Q4_K_M", "Q4_K"), ("Q5_K_M", "Q5_K"), ("Q8_0", "Q8_0")])
def test_each_quant_is_made_with_its_own_types_and_answers_a_prompt(wide_gguf, tmp_path, quant, family):
    out = quantize(wide_gguf, tmp_path / f"m-{quant}.gguf", quant)
    assert out.fallback == 0 and out.types.get(family, 0) > out.matrices // 2
    assert (tmp_path / f"m-{quant}.gguf").stat().st_size < wide_gguf.stat().st_size / 3
    assert not list(tmp_path.glob("*.partial"))
    # q8_0 crashed llama.cpp's repacked AMX buffers on this project's CPUs: the check must load it safely
    assert isinstance(check_answer(tmp_path / f"m-{quant}.gguf", PROMPT, max_tokens=8), str)


def test_k_quants_of_rows_not_divisible_by_256_use_fallback_types_and_say_so(narrow_gguf, tmp_path):
    report = quantize(narrow_gguf, tmp_path / "m-Q4_K_M.gguf", "Q4_K_M")
    assert report.fallback == report.matrices > 0
    assert "Q4_K" not in report.types and report.types.get("Q5_0")
    assert f"{report.matrices} of {report.matrices} matrices used a fallback type" in report.summary()
    assert describe(tmp_path / "m-Q4_K_M.gguf", "Q4_K_M") == report


def test_a_quant_that_would_leave_the_model_unquantised_is_refused_in_one_line(tmp_path_factory, tmp_path):
    odd = _f32_gguf(tmp_path_factory, 48)  # rows of 48: not even q8_0's 32-value blocks fit
    with pytest.raises(QuantUnsupported, match=r"cannot make Q8_0 for this model: \d+ of \d+ matrices would stay"):
        quantize(odd, tmp_path / "m-Q8_0.gguf", "Q8_0")
    assert not list(tmp_path.iterdir())  # nothing half-made is left behind


def test_a_file_llama_cpp_cannot_load_is_a_clear_error_not_a_crash_of_the_caller(tmp_path):
    broken = tmp_path / "broken-Q8_0.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    with pytest.raises(QuantError, match="broken-Q8_0.gguf does not run: llama.cpp"):
        check_answer(broken, PROMPT, timeout_s=60)


@pytest.mark.parametrize("given, expected", [("q8_0", "Q8_0"), ("q4_k_m", "Q4_K_M"), ("F16", "f16")])
def test_quant_names_are_spelled_one_way(given, expected):
    assert canonical(given) == expected


def test_unknown_quant_names_list_the_choices():
    with pytest.raises(QuantError, match="f16, f32, Q4_K_M, Q5_K_M, Q8_0"):
        canonical("Q3_K_S")
