"""Classification metrics of a model's predictions, scikit-learn's, computed one way for every
caller: a run's summary.json, `trainer evaluate` and the confusion picture agree to the last digit."""

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support


def classification_report(proba, y, classes):
    """accuracy, log_loss, n_samples, confusion_matrix and per-class precision/recall/F1 of (N, C) probs."""
    labels = np.arange(len(classes))
    pred = proba.argmax(axis=1)
    proba = proba.astype(np.float64)
    proba /= proba.sum(axis=1, keepdims=True)  # float32 rows summing to 1 +- 1e-7 would make log_loss warn
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "log_loss": float(log_loss(y, proba, labels=labels)),
        "n_samples": int(len(y)),
        "classes": list(classes),
        "confusion_matrix": confusion_counts(y, pred, len(classes)).tolist(),
        "per_class": {
            str(c): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
    }


def chance_level(y, n_classes):
    """(majority-class rate, cross-entropy of predicting the class priors) of class indices y: the
    accuracy and the loss of a network that learned nothing but how often each class occurs."""
    priors = np.bincount(y, minlength=n_classes) / len(y)
    seen = priors[priors > 0]
    return float(priors.max()), float(-np.sum(seen * np.log(seen)))


def confusion_counts(y, pred, n_classes):
    """(C, C) counts of class indices: row = true class, column = predicted class."""
    return confusion_matrix(y, pred, labels=np.arange(n_classes))
