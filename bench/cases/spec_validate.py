"""Validate a ~5 MB generated sluice.yaml: `sluice validate` versus PyYAML + jsonschema
(what check-jsonschema does) on the same file, with the shipped JSON Schema."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import SLUICE, instruction_row, median_seconds, row  # noqa: E402

SCHEMA = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "SluiceCore", "Spec", "sluice.schema.json")


def generate(path, stages=20000):
    with open(path, "w") as out:
        out.write("version: 1\nstages:\n")
        for i in range(stages):
            out.write(f"  stage{i}:\n    run: [python, step.py, --index, \"{i}\", --mode, train-and-evaluate-with-a-long-argument]\n")
            out.write(f"    when: {{ paths: [\"src/module{i}/**\", \"configs/{i}.yaml\"] }}\n")
            out.write(f"    env: {{ INDEX: \"{i}\", PURPOSE: a-long-value-to-bulk-the-file-up-to-realistic-size }}\n")
            out.write(f"    outputs: [out/{i}/]\n")
            if i:
                out.write(f"    needs: [stage{i - 1}]\n")


PEER = """
import json, sys, yaml, jsonschema
doc = yaml.load(open(sys.argv[2]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(doc)
"""

with tempfile.TemporaryDirectory() as folder:
    spec = os.path.join(folder, "sluice.yaml")
    generate(spec)
    size_mb = os.path.getsize(spec) / 1e6
    ours = median_seconds([SLUICE, "validate", spec], repeat=5)
    peer = median_seconds([sys.executable, "-c", PEER, SCHEMA, spec], repeat=3)
    row(f"validate {size_mb:.1f} MB sluice.yaml", ours, peer, "PyYAML(C) + jsonschema")
    instruction_row(f"validate {size_mb:.1f} MB sluice.yaml", [SLUICE, "validate", spec])
