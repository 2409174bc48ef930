"""The package imports one way. Modules form layers (data, metrics, student, annotate and mixing,
trust, train, export and sweep, cli); a module may import only modules of lower layers, anywhere in
its source (inside functions too), and `infer`, which ships alone in every bundle, imports nothing
from the package (any module may use it: data splits text into words exactly as the runtime does).
Each module is also imported alone in a fresh interpreter, in layer order, and
must pull in no module of its own or a later layer."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "ner_distill"
LAYERS = [["formats"], ["data"], ["metrics"], ["student"], ["annotate", "mixing"], ["trust"], ["train"], ["export", "sweep"], ["cli"]]
LAYER = {m: i for i, ms in enumerate(LAYERS) for m in ms}
LEAVES = {"infer"}              # the runtime: imports nothing from the package, so any module may use it


def package_imports(module: str) -> set[str]:
    "Every ner_distill module that `module`'s source imports, at any depth of the file."
    tree = ast.parse((PKG / f"{module}.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None: out |= {a.name for a in node.names}
            elif node.level == 1: out.add(node.module.split(".")[0])
            elif node.module == "ner_distill": out |= {a.name for a in node.names}
            elif node.module and node.module.startswith("ner_distill."): out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("ner_distill.")}
    return out - {"_modidx"}


def test_every_module_has_a_layer():
    modules = {p.stem for p in PKG.glob("*.py")} - {"__init__", "_modidx"}
    assert modules == set(LAYER) | LEAVES


@pytest.mark.parametrize("module", sorted(LAYER))
def test_imports_only_lower_layers(module):
    for dep in package_imports(module):
        if dep in LEAVES: continue      # e.g. data splits text into words exactly as the runtime does
        assert LAYER[dep] < LAYER[module], f"{module} (layer {LAYER[module]}) imports {dep} (layer {LAYER[dep]})"


def test_runtime_is_a_leaf():
    assert package_imports("infer") == set()
    src = (PKG / "infer.py").read_text()
    assert "import torch" not in src and "transformers" not in src


def test_each_module_imports_alone_in_layer_order():
    order = [m for ms in LAYERS for m in ms] + sorted(LEAVES)
    code = ("import importlib, json, sys\n"
            f"m = {{}}\nfor name in {order!r}:\n"
            "    before = {k for k in sys.modules if k.startswith('ner_distill.')}\n"
            "    importlib.import_module('ner_distill.' + name)\n"
            "    m[name] = sorted({k.split('.')[1] for k in sys.modules if k.startswith('ner_distill.')} - {k.split('.')[1] for k in before} - {name, '_modidx'})\n"
            "print(json.dumps(m))\n")
    # one fresh interpreter per module, so that nothing is already imported
    for name in order:
        r = subprocess.run([sys.executable, "-c", code.replace(repr(order), repr([name]))], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        pulled = json.loads(r.stdout.strip().splitlines()[-1])[name]
        for dep in pulled:
            if name in LEAVES: raise AssertionError(f"{name} pulled in {dep}")
            if dep in LEAVES: continue
            assert LAYER[dep] < LAYER[name], f"importing {name} pulled in {dep}"


def test_train_help_without_dev_extras():
    "`train --help` reads each flag's help from the config's fields, not from a dev-only library."
    code = ("import sys\n"
            "for m in ('fastcore', 'nbdev', 'execnb'): sys.modules[m] = None   # as if the dev extras were not installed\n"
            "from ner_distill.cli import main\nmain(['train', '--help'])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    import dataclasses
    from ner_distill.train import TrainConfig
    text = "".join(r.stdout.split())            # help is wrapped at any space or hyphen
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in text, f.name
        assert "".join(f.metadata["help"].split())[:40] in text, f.name
