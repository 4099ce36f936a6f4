"""After a release: tell every merged PR it went in, and mark the release commit with a check run.

`python -m ci.announce --repo owner/taxonomy --info release-info.json --result release-result.json`
(ci.retrain calls `announce_release` directly). Comments carry a hidden marker per release, so a
re-run never comments twice; one PR that cannot be reached does not stop the others.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from lab.github.protocol import CheckRunOutput, GitHubClient
from lab.pipeline.impact import impact_legend, leaf_impact_lines
from lab.publish.release import ReleaseInfo, ReleaseResult, info_from_dict
from schemas.masking import mask  # every secret the process knows: tokens never reach a comment

CHECK_NAME = "arborist/release"
MARKER = "<!-- arborist:release {tag} -->"
MAX_LEAVES_PER_COMMENT = 30


@dataclass
class AnnounceReport:
    commented: list[int] = field(default_factory=list)
    already_commented: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # PR number -> error
    check_run_id: int | None = None


def public_url(url: str) -> str:
    """Drop any user:password@ part, so a credential in a mirror URL never reaches a comment."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def prs_of(info: ReleaseInfo) -> dict[int, list[str]]:
    """PR number -> the leaves it changed, in the release's order."""
    out: dict[int, list[str]] = {}
    for leaf in info.leaves:
        if leaf.pr_number:
            out.setdefault(int(leaf.pr_number), []).append(leaf.path)
    return out


def comment_body(info: ReleaseInfo, result: ReleaseResult, number: int, leaves: list[str]) -> str:
    url = public_url(result.url)
    lines = [MARKER.format(tag=result.tag),
             f"🌳 Your contribution is in release **[{result.tag}]({url})**.", "",
             f"It was trained from taxonomy commit `{info.taxonomy_sha[:12]}` and includes "
             f"{'this leaf' if len(leaves) == 1 else 'these leaves'} from #{number}:", ""]
    shown = leaves[:MAX_LEAVES_PER_COMMENT]
    measured = bool(info.evaluation.get("gate"))  # an evaluation report: say what each leaf did
    lines += leaf_impact_lines(info.evaluation, shown) if measured else [f"- `{leaf.replace('`', '')}`" for leaf in shown]
    if len(leaves) > MAX_LEAVES_PER_COMMENT:
        lines.append(f"- … and {len(leaves) - MAX_LEAVES_PER_COMMENT} more")
    if measured:
        lines += ["", impact_legend(info.evaluation)]
    lines += ["", f"Try it: `lab pull <repo> --release {result.tag}` then `lab chat`. The model card lists the "
              "data, evaluation and attribution of everything in the release.", "", "Thank you!"]
    return "\n".join(lines)


def check_output(info: ReleaseInfo, result: ReleaseResult, prs: dict[int, list[str]]) -> CheckRunOutput:
    summary = (f"Released as [{result.tag}]({public_url(result.url)}) (commit `{result.commit_sha[:12]}` on the "
               f"model repository), from taxonomy commit `{info.taxonomy_sha[:12]}`.")
    text = "\n".join([f"- #{n}: {len(leaves)} leaf change(s)" for n, leaves in sorted(prs.items())]
                     or ["No pull request is linked to the changed leaves."])
    return CheckRunOutput(title=f"Released {result.tag}", summary=summary, text=text)


def announce_release(client: GitHubClient, repo: str, info: ReleaseInfo, result: ReleaseResult,
                     check_name: str = CHECK_NAME) -> AnnounceReport:
    """Comment on each merged PR of the release (once) and add a check run on the taxonomy commit."""
    report = AnnounceReport()
    prs = prs_of(info)
    marker = MARKER.format(tag=result.tag)
    for number, leaves in prs.items():
        try:
            if any(marker in c.body for c in client.list_comments(repo, number)):
                report.already_commented.append(number)
                continue
            client.create_comment(repo, number, mask(comment_body(info, result, number, leaves)))
            report.commented.append(number)
        except Exception as exc:  # one unreachable PR must not stop the others; the error is reported
            report.failed[number] = mask(str(exc))
    if not result.skipped:
        run = client.create_check_run(repo, check_name, info.taxonomy_sha, "completed",
                                      output=check_output(info, result, prs), conclusion="success",
                                      details_url=public_url(result.url), external_id=result.tag)
        report.check_run_id = run.id
    return report


def _result_from_dict(data: dict) -> ReleaseResult:
    return ReleaseResult(tag=data["tag"], url=data["url"], commit_sha=data["commit_sha"],
                         skipped=bool(data.get("skipped")), files=tuple(data.get("files") or ()))


def main(argv: list[str] | None = None, client: GitHubClient | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci.announce", description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="taxonomy repository, owner/name")
    parser.add_argument("--info", required=True, help="release info JSON (ReleaseInfo fields)")
    parser.add_argument("--result", required=True, help="release result JSON (`lab publish --json` output)")
    args = parser.parse_args(argv)
    try:
        info = info_from_dict(json.loads(Path(args.info).read_text()))
        result = _result_from_dict(json.loads(Path(args.result).read_text()))
        if client is None:
            from ci.env import CiEnv, github_client

            client = github_client(CiEnv.from_environ().model_copy(update={"report": "github"}))
    except Exception as exc:
        print(f"announce: {exc}", file=sys.stderr)
        return 2
    assert client is not None
    report = announce_release(client, args.repo, info, result)
    print(json.dumps({"commented": report.commented, "already_commented": report.already_commented,
                      "failed": report.failed, "check_run_id": report.check_run_id}))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
