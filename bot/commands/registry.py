"""The one registry of slash commands; `/help` and the README's command table are rendered from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.commands.parser import ArgSpec, Option

MAINTAINERS = "maintainers"  # collaborators with an allowed permission, or members of allowed teams
MAINTAINERS_OR_AUTHOR = "maintainers; the PR author if allowed"  # + the PR's author when the config says so
EVERYONE = "everyone"
WHO_TEXT = {MAINTAINERS: "maintainers (write, maintain or admin; or a team in `.github/arborist.yml`)",
            MAINTAINERS_OR_AUTHOR: "maintainers, and the pull request's author on their own pull request when "
                                   "`precheck.allow_author: true` is set in `.github/arborist.yml`",
            EVERYONE: "anyone"}
COMMANDS_DOC_HEADER = "# Slash commands\n\n" \
    "Comment one of these on a pull request of a taxonomy repository that has the Arborist App installed.\n" \
    "A command is a line that starts with `/`; quoted lines, code blocks, HTML comments, `<pre>`/`<code>` and\n" \
    "`<details>` blocks are ignored. An identical `/generate`, `/precheck` or `/preview` while one is queued or\n" \
    "running links to it instead, and `generate.max_queued_per_pr` / `generate.max_queued_per_user` (and the same\n" \
    "`precheck.` and `preview.` keys) in `.github/arborist.yml` cap the queue.\n\n"


HELP_FOOTER = "\nA command is a line that starts with `/`; quoted lines, code blocks, HTML comments and collapsed " \
    "`<details>` never trigger one.\n"


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    description: str
    who: str  # MAINTAINERS | MAINTAINERS_OR_AUTHOR | EVERYONE
    examples: tuple[str, ...]
    args: ArgSpec = field(default_factory=ArgSpec)
    on_merged: bool = False  # also runs on a merged (closed) pull request
    reading: str = ""  # docs/commands.md: what the answer says and what its numbers mean


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="generate",
        usage="/generate [--samples N] [PATH ...]",
        description="Generate synthetic training samples for the leaves this PR changes (or only the "
                    "given paths) with the configured teacher model; results land in the status comment.",
        who=MAINTAINERS,
        examples=("/generate", "/generate --samples 20", "/generate knowledge/science/astronomy/constellations"),
        args=ArgSpec(options=(Option("samples", "N", 1, 1_000, "samples per leaf (capped by generate.max_samples)"),),
                     positional="PATH"),
    ),
    CommandSpec(
        name="precheck",
        usage="/precheck [PATH ...]",
        description="Ask the current model this PR's seed questions; its answers, scored, beside the seed answers.",
        who=MAINTAINERS_OR_AUTHOR,
        examples=("/precheck", "/precheck knowledge/science/astronomy/constellations"),
        args=ArgSpec(positional="PATH"),
        reading="The status comment's report has one table per changed leaf: each seed question, the seed "
                "answer the contributor wrote, the model's answer, and their ROUGE-L score (0 to 1: the share of "
                "words the two answers have in common, in order; 1 is the same words). Knowledge questions are "
                "asked closed-book (no document); grounded skills get the leaf's context, as in training. A "
                "question counts as *already answered well* at ROUGE-L 0.5 or more, and the verdict line counts "
                "them: \"the model already answers 4 of 15 well; the other 11 are new to it\". New questions are "
                "what a leaf can teach; a leaf the model already answers adds little. ROUGE-L rewards the same "
                "words, so a correct answer in other words scores low: read the answers, not just the numbers. "
                "Everything quoted is shown inert (code spans, cut short), never as live Markdown or mentions.",
    ),
    CommandSpec(
        name="preview",
        usage="/preview [PATH ...]",
        description="Train a small LoRA adapter on this PR's generated data and compare it with the current model "
                    "on the seed questions, held-out questions and general questions.",
        who=MAINTAINERS,
        examples=("/preview", "/preview knowledge/science/astronomy/constellations"),
        args=ArgSpec(positional="PATH"),
        reading="The step generates the changed leaves' data (the `/generate` cache is reused), keeps "
                "`preview.heldout_share` of each leaf's rows out of training, trains a LoRA adapter on the rest over "
                "the current model (the latest release, else the base model) within `preview.max_steps` and "
                "`preview.max_minutes`, then asks both models the same questions. The report has one row per leaf "
                "and question set: *seed questions* (the contributor's, also trained on: they show the leaf was "
                "learned) and *held-out questions* (generated from the leaf, never trained on: they show whether it "
                "teaches beyond its own examples). *base* and *preview* are mean ROUGE-L (0 to 1) against the "
                "reference answer; *change* is preview minus base, question by question, averaged, with a 95% "
                "bootstrap interval. The verdict uses the release gate's rule: **improved** only when the whole "
                "interval is above zero and the change is at least `retrain.gate.min_effect`, **regressed** when it "
                "is below zero by as much, otherwise **no change** (always so for fewer than 3 questions: too "
                "little evidence). *General retention* asks fixed general questions (never trained on) with key "
                "answers: how many each model answers right, how many of the base model's right answers the "
                "preview keeps, and the same verdict words, so *regressed* there means the leaf's training made the "
                "model forget. The answers are in a collapsed table per leaf, shown inert. The adapter is kept "
                "as the job's artefact; `lab chat MODEL --adapter FOLDER` talks to the preview.",
    ),
    CommandSpec(
        name="approve",
        usage="/approve",
        description="Approve this PR's leaves for training (`retrain.require_approval`).",
        who=MAINTAINERS,
        examples=("/approve",),
        on_merged=True,
        reading="The bot answers with who approved which commit. Approved before merge, the leaves enter the "
                "retrain that the merge starts; approved after merge, they enter the next retrain (a retrain "
                "still queued picks the approval up). A push to the pull request after `/approve` withdraws the "
                "approval. The retrain's report lists the leaves it left out for want of an approval.",
    ),
    CommandSpec(
        name="cancel",
        usage="/cancel",
        description="Stop this PR's running or queued job.",
        who=MAINTAINERS,
        examples=("/cancel",),
    ),
    CommandSpec(
        name="retry",
        usage="/retry",
        description="Run this PR's last failed or cancelled job again.",
        who=MAINTAINERS,
        examples=("/retry",),
    ),
    CommandSpec(
        name="help",
        usage="/help",
        description="List the commands and who may use them.",
        who=EVERYONE,
        examples=("/help",),
    ),
)
BY_NAME = {spec.name: spec for spec in COMMANDS}


def lookup(name: str) -> CommandSpec | None:
    return BY_NAME.get(name.lower())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(commands: tuple[CommandSpec, ...] = COMMANDS) -> str:
    """The Markdown table of commands (the README includes it)."""
    rows = ["| command | what it does | who | example |", "| --- | --- | --- | --- |"]
    for spec in commands:
        rows.append(f"| `{_cell(spec.usage)}` | {_cell(spec.description)} | {spec.who} | "
                    f"`{_cell(spec.examples[-1])}` |")
    return "\n".join(rows) + "\n"


def render_help(commands: tuple[CommandSpec, ...] = COMMANDS) -> str:
    """The reply to `/help` (and to an unknown command)."""
    return "**Arborist commands**\n\n" + render_table(commands) + HELP_FOOTER


def render_doc(commands: tuple[CommandSpec, ...] = COMMANDS) -> str:
    """docs/commands.md: the table, then each command with its usage, access and examples."""
    parts = [COMMANDS_DOC_HEADER, render_table(commands)]
    for spec in commands:
        parts.append(f"\n## `/{spec.name}`\n\n{spec.description}\n\n- usage: `{spec.usage}`\n"
                     f"- who: {WHO_TEXT[spec.who]}\n")
        if spec.on_merged:
            parts.append("- works on open and merged pull requests\n")
        for option in spec.args.options:
            parts.append(f"- `--{option.name} {option.metavar}`: {option.help} ({option.minimum}–{option.maximum})\n")
        parts.append("\n```\n" + "\n".join(spec.examples) + "\n```\n")
        if spec.reading:
            parts.append(f"\n{spec.reading}\n")
    parts.append("\n<!-- generated by `python -m bot.commands.registry > docs/commands.md`; do not edit -->\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render_doc(), end="")
