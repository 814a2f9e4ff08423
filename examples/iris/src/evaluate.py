"""Evaluate the trained model; write accuracy, macro F1 and per-class slices, and the data of
two plots Sluice draws over production's (sluice.yaml's `plots:`): the confusion matrix of the
test split and the ROC curve of the last class against the rest."""
import csv
import json
import os
import pickle
import sys

from sklearn.metrics import accuracy_score, f1_score, roc_curve
from sklearn.model_selection import train_test_split

from features import load


def main(model_dir, data, out):
    with open(os.path.join(model_dir, "model.pkl"), "rb") as handle:
        model = pickle.load(handle)
    xs, ys = load(data)
    seed = int(os.environ.get("SEED", "42"))
    _, x_test, _, y_test = train_test_split(xs, ys, test_size=0.3, random_state=seed, stratify=ys)
    predicted = model.predict(x_test)
    labels = sorted(set(ys))
    per_class = f1_score(y_test, predicted, labels=labels, average=None)
    metrics = {
        "accuracy": accuracy_score(y_test, predicted),
        "f1_macro": f1_score(y_test, predicted, average="macro"),
        "slices": {f"class={label}": {"f1_macro": score} for label, score in zip(labels, per_class)},
    }
    with open(out, "w") as handle:
        json.dump(metrics, handle, indent=2, sort_keys=True)
    write_plots(model, x_test, y_test, predicted, labels)


def write_plots(model, x_test, y_test, predicted, labels):
    os.makedirs("plots", exist_ok=True)
    with open("plots/confusion.csv", "w", newline="") as handle:
        rows = csv.writer(handle)
        rows.writerow(["actual", "predicted"])
        rows.writerows(zip(y_test, predicted))
    positive = labels[-1]
    scores = model.predict_proba(x_test)[:, list(model.classes_).index(positive)]
    fpr, tpr, _ = roc_curve([label == positive for label in y_test], scores)
    with open("plots/roc.csv", "w", newline="") as handle:
        rows = csv.writer(handle)
        rows.writerow(["fpr", "tpr"])
        rows.writerows((round(f, 6), round(t, 6)) for f, t in zip(fpr, tpr))


if __name__ == "__main__":
    main(*sys.argv[1:4])
