"""Classification metrics of a network, computed one way for every caller: a run's summary.json (every
split), `trainer evaluate`, a sweep's validation split and the confusion picture agree to the last digit.

The loss is the mean cross-entropy from the logits (log_softmax): finite wherever the logits are,
never clipped, without the L2 term. Rows go through the network ROWS at a time, which bounds the
hidden layer at ROWS x H whatever the split's size.
"""

import warnings

import numpy as np

from trainer.model.network import check_inputs, log_softmax, scores

ROWS = 4096  # rows per forward pass


def loss_and_predictions(params, X, y, weight=None):
    """The mean cross-entropy of params on (X, y), class indices y, and the predicted class of each
    row; with weight (n,), the mean weighs each row's loss by it, as a weighted training step does."""
    loss = 0.0
    pred = np.empty(len(y), np.intp)
    for start in range(0, len(y), ROWS):
        s, t = scores(params, X[start : start + ROWS]), y[start : start + ROWS]
        log_p = log_softmax(s)[np.arange(len(t)), t]  # L_i = -log p_{i,y_i}
        loss -= np.sum(log_p) if weight is None else np.dot(weight[start : start + ROWS], log_p)
        pred[start : start + ROWS] = s.argmax(axis=1)
    return float(loss / (len(y) if weight is None else np.sum(weight))), pred


def loss_and_accuracy(params, X, y, weight=None):
    """(mean cross-entropy, accuracy) of params on (X, y): what every split of a run reports; with
    weight, both weigh each row by it (the share of the weight predicted right)."""
    loss, pred = loss_and_predictions(params, X, y, weight)
    right = pred == y
    accuracy = np.count_nonzero(right) / len(y) if weight is None else np.dot(weight, right) / np.sum(weight)
    return loss, float(accuracy)


def split_metrics(params, X, y):
    """accuracy, balanced_accuracy and loss of params on one split: what summary.json holds for it."""
    loss, pred = loss_and_predictions(params, X, y)
    accuracy = float(np.count_nonzero(pred == y) / len(y))
    return {"accuracy": accuracy, "balanced_accuracy": balanced_accuracy(y, pred), "loss": loss}


def balanced_accuracy(y, pred):
    """The mean over the classes present in y of each one's recall (scikit-learn's balanced accuracy)."""
    from sklearn.metrics import balanced_accuracy_score  # slow to import: only here

    with warnings.catch_warnings():  # a predicted class absent from y is fine: it has no recall to count
        warnings.simplefilter("ignore", UserWarning)
        return float(balanced_accuracy_score(y, pred))


def classification_report(params, X, y, classes):
    """accuracy, balanced_accuracy, loss, n_samples, confusion_matrix and per-class precision/recall/F1
    of params on (X, y).

    X: the network's inputs (standardised, of its dtype); y: class indices into `classes`.
    """
    from sklearn.metrics import precision_recall_fscore_support  # slow to import: only here

    y = np.asarray(y)
    check_inputs(params, X, y)
    loss, pred = loss_and_predictions(params, X, y)
    labels = np.arange(len(classes))
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(np.count_nonzero(pred == y) / len(y)),
        "balanced_accuracy": balanced_accuracy(y, pred),
        "loss": loss,
        "n_samples": int(len(y)),
        "classes": list(classes),
        "confusion_matrix": confusion_counts(y, pred, len(classes)).tolist(),
        "per_class": {
            str(c): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
    }


def chance_level(y, n_classes, weight=None):
    """(majority-class rate, cross-entropy of predicting the class priors) of class indices y: the
    accuracy and the loss of a network that learned nothing but how often each class occurs. With
    weight, each row counts by its weight: the rates are shares of the weight."""
    counts = np.bincount(y, weights=weight, minlength=n_classes)
    priors = counts / np.sum(counts)
    seen = priors[priors > 0]
    return float(priors.max()), float(-np.sum(seen * np.log(seen)))


def confusion_counts(y, pred, n_classes):
    """(C, C) counts of class indices: row = true class, column = predicted class."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y, pred, labels=np.arange(n_classes))


def binary_curves(y, score):
    """The ROC and precision-recall curves of `score` (each row's probability of class 1) against
    class indices y (0 or 1, both present), with the area under each and the share of class 1:
    scikit-learn's roc_curve, roc_auc_score, precision_recall_curve and average_precision_score."""
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y, score)
    precision, recall, _ = precision_recall_curve(y, score)
    return {
        "fpr": fpr,
        "tpr": tpr,
        "roc_auc": float(roc_auc_score(y, score)),
        "precision": precision,
        "recall": recall,
        "average_precision": float(average_precision_score(y, score)),
        "prevalence": float(np.mean(y == 1)),
    }
