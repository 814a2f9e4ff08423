import os

from features import FEATURES, load

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "iris.csv")


def test_load_reads_every_row():
    xs, ys = load(DATA)
    assert len(xs) == len(ys) >= 150
    assert all(len(x) == len(FEATURES) for x in xs)
    assert set(ys) == {"setosa", "versicolor", "virginica"}
