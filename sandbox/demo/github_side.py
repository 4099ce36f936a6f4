"""The demo's "GitHub": the HTTP stand-in (sandbox.standins.github) seeded from the demo's git repository.

The stand-in holds file trees by commit; the worker clones the bare git repository. So every commit
the story makes is mirrored into the stand-in under its *git* SHA, and the SHA the bot reads is the
one the worker fetches. People act here (open, comment, merge); the bot's effects are read back
from the stand-in's state; webhooks go to the bot signed, as GitHub sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.demo import webhooks

if TYPE_CHECKING:
    from sandbox.demo.world import World


@dataclass
class GitHubSide:
    world: World
    running: Any  # sandbox.standins.github.RunningStandin
    repo_name: str
    installation_id: int
    secret: str
    app_id: int
    private_key_pem: bytes
    webhook_url: str = ""

    @property
    def url(self) -> str:
        return self.running.base_url

    @property
    def state(self) -> Any:
        return self.running.state

    @classmethod
    def start(cls, world: World, repo_name: str, installation_id: int, secret: str) -> GitHubSide:
        from sandbox.standins.github import GitHubState, make_app_key, serve_in_thread

        private_pem, public_pem = make_app_key()
        state = GitHubState(app_id=installation_id, public_key_pem=public_pem)
        state.add_installation(installation_id)
        running = serve_in_thread(state)
        world.procs.on_close(running.stop)
        side = cls(world, running, repo_name, installation_id, secret, state.app_id, private_pem.encode())
        assert world.repo is not None
        state.add_repo(repo_name, default_branch="main")
        side.mirror("main", world.base_sha)
        return side

    # ---- people act --------------------------------------------------------------------------
    def add_collaborator(self, login: str, role: str) -> None:
        self.state.set_permission(self.repo_name, login, role)

    def mirror(self, branch: str, sha: str) -> None:
        """Give the stand-in the git commit `sha` (its whole tree) as the tip of `branch`."""
        repo = self.world.repo
        assert repo is not None
        names = repo.git("ls-tree", "-r", "--name-only", sha).splitlines()
        tree = {name: repo.read(name, sha) or b"" for name in names}
        parent = repo.git("rev-parse", f"{sha}^1") if repo.git("rev-list", "--count", sha) != "1" else None
        message = repo.git("log", "-1", "--format=%s", sha)
        self.state.commit(self.repo_name, branch, tree, message, sha=sha, parent=parent, whole_tree=True)

    def open_pull(self, branch: str, head_sha: str, base_sha: str, author: str, title: str) -> dict[str, Any]:
        self.mirror(branch, head_sha)
        number = self.state.open_pull(self.repo_name, branch, author=author, title=title)
        return self.pull_payload(number)

    def update_pull_head(self, number: int, head_sha: str, before: str) -> dict[str, Any]:
        with self.state.lock:
            branch = self.state.repos[self.repo_name].pulls[number]["head_ref"]
        self.mirror(branch, head_sha)
        payload = self.pull_payload(number)
        payload["_before"] = before
        return payload

    def merge_pull(self, number: int, merge_sha: str) -> dict[str, Any]:
        """Record the merge: the default branch moves to the merge commit, the PR is closed and merged."""
        self.mirror("main", merge_sha)
        self.state.merge_pull(self.repo_name, number, sha=merge_sha)
        return self.pull_payload(number)  # merged_at, closed_at and merge_commit_sha come with it

    def add_comment(self, number: int, author: str, body: str) -> dict[str, Any]:
        """A person's comment on the PR; returns it as GitHub serves it."""
        from sandbox.standins.github import comment_json

        comment = self.state.add_comment(self.repo_name, number, author, body)
        with self.state.lock:
            return comment_json(self.url, self.state.repos[self.repo_name], comment)

    # ---- webhooks ----------------------------------------------------------------------------
    def _ref(self) -> webhooks.RepoRef:
        return webhooks.RepoRef(self.repo_name, self.url, self.installation_id)

    def pull_payload(self, number: int) -> dict[str, Any]:
        from sandbox.standins.github import pull_json

        files = self.state.pull_files(self.repo_name, number)
        with self.state.lock:
            repo = self.state.repos[self.repo_name]
            return pull_json(self.url, repo, repo.pulls[number], files)

    def deliver(self, event: str, action: str, subject: dict[str, Any]) -> str:
        """Send `pull_request` (subject: the PR) or `issue_comment` (subject: the comment) to the bot."""
        ref = self._ref()
        if event == "pull_request":
            sender = subject["user"]["login"] if action != "closed" else "tree-maintainer"
            payload = webhooks.pull_request_event(ref, action, subject, sender)
            payload["pull_request"] = {k: v for k, v in subject.items() if not k.startswith("_")}
        else:
            payload = webhooks.issue_comment_event(ref, self.pull_payload(self.world.pr["number"]), subject)
        return webhooks.deliver(self.webhook_url, self.secret, event, payload)

    def deliver_push(self, before: str, after: str, pusher: str) -> str:
        return webhooks.deliver(self.webhook_url, self.secret, "push",
                                webhooks.push_event(self._ref(), before, after, pusher))

    # ---- what the bot did ---------------------------------------------------------------------
    def completed_check(self, head_sha: str, name_prefix: str = "") -> dict[str, Any] | None:
        """The newest completed check run on `head_sha` (validation unless a name is given)."""
        runs = [r for r in self.state.check_runs(self.repo_name, head_sha)
                if r.get("status") == "completed" and r.get("name", "").startswith(name_prefix)
                and (name_prefix or "generate" not in r.get("name", "") and "retrain" not in r.get("name", ""))]
        if not runs:
            return None
        run = dict(runs[-1])
        annotations = [_plain(a) for a in run.get("annotations", [])]
        return {"id": run["id"], "name": run["name"], "head_sha": run["head_sha"], "status": run["status"],
                "conclusion": run["conclusion"],
                "output": {"title": run.get("title", ""), "summary": run.get("summary", ""),
                           "text": run.get("text", ""), "annotations": annotations}}

    def bot_comments(self, number: int) -> list[dict[str, Any]]:
        return [_comment(c) for c in self.state.comments(self.repo_name, number)
                if c["author"] == self.state.bot_login]

    def comment(self, comment_id: int) -> dict[str, Any] | None:
        with self.state.lock:
            c = self.state.repos[self.repo_name].comments.get(comment_id)
            return _comment(c) if c else None

    def reactions(self, comment_id: int) -> list[str]:
        with self.state.lock:
            found = self.state.repos[self.repo_name].reactions.get(comment_id, [])
            return [str(r.get("content", r)) if isinstance(r, dict) else str(r) for r in found]


def _comment(c: dict[str, Any]) -> dict[str, Any]:
    return {"id": c["id"], "author": c["author"], "body": c["body"], "updated_at": c.get("updated_at")}


def _plain(annotation: Any) -> dict[str, Any]:
    if isinstance(annotation, dict):
        return annotation
    from dataclasses import asdict

    return asdict(annotation)
