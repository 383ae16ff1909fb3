"""Classification metrics of a model's predictions, scikit-learn's, computed one way for every
caller: a run's summary.json, `trainer evaluate` and the confusion picture agree to the last digit."""

import warnings

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    log_loss,
    precision_recall_fscore_support,
)


def balanced_accuracy(y, pred):
    """The mean over the classes present in y of each one's recall (scikit-learn's balanced accuracy)."""
    with warnings.catch_warnings():  # a predicted class absent from y is fine: it has no recall to count
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(y, pred))


def classification_report(proba, y, classes):
    """accuracy, balanced_accuracy, log_loss, n_samples, confusion_matrix and per-class
    precision/recall/F1 of (N, C) probs."""
    labels = np.arange(len(classes))
    pred = proba.argmax(axis=1)
    proba = proba.astype(np.float64)
    proba /= proba.sum(axis=1, keepdims=True)  # float32 rows summing to 1 +- 1e-7 would make log_loss warn
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "balanced_accuracy": balanced_accuracy(y, pred),
        "log_loss": float(log_loss(y, proba, labels=labels)),
        "n_samples": int(len(y)),
        "classes": list(classes),
        "confusion_matrix": confusion_counts(y, pred, len(classes)).tolist(),
        "per_class": {
            str(c): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
    }


def confusion_counts(y, pred, n_classes):
    """(C, C) counts of class indices: row = true class, column = predicted class."""
    return confusion_matrix(y, pred, labels=np.arange(n_classes))
