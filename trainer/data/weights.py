"""Sample and class weights: the weight of each training row, and the checks on class weights.

A row's training weight is its sample weight (1 without one) times the weight of its class, as in
scikit-learn, where class_weight multiplies sample_weight. Class weights are given per class index
here; callers map their labels to indices first (class_weight_by_index).
"""

import math

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

BALANCED = "balanced"


def is_class_weight(spec):
    """Whether spec is null, 'balanced', or a mapping label -> weight (finite numbers >= 0).

    A mapping's zeros are fine: the classes it leaves out weigh 1, and whether every training row
    ends up weighing 0 is for the rows to tell (row_weights' callers check it)."""
    if spec is None or spec == BALANCED:
        return True
    if not isinstance(spec, dict) or not spec:
        return False
    values = list(spec.values())
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return numbers and all(math.isfinite(v) and v >= 0 for v in values)


def class_weight_by_index(spec, classes, key=lambda label: label):
    """spec with its labels replaced by class indices: None and 'balanced' stay; a mapping becomes
    {index: weight}. A label matches a class when key(label) == key(class); ValueError naming the
    labels that match none."""
    if not isinstance(spec, dict):
        return spec
    index = {key(c): i for i, c in enumerate(classes)}
    unknown = [label for label in spec if key(label) not in index]
    if unknown:
        raise ValueError(
            f"no class {', '.join(repr(u) for u in unknown)} among the classes "
            f"({', '.join(map(str, classes))})"
        )
    return {index[key(label)]: float(w) for label, w in spec.items()}


def class_weights(spec, n_classes, y, sample_weight=None):
    """(C,) float64 weight of each class index, or None without class weights.

    spec: None; 'balanced', scikit-learn's n_samples / (n_classes * bincount(y)) (the counts weighted
    by sample_weight when given: sklearn.utils.class_weight.compute_class_weight); or {index: weight},
    the classes it leaves out weighing 1.
    """
    if spec is None:
        return None
    if spec == BALANCED:
        return compute_class_weight(BALANCED, classes=np.arange(n_classes), y=y, sample_weight=sample_weight)
    weights = np.ones(n_classes)
    for c, w in spec.items():
        weights[c] = w
    return weights


def row_weights(y, sample_weight=None, class_weight=None):
    """(n,) training weight of each row, sample_weight * class_weight[y]; None when both are None."""
    if class_weight is None:
        return sample_weight
    by_class = np.asarray(class_weight, dtype=np.float64)[y]
    return by_class if sample_weight is None else sample_weight * by_class
