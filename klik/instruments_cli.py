"""``klik instruments ...``: list, check, import and export questionnaire instruments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from questionnaires.errors import InstrumentError
from questionnaires.redcap import import_redcap, write_redcap
from questionnaires.registry import (
    dump_instrument,
    instrument_files,
    load_instrument,
    load_registry,
)

app = typer.Typer(
    help="Questionnaire instruments: list, check, import from and export to REDCap.",
    no_args_is_help=True,
)

DirsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--dir",
        help="Extra directory of instrument files (repeatable), besides the built-in set.",
    ),
]


@app.command("list")
def list_instruments(dirs: DirsOption = None) -> None:
    """List the instruments: id, version, respondent, number of items and scores, title."""
    try:
        registry = load_registry(dirs or [])
    except InstrumentError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    for (iid, version), inst in sorted(registry.by_key.items()):
        typer.echo(
            f"{iid}\t{version}\t{inst.respondent}\t{len(inst.answerable_items)} items\t"
            f"{len(inst.scores)} scores\t{inst.title.get('nl', '')}\t{inst.origin}"
        )


@app.command("check")
def check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Instrument files to check (default: all known instruments)."),
    ] = None,
    dirs: DirsOption = None,
) -> None:
    """Check instrument files; exit code 1 when any is broken."""
    paths: list[Path] = list(files or [])
    if not paths:
        try:
            registry = load_registry(dirs or [])
        except InstrumentError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"{len(registry.by_key)} instruments OK")
        return
    failed = 0
    for path in paths:
        targets = instrument_files(path) if path.is_dir() else [path]
        for target in targets:
            try:
                inst = load_instrument(target)
            except InstrumentError as exc:
                failed += 1
                typer.echo(str(exc), err=True)
                continue
            typer.echo(f"OK {target}: {inst.id} {inst.version}")
    if failed:
        raise typer.Exit(1)


@app.command("import-redcap")
def import_redcap_cmd(
    file: Annotated[Path, typer.Argument(help="REDCap data dictionary CSV.")],
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write the instrument files to.")
    ] = Path("."),
    respondent: Annotated[
        str, typer.Option(help="Respondent role: employee, jobcoach or employer.")
    ] = "employee",
    version: Annotated[str, typer.Option(help="Version given to the instruments.")] = "1",
    pages: Annotated[
        str,
        typer.Option(
            help="'form': each form on one page; 'section': a new page at each section header."
        ),
    ] = "form",
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Import a REDCap data dictionary: one instrument file per form, warnings listed."""
    if pages not in ("form", "section"):
        typer.echo(f"--pages must be 'form' or 'section', not {pages!r}", err=True)
        raise typer.Exit(1)
    try:
        result = import_redcap(
            file,
            respondent=respondent,
            version=version,
            pages="section" if pages == "section" else "form",
        )
    except InstrumentError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    out.mkdir(parents=True, exist_ok=True)
    for inst in result.instruments:
        target = out / f"{inst.id}.yaml"
        if target.exists() and not force:
            typer.echo(f"{target} exists; use --force to overwrite", err=True)
            raise typer.Exit(1)
        target.write_text(dump_instrument(inst), encoding="utf-8")
        typer.echo(f"wrote {target} ({len(inst.answerable_items)} items)")
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)


@app.command("export-redcap")
def export_redcap_cmd(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    instrument: Annotated[
        list[str] | None,
        typer.Option("--instrument", help="Instrument id (repeatable; default: all)."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of labels: nl or en.")] = "nl",
    record_id: Annotated[
        str,
        typer.Option(
            "--record-id",
            help="Name of the record ID field put first when no exported instrument has one.",
        ),
    ] = "record_id",
    dirs: DirsOption = None,
) -> None:
    """Export instruments (latest versions) as a REDCap data dictionary.

    Field names used by more than one instrument are renamed ``<instrument>_<field>``.
    """
    try:
        registry = load_registry(dirs or [])
        chosen = (
            [registry.get(i) for i in instrument]
            if instrument
            else list(registry.latest().values())
        )
        notes = write_redcap(chosen, out, lang, record_id=record_id)
    except KeyError as exc:
        typer.echo(f"unknown instrument: {exc.args[0]}", err=True)
        raise typer.Exit(1) from exc
    except InstrumentError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"wrote {out} ({', '.join(i.id for i in chosen)})")
    for note in notes:
        typer.echo(f"note: {note}", err=True)
