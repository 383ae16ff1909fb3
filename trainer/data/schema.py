"""What a model takes and gives: its input columns in order, each numeric or categorical (with the
categories learned on the train split), the label column and its classes, and whether the inputs
are matched by name or by position.

A Schema is made once, where the data are first read (datasets.load_dataset, the estimator's fit),
completed with the categories when preprocessing is fitted (fitting.fit), and carried whole from
there to the model file. Encoded features are named as scikit-learn's
OneHotEncoder.get_feature_names_out names them: a numeric column keeps its name, a categorical
column `island` with categories Biscoe and Dream gives `island_Biscoe`, `island_Dream`.
"""

from dataclasses import dataclass, replace

NUMERIC, CATEGORICAL = "numeric", "categorical"
KINDS = (NUMERIC, CATEGORICAL)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = NUMERIC
    categories: tuple = ()  # categorical: the train split's categories, sorted as OneHotEncoder sorts them


@dataclass
class Schema:
    inputs: list  # Column per input, in the model's order
    classes: list  # the original label of each class index
    target: str | int | None = None  # the label column: header name, or index in a CSV without a header
    positional: bool | None = None  # input names made up (x0, x1, ...); None: decided by the names

    def __post_init__(self):
        if self.positional is None:
            self.positional = is_positional([c.name for c in self.inputs])

    @property
    def names(self):
        """The input columns' names."""
        return [c.name for c in self.inputs]

    @property
    def numeric(self):
        """The numeric input columns, in order: the columns of a Table's X."""
        return [c for c in self.inputs if c.kind == NUMERIC]

    @property
    def categorical(self):
        """The categorical input columns, in order: the columns of a Table's codes."""
        return [c for c in self.inputs if c.kind == CATEGORICAL]

    @property
    def feature_names(self):
        """The encoded features' names, in the network's input order."""
        return [name for c in self.inputs for name in encoded_names(c)]

    @property
    def n_features(self):
        return sum(1 if c.kind == NUMERIC else len(c.categories) for c in self.inputs)

    def positions(self):
        """(numeric, categorical): the encoded feature index of each numeric column, and the slice of
        features of each categorical column, in the order of numeric and categorical."""
        numeric, categorical, j = [], [], 0
        for c in self.inputs:
            if c.kind == NUMERIC:
                numeric.append(j)
                j += 1
            else:
                categorical.append(slice(j, j + len(c.categories)))
                j += len(c.categories)
        return numeric, categorical

    def input_of(self, kind, k):
        """The index in `inputs` of the k-th column of that kind."""
        return [i for i, c in enumerate(self.inputs) if c.kind == kind][k]

    def kind_index(self, i):
        """The index of input i among the inputs of its kind (its column of X, or of codes)."""
        kind = self.inputs[i].kind
        return sum(1 for c in self.inputs[:i] if c.kind == kind)

    def input_of_feature(self, j):
        """The index in `inputs` of the column encoded feature j comes from."""
        i, start = 0, 0
        for i, c in enumerate(self.inputs):
            start += 1 if c.kind == NUMERIC else len(c.categories)
            if j < start:
                return i
        raise IndexError(j)

    def with_categories(self, categories):
        """This schema with each categorical column's categories (a list, in the order of categorical)."""
        given = iter(categories)
        inputs = [c if c.kind == NUMERIC else replace(c, categories=tuple(next(given))) for c in self.inputs]
        return replace(self, inputs=inputs)

    def to_json(self):
        """JSON-ready: the input names in order, the categories of the categorical ones, the rest."""
        return {
            "inputs": self.names,
            "categories": {c.name: list(c.categories) for c in self.categorical},
            "classes": list(self.classes),
            "target": self.target,
            "positional": bool(self.positional),
        }

    @classmethod
    def from_json(cls, d):
        categories = d.get("categories", {})
        inputs = [
            Column(n, CATEGORICAL, tuple(categories[n])) if n in categories else Column(n)
            for n in d["inputs"]
        ]
        return cls(inputs, list(d["classes"]), d.get("target"), d.get("positional"))


def encoded_names(column):
    """The names of one column's encoded features: its own, or name_category per category."""
    if column.kind == NUMERIC:
        return [column.name]
    return [f"{column.name}_{category}" for category in column.categories]


def numeric_schema(names, classes, target=None, positional=None):
    """A Schema of numeric inputs only (generated datasets, arrays, model files of format 1)."""
    return Schema([Column(str(n)) for n in names], list(classes), target, positional)


def positional_names(n):
    return [f"x{j}" for j in range(n)]


def is_positional(names):
    """Whether input names are the made-up x0, x1, ... of data without column names."""
    return list(names) == positional_names(len(names))
