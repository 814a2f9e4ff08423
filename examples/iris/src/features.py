"""Feature preparation shared by training and evaluation."""
import csv

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def load(path):
    """Return (X, y) from an iris CSV file."""
    xs, ys = [], []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            xs.append([float(row[name]) for name in FEATURES])
            ys.append(row["species"])
    return xs, ys
