"""Data changes the demo commits to its copy of examples/iris (deterministic).

  demo_data.py mislabel data/iris.csv   an annotation batch swaps 12 versicolor and 12 virginica
                                        labels: class counts stay balanced (no drift alarm), the
                                        model gets worse
  demo_data.py fix data/iris.csv ORIGINAL
                                        restores the labels and adds 30 newly measured flowers
"""
import csv
import random
import sys


def read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)


def mislabel(path):
    rows = read(path)
    rng = random.Random(5)
    versicolor = [i for i, r in enumerate(rows) if r["species"] == "versicolor"]
    virginica = [i for i, r in enumerate(rows) if r["species"] == "virginica"]
    for i in rng.sample(versicolor, 12):
        rows[i]["species"] = "virginica"
    for i in rng.sample(virginica, 12):
        rows[i]["species"] = "versicolor"
    write(path, rows)


def fix(path, original):
    rows = read(original)
    rng = random.Random(11)
    for row in rng.sample(read(original), 30):
        flower = dict(row)
        for name in ("sepal_length", "sepal_width", "petal_length", "petal_width"):
            flower[name] = str(round(float(flower[name]) + rng.uniform(-0.1, 0.1), 1))
        rows.append(flower)
    write(path, rows)


if __name__ == "__main__":
    if sys.argv[1] == "mislabel":
        mislabel(sys.argv[2])
    else:
        fix(sys.argv[2], sys.argv[3])
