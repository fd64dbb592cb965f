"""``pqsign git setup`` and ``pqsign git verify``."""

from __future__ import annotations

from pathlib import Path

import typer

from pqsign.cli._common import FORCE, console, emit_json, options, say

git_app = typer.Typer(help="Sign commits and tags with git's own -S; verify whole ranges in CI.",
                      no_args_is_help=True)


@git_app.command("setup")
def setup(
    ctx: typer.Context,
    key: Path = typer.Option(None, "--key", "-k", help="Your private key (.key; its .pub must be beside it)."),
    keyring: Path | None = typer.Option(None, "--keyring", help="Keyring verification trusts "
                                        "(default: a personal one with your own key)."),
    global_scope: bool = typer.Option(False, "--global", help="Configure ~/.gitconfig instead of this repo."),
    unset: bool = typer.Option(False, "--unset", help="Remove pqsign's git settings."),
    force: bool = FORCE,
) -> None:
    """Make `git commit -S`, `git tag -s` and `git verify-commit` use pqsign."""
    from pqsign.errors import InputError
    from pqsign.git.setup import setup_git, unset_git

    scope = "global" if global_scope else "local"
    if unset:
        removed = unset_git(scope=scope)
        say(ctx, f"Removed {', '.join(removed) or 'nothing'} from the {scope} git config")
        return
    if key is None:
        raise InputError("--key is required", hint="pqsign git setup --key ~/.pqsign/me.key")
    done = setup_git(key, keyring=keyring, scope=scope, force=force)
    if options(ctx).json:
        emit_json("git-setup", {"scope": done.scope, "program": done.program, "key": done.key,
                                "keyring": done.keyring, "keyId": done.key_id})
        return
    say(ctx, f"git ({scope}) now signs with {done.key} (key {done.key_id[:16]}) via {done.program}")
    say(ctx, f"Verification trusts {done.keyring}. Try: git commit -S -m '...' && git verify-commit HEAD")


@git_app.command("verify")
def verify(
    ctx: typer.Context,
    revisions: list[str] = typer.Argument(None, metavar="[RANGE]...", help="Commits, e.g. origin/main..HEAD "
                                          "(default: HEAD and all its history)."),
    keyring: Path = typer.Option(..., "--keyring", envvar="PQSIGN_KEYRING", help="Trusted keys."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="Also verify this annotated tag; repeatable."),
    allow_unsigned_merges: bool = typer.Option(False, "--allow-unsigned-merges",
                                               help="Let unsigned merge commits pass."),
    match_committer: bool = typer.Option(False, "--match-committer",
                                         help="The signer's keyring email must be the committer's."),
    repo: Path = typer.Option(Path("."), "--repo", "-C", help="Repository (default: here)."),
) -> None:
    """Verify every commit in a range in one process; exit 1 if any is unsigned or untrusted."""
    from pqsign.git.history import verify_history
    from pqsign.keys.keyring import load_keyring

    trusted = {entry.key_id: entry for entry in load_keyring(keyring)}
    results = verify_history(repo, revisions or ["HEAD"], trusted, tags=tag,
                             allow_unsigned_merges=allow_unsigned_merges, match_committer=match_committer)
    failed = [r for r in results if not r.allowed]
    if options(ctx).json:
        emit_json("git-verify", {"verified": not failed, "checked": len(results), "failed": len(failed),
                                 "objects": [{"oid": r.oid, "type": r.kind, "author": r.author,
                                              "subject": r.subject, "result": r.verdict.result.value,
                                              "signer": r.verdict.signer, "keyId": r.verdict.key_id,
                                              "reason": r.verdict.reason, "passed": r.allowed}
                                             for r in results]})
    elif not options(ctx).quiet:
        from rich.table import Table

        table = Table(title=f"{len(results)} object(s), {len(failed)} failed")
        for column in ("Commit", "Author", "Signer", "Result"):
            table.add_column(column, overflow="fold")
        colours = {"G": "green", "U": "yellow", "N": "yellow"}
        for r in results:
            letter = r.verdict.result.value
            text = f"[{colours.get(letter, 'red')}]{letter}[/] {r.verdict.reason}".rstrip()
            table.add_row(f"{r.kind[0]} {r.oid[:12]}", r.author, r.verdict.signer, text)
        console().print(table)
    if failed:
        raise typer.Exit(1)
