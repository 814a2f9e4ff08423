"""Train a logistic-regression classifier on the iris data."""
import argparse
import os
import pickle
import shutil

import yaml
from sklearn.linear_model import LogisticRegression
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
    seed = int(os.environ.get("SEED", "42"))
    x_train, _, y_train, _ = train_test_split(xs, ys, test_size=params["test_size"], random_state=seed, stratify=ys)
    model = LogisticRegression(C=params["C"], max_iter=params["max_iter"]).fit(x_train, y_train)
    save(model, args.out)


def save(model, out):
    """An MLflow model folder when mlflow is installed (MLflow clients, MLflow serving and
    KServe load it from the registry), else just the pickle. Both hold model.pkl."""
    shutil.rmtree(out, ignore_errors=True)
    try:
        import mlflow.sklearn
    except ImportError:
        os.makedirs(out)
        with open(os.path.join(out, "model.pkl"), "wb") as handle:
            pickle.dump(model, handle)
        return
    import sklearn

    mlflow.sklearn.save_model(
        model, out,
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],  # no inference: fast and reproducible
    )
    # The same training gives the same files (Sluice recognises an unchanged model by its
    # digest): drop the creation time and random id MLflow writes into MLmodel.
    path = os.path.join(out, "MLmodel")
    with open(path) as handle:
        lines = [line for line in handle if not line.startswith(("utc_time_created:", "model_uuid:"))]
    with open(path, "w") as handle:
        handle.writelines(lines)


if __name__ == "__main__":
    main()
