"""The ``aiready`` command line: one module per subcommand; errors become exit codes here only.

Exit codes: 0 ok, 1 a quality gate failed, 2 usage/config/contract/source error, 3 internal error.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings

import click
import typer
from rich.markup import escape

from aiready.cli import (
    audit,
    batch,
    catalog,
    certify,
    check_model,
    context,
    contract,
    demo,
    drift,
    feedback,
    ingest,
    init,
    keys,
    lineage,
    policy,
    publish,
    quarantine,
    query,
    refine,
    report,
    run,
    scan,
    score,
    secret,
    serve,
    status,
    suggest,
    ui,
    vacuum,
)
from aiready.cli._common import emit_json, err_console
from aiready.errors import AireadyError

app = typer.Typer(
    name="aiready",
    help="Make data AI-ready: bronze → silver through data contracts, gates and quarantine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for module in (
    init,
    ingest,
    refine,
    publish,
    certify,
    run,
    status,
    quarantine,
    check_model,
    drift,
    query,
    context,
    lineage,
    scan,
    score,
    report,
    suggest,
    vacuum,
    serve,
    ui,
    demo,
):
    name = module.__name__.rsplit(".", 1)[1]
    app.command(name=name.replace("_", "-"), help=module.__doc__)(getattr(module, name))


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"aiready {version('aiready')}")
        raise typer.Exit(0)


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Make data AI-ready: bronze → silver through data contracts, gates and quarantine."""


app.add_typer(policy.app, name="policy")
app.add_typer(audit.app, name="audit")
app.add_typer(catalog.app, name="catalog")
app.add_typer(keys.app, name="keys")
app.add_typer(batch.app, name="batch")
app.add_typer(secret.app, name="secret")
app.add_typer(feedback.app, name="feedback")
app.add_typer(contract.app, name="contract")


def main() -> None:
    """Entry point: run the app and map every outcome to one exit code."""
    debug = "--debug" in sys.argv
    # PySpark (engine spark, or imported by MLflow when installed) warns about pandas 3 on import;
    # aiready hands Spark Arrow, never pandas, so the warning is noise for a CLI user.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    if debug:
        sys.argv.remove("--debug")
    try:
        code = app(standalone_mode=False)
    except (typer.Exit, click.exceptions.Exit) as exc:
        code = exc.exit_code
    except (typer.Abort, click.exceptions.Abort):
        code = 130
    except typer.TyperException as exc:  # usage errors (typer vendors click as typer._click)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"[red]error:[/] {exc}")
        code = 2
    except click.ClickException as exc:
        exc.show()
        code = 2
    except AireadyError as exc:
        if debug:
            raise
        _report(exc.attrs())
        code = exc.exit_code
    except Exception as exc:  # the one place unknown errors are caught: exit 3, not a traceback
        if debug:
            raise
        _report({"error": type(exc).__name__, "message": str(exc), "internal": True})
        code = 3
    _exit(code if isinstance(code, int) else 0)


def _exit(code: int) -> None:
    """Flush and leave without interpreter teardown.

    Native thread pools (pyarrow/DuckDB under deltalake and MLflow) can abort the process while
    Python finalises ("terminate called without an active exception"), turning a finished command
    into exit -6. Every write is committed by now, so skip the teardown and keep the real code.
    """
    journal = sys.modules.get("aiready.policy.audit")  # loaded only if something was decided
    if journal is not None:
        journal.fold_all()  # the decisions are durable in its journal; this makes them Delta rows
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing left to flush
            stream.flush()
    os._exit(code)


def _report(attrs: dict[str, object]) -> None:
    if "--json" in sys.argv:
        emit_json({"ok": False, **attrs})
        return
    details = ", ".join(f"{k}={v}" for k, v in attrs.items() if k not in ("error", "message"))
    text = escape(f"{attrs['message']}" + (f"\n  {details}" if details else ""))  # [x] is text
    err_console.print(f"[red]error:[/] {text}")
    if attrs.get("internal"):
        err_console.print("  (internal error: rerun with --debug for the traceback)")
