"""Evaluate the regressor: RMSE, MAE, R², overall and per neighbourhood."""
import json
import pickle
import sys

import yaml
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

from features import NEIGHBOURHOODS, load


def scores(truth, predicted):
    return {"rmse": mean_squared_error(truth, predicted) ** 0.5, "mae": mean_absolute_error(truth, predicted),
            "r2": r2_score(truth, predicted)}


def main(model_dir, data, params_file, out):
    with open(f"{model_dir}/model.pkl", "rb") as handle:
        model = pickle.load(handle)
    with open(params_file) as handle:
        params = yaml.safe_load(handle)["train"]
    xs, ys = load(data)
    _, x_test, _, y_test = train_test_split(xs, ys, test_size=params["test_size"], random_state=params["seed"])
    predicted = model.predict(x_test)
    metrics = scores(y_test, predicted)
    metrics["slices"] = {}
    for i, hood in enumerate(NEIGHBOURHOODS):
        rows = [j for j, x in enumerate(x_test) if x[5 + i] == 1.0]
        if len(rows) >= 5:
            metrics["slices"][f"neighbourhood={hood}"] = scores([y_test[j] for j in rows], [predicted[j] for j in rows])
    with open(out, "w") as handle:
        json.dump(metrics, handle, indent=2, sort_keys=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
