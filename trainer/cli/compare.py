"""`trainer compare A B`: two runs or seed groups, metric by metric, with the noise of the seeds."""

from trainer.cli import columns, command, picture_arguments, picture_path, warn
from trainer.errors import ConfigError


def _compare_arguments(p):
    p.add_argument(
        "a", metavar="A", help="a run directory, or a seed group (the OUT of `trainer train --seeds`)"
    )
    p.add_argument("b", metavar="B", help="the run directory or seed group to compare with A")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument(
        "--plot",
        metavar="FILE",
        help="also draw both sides' curves per epoch (a group's mean with its 95%% interval) and, for "
        "groups over the same seeds, B - A per seed into FILE (png, svg or pdf by its suffix)",
    )
    picture_arguments(p, "--plot FILE")


@command(
    "compare",
    help="compare two runs or seed groups per metric: means, spreads and the difference with its 95%% CI",
    arguments=_compare_arguments,
)
def compare_command(args):
    from trainer.groups.comparison import compare_sides, load_side
    from trainer.storage.files import dumps

    if not args.plot and (args.format or args.dpi):
        raise ConfigError(f"{'--format' if args.format else '--dpi'} is used only with --plot FILE")
    path, fmt = picture_path(args.plot, args.format, "--plot") if args.plot else (None, None)
    a, b = load_side(args.a), load_side(args.b)
    result = compare_sides(a, b)
    picture = _draw(a, b, result, path, fmt, args.dpi) if path else None
    if args.json:
        print(dumps({**result, "picture": str(picture)} if picture else result, indent=2))
    else:
        print(compare_text(result) + (f"\n\npicture  {picture}" if picture else ""))
    return 0


def _draw(a, b, result, path, fmt, dpi):
    """The comparison's picture at path; None, with one warning line, when matplotlib is missing."""
    from trainer.pictures import plots, versus

    if not plots.available():
        warn(f"no picture: matplotlib is not installed; `{plots.install_hint()}` draws it")
        return None
    return versus.plot_comparison(a, b, result, path, fmt, dpi or plots.DPI)


def _f(v):
    return "-" if v is None else f"{v:.4g}"


def _spread(d):
    return _f(d["mean"]) + ("" if d["std"] is None else f" ± {_f(d['std'])}")


def compare_text(r):
    """The header (both sides, how the difference is taken, the config keys that differ) and a table."""
    from trainer.config.diff import show_diff
    from trainer.groups.comparison import direction

    a, b = r["a"], r["b"]
    lines = [f"A: {_side(a)}", f"B: {_side(b)}"]
    if r["paired"]:
        lines.append(f"paired: both are groups over the same seeds; B - A seed by seed ({r['interval']})")
    else:
        lines.append(f"unpaired: B - A of the means ({next(iter(r['metrics'].values()))['method']})")
    changed = [(d["key"], d["a"], d["b"]) for d in r["config_diff"]]
    lines.append(f"config keys that differ (A -> B): {show_diff(changed)}" if changed else "same config")
    head = ["metric", "A mean ± std", "B mean ± std", "B - A", "95% CI of B - A", "verdict"]
    rows = [head + (["seeds"] if r["paired"] else [])]
    same = [
        k for k, m in r["metrics"].items() if m["a"]["min"] == m["a"]["max"] == m["b"]["min"] == m["b"]["max"]
    ]
    for key, m in r["metrics"].items():
        if key in same:
            continue
        ci = "-" if m["ci_low"] is None else f"[{_f(m['ci_low'])}, {_f(m['ci_high'])}]"
        row = [key, _spread(m["a"]), _spread(m["b"]), _f(m["difference"]), ci, m["verdict"]]
        if r["paired"]:
            n, better = m["a"]["n"], direction(key)
            ahead = m["above"] if better >= 0 else m["below"]
            word = "ahead" if better else "higher"
            row.append(f"B {word} in {ahead} of {n} seeds" + (f" ({m['equal']} equal)" if m["equal"] else ""))
        rows.append(row)
    if len(rows) == 1:  # every metric is the same: a table of only its header says nothing
        return "\n".join([*lines, "", f"every metric is the same on every run of both: {', '.join(same)}"])
    tail = [f"the same on every run of both: {', '.join(same)}"] if same else []
    return "\n".join([*lines, "", columns(rows), *tail])


def _side(s):
    from trainer.config.seed_spec import seeds_text

    if s["group"]:
        return f"{s['path']} ({s['name']}, seed group of {len(s['seeds'])}: {seeds_text(s['seeds'])})"
    return f"{s['path']} ({s['name']}, one run, seed {s['seeds'][0]})"
