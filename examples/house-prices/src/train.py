"""Train a gradient-boosted regressor on the house prices."""
import argparse
import os
import pickle

import yaml
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.model_selection import train_test_split

from features import load


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--params", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.params) as handle:
        params = yaml.safe_load(handle)["train"]
    xs, ys = load(args.data)
    x_train, _, y_train, _ = train_test_split(xs, ys, test_size=params["test_size"], random_state=params["seed"])
    model = GradientBoostingRegressor(n_estimators=params["trees"], max_depth=params["depth"], random_state=params["seed"])
    model.fit(x_train, y_train)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "model.pkl"), "wb") as handle:
        pickle.dump(model, handle)


if __name__ == "__main__":
    main()
