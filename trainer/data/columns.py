"""Which columns of a CSV feed a saved model: its input columns by name when there is a header, by
position when there is none; the label column; id columns to copy. Anything ambiguous is refused
in one line. Every step is linear in the number of columns.

A model's input names are positional (x0, x1, ...) when it was trained without names (a CSV
without a header, a generated dataset, arrays): such a model matches a header only when the
header names those columns x0, x1, ....
"""

from dataclasses import dataclass, field

from trainer.errors import DataError, did_you_mean

SHOWN = 10  # names listed in a message before "and N more"


@dataclass
class Columns:
    inputs: list  # the file column of each model input, in the model's order
    label: int | None = None
    ids: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # one-line notes for the user (columns ignored, ...)


def locate(features, names, source):
    """The index in `names` of every feature (any order, other names allowed); DataError naming
    each missing feature and, for each, the nearest unclaimed name."""
    index = {n: j for j, n in enumerate(names)}
    missing = [f for f in features if f not in index]
    if missing:
        wanted = set(features)
        unclaimed = [n for n in names if n not in wanted]
        items = [f"'{m}'{did_you_mean(m, unclaimed, ignore_case=True)}" for m in missing[:SHOWN]]
        shown = ("; " if any("—" in i for i in items) else ", ").join(items)  # a hint's "?" ends an item
        more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
        raise DataError(
            f"{source}: missing {len(missing)} of the model's {len(features)} feature columns: {shown}{more}"
        )
    return [index[f] for f in features]


def _listed(names):
    more = f", ... ({len(names)} in all)" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def match(f, model, target=None, ids=(), need_label=False):
    """Columns of the CsvFile f for `model` (a SavedModel).

    The label column is `target` (name or index) when given, else the model's own target column
    when the file has it (by name with a header; by index when the model was trained on a file
    without a header and this one has that file's columns, the index not naming a feature). Ids
    are copied, never features."""
    if f.has_header:
        _names_for_positions(f, model)  # before the label: naming one would not make the file fit
    label = _label(f, model, target, need_label)
    ids = _ids(f, ids)
    if f.has_header:
        features = _by_name(f, model)
    else:
        features = _by_position(f, model, {label, _weight(f, model), *ids} - {None})
    id_set = set(ids)
    clash = [f.names[j] for j in features if j == label or j in id_set]
    if clash:
        what = "label" if label in features else "id"
        copy = "" if what == "label" else " (to copy a feature, copy its column under another name)"
        raise DataError(
            f"{f.path}: the {what} column '{clash[0]}' is one of the model's features; "
            f"{'the label' if what == 'label' else 'an id'} column must be another column{copy}"
        )
    notes = []
    used = {*features, label, *ids}
    extra = [f.names[j] for j in range(f.width) if j not in used and j != f.trailing]
    if extra and f.has_header:
        notes.append(f"{f.path}: ignoring {len(extra)} column(s) the model does not use: {_listed(extra)}")
    if not f.has_header and not model.positional:
        notes.append(
            f"{f.path} has no header row: its columns are taken by position as the model's features "
            f"{_listed(model.schema.names)}"
        )
    return Columns(features, label, ids, notes)


def _label(f, model, target, need_label):
    if target is not None:
        return f.column(target, "target")
    own = model.target
    if f.has_header and isinstance(own, str) and own in f.names:
        return f.names.index(own)
    if isinstance(own, int) and model.positional and f.width == _trained_width(model):
        j = own % f.width
        if not f.has_header or f.names[j] not in set(model.schema.names):  # a header names x0, ... elsewhere
            return j
    if not need_label:
        return None
    if isinstance(own, str):
        hint = (
            f"the model's label column '{own}' is not in its header"
            if f.has_header
            else (f"it has no header row, so the model's label column '{own}' cannot be found by name")
        )
    else:
        hint = "the model does not name its label column"
    raise DataError(f"{f.path}: which column holds the labels? {hint}; give it with --target COLUMN")


def _trained_width(model):
    """The columns of the CSV without a header a positional model was trained on: its inputs,
    the label, the weight column (data.weight) and the columns data.drop left out."""
    data = model.config.get("data", {})
    return len(model.schema.inputs) + 1 + isinstance(data.get("weight"), int) + len(data.get("drop") or ())


def _weight(f, model):
    """The training weight column (data.weight) of a file without a header laid out as the model's
    training file was, so that it is not taken for a feature; else None (with a header, it is one
    more column the model does not use)."""
    weight = model.config.get("data", {}).get("weight")
    if f.has_header or not isinstance(weight, int) or not model.positional:
        return None
    return weight % f.width if f.width == _trained_width(model) else None


def _ids(f, ids):
    found = []
    for key in ids:
        j = f.column(key, "id")
        if j in found:
            raise DataError(f"{f.path}: id column '{f.names[j]}' is given twice")
        found.append(j)
    return found


def _names_for_positions(f, model):
    """Refuse a header on a file for a model whose features have only positions, unless the header
    names them as the model does (x0, x1, ...)."""
    names = model.schema.names
    if model.positional and not set(names) <= set(f.names):
        raise DataError(
            f"{f.path}: the model's features have no names (it was trained without column names), so "
            f"they are matched by position, but the file has a header ({_listed(f.names)}); remove "
            f"the header row, or name the feature columns {_listed(names)}"
        )


def _by_name(f, model):
    return locate(model.schema.names, f.names, f.path)


def _by_position(f, model, others):
    """The file columns of the model's inputs in a file without a header: every column but `others`
    (and data.drop's indices, for a file laid out as the training file)."""
    names, data = model.schema.names, model.config.get("data", {})
    dropped = {j % f.width for j in data.get("drop") or () if isinstance(j, int)}
    if f.width == _trained_width(model):
        others = others | dropped
    features = [j for j in range(f.width) if j not in others and j != f.trailing]
    if len(features) != len(names):
        besides = " besides the label and id columns" if others else ""
        raise DataError(
            f"{f.path}: has no header row, so its columns are matched by position: it has "
            f"{len(features)} feature columns{besides}; the model expects {len(names)} "
            f"({_listed(names)})"
            + (
                "; name a label or id column among them by its index (--target N, --id N; 0 is the first)"
                if len(features) > len(names)
                else ""
            )
        )
    return features
