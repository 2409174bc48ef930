"""Every notebook runs top to bottom, every cell included, as JupyterLab's Run All does: each one
in nbs/ and nbs/experiments/ is executed with papermill and its default parameters, from its own
folder. (nbdev_test skips cells that carry flags; this does not.)"""
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "nbs").glob("*.ipynb")) + sorted((ROOT / "nbs" / "experiments").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_notebook_runs_top_to_bottom(nb, tmp_path):
    import papermill as pm
    if nb.name == "strategy_run.ipynb":   # its default run folder: train afresh rather than find it finished
        shutil.rmtree(ROOT / "runs" / "notebook-run", ignore_errors=True)
    pm.execute_notebook(str(nb), str(tmp_path / nb.name), kernel_name="python3", language="python",
                        progress_bar=False, cwd=str(nb.parent))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_notebook_names_its_kernel(nb):
    """JupyterLab opens a notebook with its kernel (no "Select Kernel" dialog) only when the notebook keeps its
    kernelspec and language_info, and the kernel it names is installed in this environment."""
    import json
    from jupyter_client.kernelspec import KernelSpecManager
    md = json.loads(nb.read_text())["metadata"]
    assert md.get("kernelspec", {}).get("name") == "python3", f"{nb.name}: no python3 kernelspec"
    assert md.get("language_info", {}).get("name") == "python", f"{nb.name}: no language_info"
    assert "python3" in KernelSpecManager().find_kernel_specs()
    jt = md.get("jupytext", {}).get("notebook_metadata_filter", "")
    assert "-all" not in jt or {"kernelspec", "language_info"} <= set(jt.split(",")), f"{nb.name}: jupytext would strip them"
