"""The steps of the story, in order. Each takes the World, does one thing, and proves it happened."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.demo import leaves, outcome
from sandbox.demo.repo import TaxonomyRepo
from sandbox.demo.review import job_failure, maintainer_precheck, maintainer_preview
from sandbox.demo.timeline import StepFailed
from sandbox.demo.world import PR_BRANCH, TAXONOMY, World

DOCS_REPO = "arborist-demo/knowledge-docs"
DOCS_URL = f"https://github.com/{DOCS_REPO}"  # what the leaves say; git on the worker maps it to the local copy
CHECK_TIMEOUT_S = 60  # a check run on a small PR takes well under a second; allow slow machines
REAL_SAMPLES = 5  # rows per leaf from the real teacher: a handful, ~10 teacher calls for a knowledge leaf
SAMPLES_SHOWN = 2  # generated samples quoted in the timeline (the comment has more)
CONSUMER_QUANT = "Q4_K_M"  # the GGUF type the consumer pulls from the -GGUF twin: the community's usual default


def make_taxonomy(world: World) -> None:
    """A bare 'GitHub' repository and a work tree: example leaves, their documents, the bot's config."""
    git_root = world.work / "git"
    files = leaves.base_tree(_repo_root(), leaves.REAL_BASE_LEAVES if world.options.real else None)
    _, docs = leaves.knowledge_documents(files, "pending", "0" * 40)
    docs[leaves.PR_DOCUMENT] = leaves.pr_document()  # the contributor's source, published before the PR
    docs_repo = TaxonomyRepo(git_root, DOCS_REPO)
    docs_sha = docs_repo.create(docs)
    files, _ = leaves.knowledge_documents(files, DOCS_URL, docs_sha)
    world.state["docs_mirror"] = (docs_repo.remote.as_uri(), DOCS_URL)
    world.state["docs_commit"] = docs_sha
    files[".github/arborist.yml"] = leaves.arborist_config(samples=_samples(world), allow_regression=not world.options.real)
    repo = TaxonomyRepo(git_root, TAXONOMY)
    world.base_sha = repo.create(files)
    world.repo = repo
    qna = sorted(p for p in files if p.endswith("qna.yaml"))
    world.timeline.note(f"{TAXONOMY}: {len(qna)} {'leaf' if len(qna) == 1 else 'leaves'} at {world.base_sha[:7]} "
                        f"({', '.join(qna)})")
    world.timeline.note(f"{DOCS_REPO}: {len(docs)} knowledge document(s) at {docs_sha[:7]}")


def _samples(world: World) -> int:
    """Synthetic rows per leaf (generate.samples): a handful with the real teacher on 2 cores."""
    return REAL_SAMPLES if world.options.real else 6 if world.options.fast else 24


def prepare_models(world: World) -> None:
    """The real teacher and student from the model cache (fetched once), or a tiny random student."""
    from lab.taxonomy.leaf import leaf_from_yaml
    from sandbox.demo.models import prepare

    assert world.repo is not None
    texts: list[str] = []
    for path in sorted(world.repo.work.rglob("qna.yaml")):
        rel = path.relative_to(world.repo.work).as_posix()
        leaf = leaf_from_yaml(rel, path.read_bytes())
        texts += [t for s in leaf.seeds for t in (s.question, s.answer, s.context or "")]
    texts += [leaves.TRAINED_QUESTION, leaves.TRAINED_ANSWER]  # the contributor's words, later (tiny tokenizer)
    options = world.options
    world.models = prepare(options.student, options.teacher, options.fast, world.work, texts)
    for note in world.models.notes:
        world.timeline.note(note)


def start_services(world: World) -> None:
    """Stand-ins of GitHub and the Hub in threads; the bot and a worker as child processes."""
    from sandbox.demo.stack import start

    world.stack = start(world)
    for line in world.stack.describe():
        world.timeline.note(line)


def open_broken_pr(world: World) -> None:
    """The contributor's PR misspells a key: a failed check run with annotations and one summary comment."""
    repo, gh = world.repo, world.stack.github
    assert repo is not None
    repo.branch(PR_BRANCH)
    docs = (DOCS_URL, world.state["docs_commit"])
    repo.write({leaves.PR_LEAF_PATH: leaves.pr_leaf(True, *docs), leaves.PR_ATTRIBUTION_PATH: leaves.PR_ATTRIBUTION})
    head = repo.commit_and_push(PR_BRANCH, "Add a tree care skill", author=leaves.CONTRIBUTOR)
    world.pr = gh.open_pull(PR_BRANCH, head, world.base_sha, leaves.CONTRIBUTOR, "Add a tree care skill")
    gh.deliver("pull_request", "opened", world.pr)
    check = world.wait_for("the check run on the broken head", lambda: gh.completed_check(head), CHECK_TIMEOUT_S)
    world.artefacts.check_run("broken PR", check)
    if check.get("conclusion") != "failure":
        raise StepFailed("", f"the check run concluded {check.get('conclusion')!r}, expected 'failure'")
    notes = check.get("output", {}).get("annotations") or []
    if not notes:
        raise StepFailed("", "the failed check run has no annotations")
    for note in notes[:3]:
        world.timeline.note(f"annotation {note['path']}:{note['start_line']}: {note['message'].splitlines()[0]}")
    comment = world.wait_for("the summary comment", lambda: gh.bot_comments(world.pr["number"]), CHECK_TIMEOUT_S)[0]
    world.state["summary_comment"] = comment
    world.artefacts.comment("summary on the broken PR", comment)
    world.timeline.note(f"summary comment #{comment['id']}: {_first_line(comment['body'])}")


def push_fix(world: World) -> None:
    """The contributor fixes the key: the check turns green and the same comment is edited."""
    repo, gh = world.repo, world.stack.github
    assert repo is not None
    repo.write({leaves.PR_LEAF_PATH: leaves.pr_leaf(False, DOCS_URL, world.state["docs_commit"])})
    before = world.pr["head"]["sha"]
    head = repo.commit_and_push(PR_BRANCH, "Fix the answer key", author=leaves.CONTRIBUTOR)
    world.pr = gh.update_pull_head(world.pr["number"], head, before)
    gh.deliver("pull_request", "synchronize", world.pr)
    check = world.wait_for("the check run on the fixed head", lambda: gh.completed_check(head), CHECK_TIMEOUT_S)
    world.artefacts.check_run("fixed PR", check)
    if check.get("conclusion") != "success":
        raise StepFailed("", f"the check run concluded {check.get('conclusion')!r}, expected 'success'")
    first = world.state["summary_comment"]

    def edited():
        comments = gh.bot_comments(world.pr["number"])
        same = [c for c in comments if c["id"] == first["id"] and c["body"] != first["body"]]
        return (same[0], len(comments)) if same else None

    comment, count = world.wait_for("the summary comment to be edited", edited, CHECK_TIMEOUT_S)
    if count != 1:
        raise StepFailed("", f"expected the summary comment to be edited, found {count} bot comments")
    world.artefacts.comment("summary after the fix", comment, edited=True)
    world.timeline.note(f"check run: success; comment #{comment['id']} edited: {_first_line(comment['body'])}")


def stranger_generate(world: World) -> None:
    """Someone without write access comments /generate: a reply says why, and no job starts."""
    gh = world.stack.github
    number = world.pr["number"]
    before = {c["id"] for c in gh.bot_comments(number)}
    command = gh.add_comment(number, leaves.STRANGER, "/generate")
    gh.deliver("issue_comment", "created", command)

    def reply():
        new = [c for c in gh.bot_comments(number) if c["id"] not in before]
        return new[0] if new else None

    refusal = world.wait_for("the refusal", reply, CHECK_TIMEOUT_S)
    world.artefacts.comment("refusal of a stranger's generate", refusal)
    world.timeline.note(f"reply to @{leaves.STRANGER}: {_first_line(refusal['body'])}")
    if world.stack.jobs_count():
        raise StepFailed("", "a job was queued for a stranger's command")


def maintainer_generate(world: World) -> None:
    """A maintainer's /generate: a reaction, a status comment through its states, then samples."""
    gh = world.stack.github
    number = world.pr["number"]
    before = {c["id"] for c in gh.bot_comments(number)}
    command = gh.add_comment(number, leaves.MAINTAINER, "/generate")
    gh.deliver("issue_comment", "created", command)
    reactions = world.wait_for("a reaction on the command", lambda: gh.reactions(command["id"]), CHECK_TIMEOUT_S)
    world.timeline.note(f"reaction on the command: {', '.join(reactions)}")
    seen: list[str] = []

    def finished():
        new = [c for c in gh.bot_comments(number) if c["id"] not in before]
        if not new:
            return None
        status = new[0]
        if not seen or seen[-1] != status["body"]:
            if not seen or _status_line(seen[-1]) != _status_line(status["body"]):  # progress edits: one line per state
                world.timeline.note(f"status comment #{status['id']}: {_status_line(status['body'])}")
            seen.append(status["body"])
            world.artefacts.comment("generate status", status, edited=len(seen) > 1)
        return status if world.stack.job_finished("generate") else None

    status = world.wait_for("the generate job to finish", finished)
    final = gh.comment(status["id"]) or status
    if final["body"] != seen[-1]:
        world.artefacts.comment("generate status", final, edited=True)
        world.timeline.note(f"status comment #{final['id']}: {_status_line(final['body'])}")
    job = world.stack.job_finished("generate")
    if job.get("state") != "succeeded":
        raise StepFailed("", job_failure(world, job))
    world.artefacts.data("generate", "generate-job", job)
    data = world.stack.data_dir / "generate" / f"job-{job.get('id')}" / "out"
    shown = outcome.samples_from_data(data, SAMPLES_SHOWN) or outcome.samples_in(final["body"])[:SAMPLES_SHOWN]
    for line in outcome.report_headline(final["body"]) + shown:
        world.timeline.note(line)


def merge_and_release(world: World) -> None:
    """The maintainer merges: one retrain (knowledge, then skills), evaluation, a Hub release, a note."""
    repo, gh = world.repo, world.stack.github
    assert repo is not None
    before = repo.git("rev-parse", "origin/main")
    merged = repo.merge(PR_BRANCH, f"Merge pull request #{world.pr['number']} from {PR_BRANCH}",
                        author=leaves.MAINTAINER)
    world.pr = gh.merge_pull(world.pr["number"], merged)
    gh.deliver("pull_request", "closed", world.pr)
    gh.deliver_push(before, merged, leaves.MAINTAINER)
    world.timeline.note(f"merged as {merged[:7]}; retraining the whole taxonomy")
    world.state["merged"] = merged
    job = world.wait_for("the retrain job to finish", lambda: world.stack.job_finished("retrain"))
    world.artefacts.data("retrain", "retrain-job", job)
    report = outcome.read_report(world.stack.data_dir, merged)
    blocked = outcome.gate_blocked(job)
    if job.get("state") != "succeeded" and not blocked:
        raise StepFailed("", job_failure(world, job))
    world.timeline.note(f"retrain: {job.get('result_title')}")
    if report:
        world.state["report"] = report
        world.timeline.note("\n".join(outcome.gate_lines(report)))
    world.artefacts.fact("gate", "blocked" if blocked else "passed")
    if blocked:
        world.state["blocked"] = True
        note = world.wait_for("the retrain note on the merged PR", lambda: _release_note(world), 60)
        world.artefacts.comment("retrain note on the merged PR", note)
        world.timeline.note("\n".join(outcome.blocked_story(report, job) + outcome.impact_lines(note["body"])))
        return
    releases = world.wait_for("a release on the Hub", world.stack.hub_releases, 30)
    tag = world.state["release"] = releases[-1]
    files = world.stack.release_files(tag)
    repos, collection = world.stack.release_repos(tag), world.stack.collection()
    world.artefacts.data("release", "hub-release", {"repo": leaves.HUB_REPO, "tag": tag, "files": files,
                                                    "repos": repos, "collection": collection})
    world.timeline.note(f"release {leaves.HUB_REPO}@{tag} on the Hub stand-in:\n" + ", ".join(
        f"{name} ({size / 1e6:.2f} MB)" if size > 1e5 else name for name, size in files.items()))
    world.timeline.note("\n".join(outcome.release_lines(tag, repos, collection)))
    note = world.wait_for("the release note on the merged PR", lambda: _release_note(world), 60)
    world.artefacts.comment("release note on the merged PR", note)
    world.timeline.note("\n".join([f"comment on PR #{world.pr['number']}: {_first_line(note['body'])}",
                                   *outcome.impact_lines(note["body"])]))


def pull_and_ask(world: World) -> None:
    """A consumer pulls the release with `lab pull` and asks it the contributor's question (and, with the real
    model, a general one it must still answer). When the gate blocked, they ask the model they still have."""
    question, stack = leaves.TRAINED_QUESTION, world.stack
    world.artefacts.fact("question", question)
    world.artefacts.fact("expected", leaves.TRAINED_ANSWER)
    report = world.state.get("report")
    before_after = outcome.evaluated_answers(report, question) if report else None
    if world.state.get("blocked"):
        answer = stack.chat(str(world.models.student_dir), question, "hf")
        world.artefacts.fact("answer_base", answer)
        world.timeline.note(f"no release to pull: the consumer still has the base model.\nQ: {question}\n"
                            f"A (base model): {outcome.clip(answer)}\n(the contributor's seed answer: {leaves.TRAINED_ANSWER})")
        if not answer.strip():
            raise StepFailed("", "the base model gave an empty answer")
        return
    answer = stack.pull_and_chat(question)
    world.artefacts.fact("answer", answer)
    world.artefacts.data("pull", "answer", {"question": question, "answer": answer, "trained_answer": leaves.TRAINED_ANSWER})
    world.timeline.note(f"Q: {question}\nA: {answer}\n(the contributor's seed answer: {leaves.TRAINED_ANSWER})")
    if before_after and world.options.real:
        world.timeline.note(f"the base model answered, in the evaluation: {before_after[0]}")
    if not answer.strip():
        raise StepFailed("", "the released model gave an empty answer")
    gguf_answer = stack.pull_and_chat(question, fmt="gguf", quant=CONSUMER_QUANT)
    world.artefacts.fact("answer_gguf", gguf_answer)
    world.timeline.note(f"the same release as the {CONSUMER_QUANT} GGUF (signature checked), through llama.cpp:\n"
                        f"A: {gguf_answer}")
    if world.options.real:
        general = stack.pull_and_chat(leaves.GENERAL_QUESTION, fmt="gguf", pull=False, quant=CONSUMER_QUANT)
        world.artefacts.fact("answer_general", general)
        world.timeline.note(f"a question no leaf teaches, to the same GGUF:\nQ: {leaves.GENERAL_QUESTION}\nA: {general}")


def _status_line(body: str) -> str:
    """The state line of a status comment (e.g. '🏃 **running** · `/generate` job #1 ...')."""
    return next((line.strip() for line in body.splitlines() if "**" in line), _first_line(body))


def _release_note(world: World):
    """The bot's comment on the merged PR: a release note, or the retrain's note when nothing was released."""
    gh = world.stack.github
    known = {world.state["summary_comment"]["id"]}
    for c in gh.bot_comments(world.pr["number"]):
        body = c["body"]
        if c["id"] not in known and ("arborist:retrain-note" in body or "release" in body.lower()) \
                and "/generate" not in body and "arborist:status" not in body:  # the jobs' status comment is not a note
            return c
    return None


def _first_line(text: str, limit: int = 160) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line and not line.startswith(("<!--", ">")):
            return line[:limit]
    return ""


def _repo_root():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


# (title, step, budget in seconds on 2 idle cores with the real model; the budgets add up to under ten minutes)
STORY: list[tuple[str, Callable[[World], None], float]] = [
    ("make a taxonomy repository", make_taxonomy, 5),
    ("prepare the teacher and the student", prepare_models, 20),  # a cache hit takes seconds; the first fetch more
    ("start GitHub and Hub stand-ins, the bot and a worker", start_services, 10),
    ("a contributor opens a PR with a mistake", open_broken_pr, 10),
    ("the contributor pushes a fix", push_fix, 5),
    ("a stranger comments /generate", stranger_generate, 5),
    ("a maintainer comments /generate", maintainer_generate, 60),
    ("a maintainer comments /precheck", maintainer_precheck, 30),
    ("a maintainer comments /preview", maintainer_preview, 110),
    ("the maintainer merges: retrain, evaluate, release", merge_and_release, 300),
    ("a consumer pulls the release and asks a trained question", pull_and_ask, 40),
]
