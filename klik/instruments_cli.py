"""``klik instruments ...``: list, check, import and export questionnaire instruments."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer

from questionnaires.errors import InstrumentError
from questionnaires.redcap import import_redcap, write_redcap
from questionnaires.redcap_project import field_report, import_project
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
    file: Annotated[
        Path, typer.Argument(help="REDCap data dictionary CSV, or the project XML (ODM).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write the instrument files to.")
    ] = Path("."),
    respondent: Annotated[
        str, typer.Option(help="Respondent role of every form: employee, jobcoach or employer.")
    ] = "employee",
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help="Respondent role of one form: FORM=ROLE (repeatable; wins over --respondent).",
        ),
    ] = None,
    events: Annotated[Path | None, typer.Option(help="REDCap events CSV.")] = None,
    arms: Annotated[Path | None, typer.Option(help="REDCap arms CSV.")] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="REDCap instrument-event mapping CSV.")
    ] = None,
    language: Annotated[
        str, typer.Option(help="Language the project is written in: nl or en.")
    ] = "nl",
    version: Annotated[str, typer.Option(help="Version given to the instruments.")] = "1",
    pages: Annotated[
        str,
        typer.Option(
            help="'form': each form on one page; 'section': a new page at each section header."
        ),
    ] = "form",
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Import a REDCap dictionary or project: one instrument file per form, a protocol
    (protocol.json, one wave per event) for a longitudinal project, and a report per field
    (import-report.tsv: kept, changed, not supported)."""
    if pages not in ("form", "section"):
        typer.echo(f"--pages must be 'form' or 'section', not {pages!r}", err=True)
        raise typer.Exit(1)
    try:
        roles = _roles(role or [])
        text = file.read_text(encoding="utf-8-sig")
        is_xml = text.lstrip().startswith("<")
        longitudinal = is_xml or events is not None or mapping is not None
        if longitudinal:
            project = import_project(
                dictionary=None if is_xml else text,
                project_xml=text if is_xml else None,
                events=events.read_text(encoding="utf-8-sig") if events else None,
                arms=arms.read_text(encoding="utf-8-sig") if arms else None,
                mapping=mapping.read_text(encoding="utf-8-sig") if mapping else None,
                roles=roles,
                respondent=respondent,
                language=language,
                version=version,
                origin=str(file),
            )
            instruments, report = project.instruments, [str(r) for r in project.report]
        else:
            result = import_redcap(
                file,
                respondent=respondent,
                version=version,
                pages="section" if pages == "section" else "form",
                language=language,
            )
            instruments = [
                dataclasses.replace(i, respondent=roles[i.id]) if i.id in roles else i
                for i in result.instruments
            ]
            report = [str(r) for r in field_report(text, instruments, result.warnings)]
    except (InstrumentError, OSError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    out.mkdir(parents=True, exist_ok=True)
    targets = [(out / f"{inst.id}.yaml", dump_instrument(inst)) for inst in instruments]
    if longitudinal:
        # JSON, not YAML: the folder is also an instrument folder, which reads every *.yaml.
        targets.append(
            (
                out / "protocol.json",
                json.dumps(project.protocol(), indent=2, ensure_ascii=False) + "\n",
            )
        )
    targets.append((out / "import-report.tsv", "status\twhere\tnote\n" + "\n".join(report) + "\n"))
    for target, _ in targets:
        if target.exists() and not force:
            typer.echo(f"{target} exists; use --force to overwrite", err=True)
            raise typer.Exit(1)
    for target, content in targets:
        target.write_text(content, encoding="utf-8")
        typer.echo(f"wrote {target}")
    for line in report:
        if not line.startswith("kept"):  # what was changed or left out, on the terminal too
            typer.echo(line, err=True)


def _roles(pairs: list[str]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for pair in pairs:
        form, sep, name = pair.partition("=")
        if not sep or not form.strip() or not name.strip():
            raise InstrumentError(
                f"--role {pair!r}: write FORM=ROLE, e.g. --role baseline=jobcoach"
            )
        roles[form.strip()] = name.strip()
    return roles


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
