"""The root ``pqsign`` app: global options, sub-apps, and the only error-to-exit-code map.

Exit codes:
    0  success: everything verified / the operation completed
    1  verification failed: a signature is invalid, untrusted, or does not match
    2  usage or input error: bad arguments, missing/malformed/oversized input, wrong passphrase
    3  internal error (a bug: please report it with the output of --debug)
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from pqsign import __version__
from pqsign.cli import files as files_cli
from pqsign.cli._common import Options

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

EXIT_CODES_HELP = (
    "Exit codes: 0 ok/verified; 1 verification failed; 2 usage or input error "
    "(missing, malformed or oversized input, wrong passphrase); 3 internal error."
)

#: Command groups: name -> (module, Typer attribute). A group's module is imported and its
#: commands built only when the command line names it (or asks for the full help), because
#: typer inspects every registered command on every run: start-up is a feature.
GROUPS: dict[str, tuple[str, str]] = {
    "key": ("pqsign.cli.keys", "key_app"),
    "keyring": ("pqsign.cli.keys", "keyring_app"),
    "git": ("pqsign.cli.git", "git_app"),
    "image": ("pqsign.cli.image", "image_app"),
    "sbom": ("pqsign.cli.sbom", "sbom_app"),
    "release": ("pqsign.cli.release", "release_app"),
}

app = typer.Typer(
    name="pqsign",
    help="Post-quantum signatures for the software supply chain (ML-DSA, SLH-DSA, hybrid).\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pqsign {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Global options may stand anywhere on the command line."""
    ctx.obj = Options(json=json_output, quiet=quiet, debug=debug)


files_cli.register(app)


def register_groups(argv: list[str]) -> None:
    """Add the command group ``argv`` names to :data:`app`, or all of them if it names none."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in files_cli.COMMANDS:
        return
    wanted = [command] if command in GROUPS else list(GROUPS)
    registered = {info.name for info in app.registered_groups}
    for name in wanted:
        if name not in registered:
            module, attribute = GROUPS[name]
            app.add_typer(getattr(importlib.import_module(module), attribute), name=name)


GLOBAL_FLAGS = ("--json", "--quiet", "-q", "--debug")


def hoist_global_flags(argv: list[str]) -> list[str]:
    """Let global flags stand anywhere: ``pqsign verify f --json`` == ``pqsign --json verify f``.

    Flags after a ``--`` separator are left alone (they may be file names).
    """
    end = argv.index("--") if "--" in argv else len(argv)
    flags = [a for a in argv[:end] if a in GLOBAL_FLAGS]
    rest = [a for a in argv[:end] if a not in GLOBAL_FLAGS]
    return flags + rest + argv[end:]


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("PQSIGN_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app and turn every outcome into an exit code."""
    from pqsign.errors import PqsignError, VerificationError

    args = hoist_global_flags(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    register_groups(args)
    try:
        # standalone_mode: typer itself reports usage errors (exit 2) and --help; only
        # pqsign's own errors and bugs come out of this call as exceptions.
        app(args=args, prog_name="pqsign", standalone_mode=True)
        code = EXIT_OK
    except PqsignError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc.diagnostics()}", err=True)
        code = EXIT_FAILED if isinstance(exc, VerificationError) else EXIT_INPUT
        if "--json" in args:  # machines get the failure on stdout too
            from pqsign.cli._common import emit_json

            emit_json("error", {"ok": False, "exitCode": code, "error": exc.message, "hint": exc.hint,
                                "kind": "verification" if code == EXIT_FAILED else "input"})
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    except BrokenPipeError:
        code = EXIT_OK
    except Exception as exc:  # a bug: one line unless --debug
        if debug:
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc}\n"
                   "hint: this is a bug in pqsign; rerun with --debug and report the traceback",
                   err=True)
        code = EXIT_INTERNAL
    sys.exit(code)
