"""``apscheduler plugins`` and ``apscheduler triggers ...``: what is installed, and what
a trigger would do."""

import json as jsonlib
from datetime import timezone
from typing import Annotated, Any

import typer
from rich.table import Table

from .._converters import as_timezone
from .._registry import KIND_HOOKS, PluginInfo, get_registry
from ..config import build_trigger, format_path
from ..config._errors import SchemaIssues
from ._common import CLIError, echo_warning, handle_errors, print_json, stdout
from ._format import format_time

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

triggers_app = typer.Typer(help="List triggers and preview their fire times.",
                           no_args_is_help=True)


def plugin_to_dict(plugin: PluginInfo) -> dict[str, Any]:
    registers: dict[str, list[dict[str, Any]]] = {}
    for registration in plugin.registrations:
        registers.setdefault(registration.kind, []).append(
            {
                "name": registration.name,
                "target": registration.target_ref,
                "url_schemes": list(registration.url_schemes),
                "description": registration.description,
            }
        )
    return {
        "name": plugin.name,
        "distribution": plugin.distribution,
        "version": plugin.version,
        "registers": registers,
    }


@handle_errors
def plugins(
    json: JsonOption = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show URL schemes and classes.")
    ] = False,
) -> None:
    """List every plugin: its distribution, version and what it registers.

    Plugins are found through the 'apscheduler' entry-point group;
    APSCHEDULER_PLUGINS (allow-list) and APSCHEDULER_DISABLE_PLUGINS (block-list) select
    them by entry-point name.
    """
    registry = get_registry()
    for error in registry.errors:
        echo_warning(error)
    infos = registry.plugins()
    if json:
        print_json([plugin_to_dict(info) for info in infos])
        return
    table = Table("Plugin", "Kind", "Names")
    table.columns[0].no_wrap = True
    table.columns[1].no_wrap = True
    for info in infos:
        origin = f"{info.distribution or '(in code)'} {info.version or ''}".strip()
        rows: list[tuple[str, str]] = []
        for kind in KIND_HOOKS:
            regs = [r for r in info.registrations if r.kind == kind]
            if not regs:
                continue
            entries = []
            for reg in regs:
                text = reg.name
                if verbose:
                    schemes = ", ".join(s + "://" for s in reg.url_schemes)
                    text += f" = {reg.target_ref}" + (f" ({schemes})" if schemes else "")
                entries.append(text)
            rows.append((kind.replace("_", " "), ("\n" if verbose else ", ").join(entries)))
        if not rows:
            rows.append(("-", "(registers nothing)"))
        if len(rows) == 1:
            rows.append(("", ""))
        for index, (kind, names) in enumerate(rows):
            label = {0: f"[bold]{info.name}[/bold]", 1: f"[dim]{origin}[/dim]"}.get(index, "")
            table.add_row(label, kind, names, end_section=index == len(rows) - 1)
    stdout().print(table)


@triggers_app.command("list")
@handle_errors
def list_triggers(json: JsonOption = False) -> None:
    """List the registered trigger names."""
    registrations = get_registry().registrations("trigger")
    if json:
        print_json(
            [
                {
                    "name": reg.name,
                    "plugin": reg.plugin,
                    "distribution": reg.distribution,
                    "target": reg.target_ref,
                    "description": reg.description,
                }
                for reg in registrations
            ]
        )
        return
    table = Table("Name", "Plugin", "Class")
    for reg in registrations:
        table.add_row(reg.name, reg.distribution or reg.plugin, reg.target_ref)
    stdout().print(table)


def parse_extra_options(args: list[str]) -> dict[str, Any]:
    """``["--hour", "9", "--day-of-week=mon-fri", "--flag"]`` →
    ``{"hour": 9, "day_of_week": "mon-fri", "flag": True}``.

    Values that look like numbers become numbers, ``true``/``false`` booleans, and
    ``[...]``/``{...}`` are read as JSON (for ``--triggers`` of and/or).
    """
    options: dict[str, Any] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith("--") or len(arg) == 2:
            raise CLIError(f"unexpected argument {arg!r}; write trigger options as "
                           f"--name value (e.g. --hour 9)")
        key, sep, value = arg[2:].partition("=")
        if not sep:
            if index < len(args) and not args[index].startswith("--"):
                value = args[index]
                index += 1
            else:
                options[key.replace("-", "_")] = True
                continue
        options[key.replace("-", "_")] = coerce(value)
    return options


def coerce(text: str) -> Any:
    """Turn a command-line string into the number/boolean/JSON value it spells."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    if text[:1] in "[{":
        try:
            return jsonlib.loads(text)
        except ValueError:
            pass
    return text


@triggers_app.command(
    "preview",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@handle_errors
def preview(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Trigger name (see 'triggers list').",
                                        show_default=False)],
    count: Annotated[int, typer.Option("-n", "--count", min=1, help="How many fire times.")]
    = 10,
    json: JsonOption = False,
) -> None:
    """Show the next fire times of a trigger, in local time and UTC.

    Trigger options follow the name as --option value: 'triggers preview cron --hour 9
    --day-of-week mon-fri -n 5', 'triggers preview interval --minutes 90',
    'triggers preview cron --crontab "*/15 9-17 * * *"', 'triggers preview date
    --run-time +1h'. Naive times are in the host's zone unless --timezone is given.
    """
    options = parse_extra_options(list(ctx.args))
    try:
        trigger = build_trigger(name, options, timezone=as_timezone(None))
    except SchemaIssues as exc:
        lines = []
        for path, message in exc.issues:
            if path == ("type",) or not path:
                lines.append(message)
            else:
                option = "--" + str(path[0]).replace("_", "-")
                rest = format_path(path[1:]) if len(path) > 1 else ""
                lines.append(f"{option}{'.' + rest if rest else ''}: {message}")
        raise CLIError(lines) from None
    times = trigger.preview(count)
    if json:
        print_json([{"local": value.isoformat(),
                     "utc": value.astimezone(timezone.utc).isoformat()} for value in times])
        return
    zone = times[0].tzinfo if times else None
    zone_name = getattr(zone, "key", None) or (str(zone) if zone else "local")
    table = Table("#", f"Local ({zone_name})", "UTC", title=repr(trigger), title_justify="left")
    for index, value in enumerate(times, start=1):
        table.add_row(str(index), format_time(value), format_time(value, timezone.utc))
    console = stdout()
    console.print(table)
    if len(times) < count:
        console.print(f"The trigger has no fire times after these {len(times)}.")
