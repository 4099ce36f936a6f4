"""The package's promises to users: entry points work, and the cheap commands stay cheap."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers", "peft", "llama_cpp")


def _imported_modules(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    )
    import json

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
