"""The program git runs to sign and verify (``gpg.format=x509``, ``gpg.x509.program``).

Git's protocol (gpg-interface.c; see docs in the README):

* sign:   ``pqsign-git --status-fd=2 -bsau <key>``, payload on stdin, signature to stdout,
  ``[GNUPG:] BEGIN_SIGNING`` then ``[GNUPG:] SIG_CREATED ...`` on the status fd, exit 0;
* verify: ``pqsign-git --status-fd=1 --verify <sigfile> -``, payload on stdin; status lines on
  stdout: ``NEWSIG``, exactly one of GOODSIG/BADSIG/ERRSIG, VALIDSIG for good signatures, and
  always exactly one ``TRUST_*`` line (git 2.39 aborts on ``%GT`` without one); short text for
  people on stderr. Exit 0 only for a good signature by a trusted key.

This entry point imports neither typer nor rich: git starts it once per commit.
Configuration comes from the environment and ``git config`` (``pqsign.keyring``,
``pqsign.passwordFile``, ``pqsign.matchCommitter``), since git passes no other arguments.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

from pqsign.errors import PqsignError

DEFAULT_TIMEOUT = 120  # seconds; git itself waits forever on a stuck signer


class _Failure(Exception):
    """A failure already explained to the user."""


def _log(message: str) -> None:
    """Text for people: stderr (hidden by git 2.39 when signing) and PQSIGN_GIT_LOG if set."""
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
    log_file = os.environ.get("PQSIGN_GIT_LOG")
    if log_file:
        try:
            with open(log_file, "a", encoding="utf-8") as handle:
                handle.write(message.rstrip("\n") + "\n")
        except OSError:
            pass


def _status(fd: int, *lines: str) -> None:
    data = "".join(f"[GNUPG:] {line}\n" for line in lines).encode("utf-8")
    os.write(fd, data)


def git_config(name: str) -> str:
    """One git config value ('' if unset); git runs us inside the repository."""
    try:
        out = subprocess.run(["git", "config", "--get", name], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _read_stdin() -> bytes:
    return sys.stdin.buffer.read()


def _passphrase(what: str) -> bytes | None:
    if "PQSIGN_PASSWORD" in os.environ:
        return os.environ["PQSIGN_PASSWORD"].encode()
    password_file = os.environ.get("PQSIGN_PASSWORD_FILE") or git_config("pqsign.passwordFile")
    if password_file:
        try:
            return Path(password_file).expanduser().read_bytes().split(b"\n", 1)[0].rstrip(b"\r")
        except OSError as exc:
            raise _Failure(f"pqsign: cannot read password file {password_file}: {exc.strerror}") from None
    try:
        tty = open("/dev/tty", "r+")  # noqa: SIM115 - closed below
    except OSError:
        raise _Failure(f"pqsign: {what} is encrypted and there is no terminal to ask for its passphrase; "
                       "set PQSIGN_PASSWORD or PQSIGN_PASSWORD_FILE, or git config pqsign.passwordFile") from None
    with tty:
        import getpass

        return getpass.getpass(f"pqsign: passphrase for {what}: ", stream=tty).encode()


def _sign(key_spec: str, status_fd: int) -> None:
    from pqsign.git.keys import resolve_signing_key
    from pqsign.git.signature import sign_payload
    from pqsign.keys.keyfile import load_private_key

    path, identity = resolve_signing_key(key_spec, git_config("pqsign.keyring"))
    key = load_private_key(path, lambda: _passphrase(str(path)))
    payload = _read_stdin()
    signature = sign_payload(payload, key, identity)
    public = key.public_key()
    sys.stdout.buffer.write(signature)
    sys.stdout.buffer.flush()
    import time

    _status(status_fd, "BEGIN_SIGNING",
            f"SIG_CREATED D 0 0 00 {int(time.time())} {public.key_id}")


def _verify(signature_file: str, status_fd: int) -> int:
    from pqsign.git.signature import GitResult, judge, payload_identity_email
    from pqsign.keys.keyring import load_keyring

    signature = Path(signature_file).read_bytes()
    payload = _read_stdin()
    keyring_path = os.environ.get("PQSIGN_KEYRING") or git_config("pqsign.keyring")
    trusted = {e.key_id: e for e in load_keyring(keyring_path)} if keyring_path else {}
    require = None
    if git_config("pqsign.matchCommitter").lower() in ("true", "yes", "on", "1"):
        require = payload_identity_email(payload)
    verdict = judge(payload, signature, trusted, require_email=require)
    key = verdict.key_id or "0" * 16
    when = verdict.signing_time
    stamp = int(when.timestamp()) if when else 0
    lines = ["NEWSIG"]
    if verdict.result in (GitResult.GOOD, GitResult.UNTRUSTED):
        day = when.strftime("%Y-%m-%d") if when else "0"
        lines += [f"GOODSIG {key} {verdict.signer}", f"VALIDSIG {key} {day} {stamp} 0 - - - - - {key}"]
    elif verdict.result is GitResult.BAD:
        lines.append(f"BADSIG {key} {verdict.signer}")
    else:
        lines.append(f"ERRSIG {key} 0 0 00 {stamp} 9")
    lines.append("TRUST_FULLY 0 pqsign" if verdict.result is GitResult.GOOD else "TRUST_UNDEFINED 0 pqsign")
    _status(status_fd, *lines)
    if verdict.result is GitResult.GOOD:
        _log(f"pqsign: Good {verdict.algorithm} signature by {verdict.signer} (key {key[:16]})")
        return 0
    labels = {GitResult.UNTRUSTED: "Untrusted", GitResult.BAD: "BAD", GitResult.ERROR: "Cannot check"}
    _log(f"pqsign: {labels[verdict.result]} signature: {verdict.reason}")
    return 1 if verdict.result in (GitResult.UNTRUSTED, GitResult.BAD) else 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pqsign-git", description=__doc__.split("\n\n")[0])
    parser.add_argument("--status-fd", type=int, default=2)
    parser.add_argument("--keyid-format", default="long")
    parser.add_argument("-b", "--detach-sign", action="store_true")
    parser.add_argument("-s", "--sign", action="store_true")
    parser.add_argument("-a", "--armor", action="store_true")
    parser.add_argument("-u", "--local-user", default=None)
    parser.add_argument("--verify", nargs="+", metavar=("SIGFILE", "-"))
    return parser


def _timeout(signum: int, frame: object) -> NoReturn:
    _log("pqsign: timed out (PQSIGN_GIT_TIMEOUT); is a passphrase prompt waiting, or stdin never closed?")
    os._exit(2)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    timeout = int(os.environ.get("PQSIGN_GIT_TIMEOUT", DEFAULT_TIMEOUT))
    signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(max(1, timeout))
    try:
        if args.verify:
            code = _verify(args.verify[0], args.status_fd)
        elif args.sign or args.detach_sign:
            if not args.local_user:
                raise _Failure("pqsign: no signing key given (-u KEY)")
            _sign(args.local_user, args.status_fd)
            code = 0
        else:
            _parser().print_usage(sys.stderr)
            code = 2
    except _Failure as exc:
        _log(str(exc))
        code = 2
    except PqsignError as exc:
        _log(f"pqsign: {exc.diagnostics()}")
        code = 2
    except OSError as exc:
        _log(f"pqsign: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}")
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    main()
