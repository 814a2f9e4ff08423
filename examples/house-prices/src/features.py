"""Feature preparation shared by training and evaluation."""
import csv

NUMERIC = ["area_m2", "rooms", "lot_m2", "age_years", "quality"]
NEIGHBOURHOODS = ["docks", "hills", "old-town", "riverside"]


def load(path):
    """Return (X, y): numeric features plus one-hot neighbourhoods, and prices."""
    xs, ys = [], []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            xs.append([float(row[n]) for n in NUMERIC] + [1.0 if row["neighbourhood"] == h else 0.0 for h in NEIGHBOURHOODS])
            ys.append(float(row["price"]))
    return xs, ys
