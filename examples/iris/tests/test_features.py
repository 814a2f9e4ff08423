import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from features import FEATURES, load  # noqa: E402


def test_load_reads_every_row():
    xs, ys = load(os.path.join(os.path.dirname(__file__), "..", "data", "iris.csv"))
    assert len(xs) == len(ys) == 150
    assert all(len(x) == len(FEATURES) for x in xs)
    assert set(ys) == {"setosa", "versicolor", "virginica"}
