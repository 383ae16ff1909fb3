"""The words of `trainer curve`: short reports of a curve comparison, a config change, a golden's move.

Each function returns text; trainer.cli prints it. Values are shown in full (repr) so that two
numbers that differ in the last digit look different.
"""

from trainer.config.diff import show_diff


def _tolerance(cmp):
    return "bitwise" if cmp.exact else f"rtol {cmp.rtol:g}, atol {cmp.atol:g}"


def _at(d):
    return f"epoch {d.epoch}, {d.metric}"


def schedule_note(expected, got):
    """Why two curves trained for different numbers of epochs part at once under a cosine lr
    schedule (it spans the run's own epochs), or ''."""
    a, b = expected["epochs"], got["epochs"]
    schedules = {curve["config"].get("train", {}).get("lr_schedule") for curve in (expected, got)}
    if a == b or "cosine" not in schedules:
        return ""
    return (
        f"the curves were trained for {a} and {b} epochs, and the cosine lr schedule spans a run's own "
        "epochs, so their lr differs from epoch 2 on; compare curves trained for as many epochs "
        "(`trainer curve check` trains a config for its golden's)"
    )


def curve_report(cmp, expected_label, got_label, platform=(), config=(), note=""):
    """One line when the curves match; else the first departure, the largest deviation and counts,
    and `note` (e.g. schedule_note)."""
    largest = cmp.largest.rel if cmp.largest else 0.0
    if cmp.ok:
        where = f" ({_at(cmp.largest)})" if largest else ""
        text = (
            f"ok: {got_label} matches {expected_label} ({_tolerance(cmp)}): {cmp.compared} epochs, "
            f"largest relative deviation {largest:.1e}{where}"
        )
        return text + (f"\n  note: the configs differ: {show_diff(config)}" if config else "")
    lines = [f"FAILED: {got_label} departs from {expected_label} ({_tolerance(cmp)})"]
    if config:
        lines.append(f"  note: the configs differ: {show_diff(config)}")
    if note:
        lines.append(f"  note: {note}")
    if cmp.first:
        d = cmp.first
        lines.append(
            f"  first departure: {_at(d)}: expected {d.expected!r}, got {d.got!r} (relative {d.rel:.1e})"
        )
    elif cmp.epochs[0] != cmp.epochs[1]:
        lines.append(f"  first departure: after epoch {cmp.compared}, where one run ended")
    if largest:
        lines.append(f"  largest relative deviation: {largest:.1e} ({_at(cmp.largest)})")
    lines.append(f"  epochs out of tolerance: {cmp.bad_epochs} of {cmp.compared}")
    if cmp.epochs[0] != cmp.epochs[1]:
        lines.append(f"  epochs run: expected {cmp.epochs[0]}, got {cmp.epochs[1]}")
    if cmp.best_epoch[0] != cmp.best_epoch[1]:
        lines.append(f"  best epoch (early stopping): expected {cmp.best_epoch[0]}, got {cmp.best_epoch[1]}")
    for side, names in zip(("expected", "got"), cmp.only, strict=True):
        if names:
            lines.append(f"  metrics only the {side} curve has: {', '.join(names)}")
    if platform:
        lines.append(f"  platform differs: {show_diff(platform)}")
    return "\n".join(lines)


def config_report(diff, golden, label, hint):
    """The golden was made from another config: which keys differ, and how to refresh it."""
    lines = [
        f"FAILED: {label}: the golden {golden} was made from a different config, so the curves "
        f"were not compared; keys that differ (golden -> now):"
    ]
    lines += [f"  {show_diff([d])}" for d in diff]
    lines.append(f"  if the change is meant, refresh the golden: {hint}")
    return "\n".join(lines)


def movement_report(golden, got, config_epochs, note="", exact=None, tolerant=None, config=(), platform=()):
    """What `curve update` wrote and, given the old golden's CurveDiffs (exact, tolerant), how it moved."""
    ran = f"ran {got['epochs_run']}" + (
        f", stopped early, best epoch {got['best_epoch']}" if got["stopped_early"] else ""
    )
    lines = [f"wrote {golden}: {got['epochs']} of the config's {config_epochs} epochs ({ran})"]
    if note:
        lines.append(f"  {note}")
    if exact is None:
        lines.append("  new golden")
        return "\n".join(lines)
    if config:
        lines.append(f"  config changed: {show_diff(config)}")
    if platform:
        lines.append(f"  platform changed: {show_diff(platform)}")
    if exact.ok:
        lines.append("  curve unchanged, bit for bit")
        return "\n".join(lines)
    if exact.first:
        d = exact.first
        lines.append(f"  first change: {_at(d)}: {d.expected!r} -> {d.got!r} (relative {d.rel:.1e})")
    if exact.largest and exact.largest.rel:
        lines.append(
            f"  largest relative change: {exact.largest.rel:.1e} ({_at(exact.largest)}); "
            f"{exact.bad_epochs} of {exact.compared} epochs changed"
        )
    if exact.epochs[0] != exact.epochs[1]:
        lines.append(f"  epochs run: {exact.epochs[0]} -> {exact.epochs[1]}")
    for change, names in zip(("dropped", "added"), exact.only, strict=True):
        if names:
            lines.append(f"  metrics {change}: {', '.join(names)}")
    if not exact.bad_epochs and exact.epochs[0] == exact.epochs[1] and not exact.only[0]:
        lines.append("  every value the old golden holds is unchanged, bit for bit")
        return "\n".join(lines)
    verdict = "within" if tolerant.ok else "beyond"
    lines.append(f"  {verdict} the default tolerance ({_tolerance(tolerant)})")
    return "\n".join(lines)
