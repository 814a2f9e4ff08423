import csv
import os
import tempfile

from features import NEIGHBOURHOODS, NUMERIC, load


def test_one_hot_neighbourhoods():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "h.csv")
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(NUMERIC + ["neighbourhood", "price"])
            writer.writerow([100, 4, 300, 10, 7, "hills", 250000])
        xs, ys = load(path)
    assert ys == [250000.0]
    assert xs[0][len(NUMERIC):] == [1.0 if h == "hills" else 0.0 for h in NEIGHBOURHOODS]
