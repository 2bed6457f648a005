"""The desktop bundle's parts that can be checked in seconds (the build itself, minutes
long, is packaging/build.py, run by hand: docs/packaging.md)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "dance_analysis.spec"


class _Recorded:
    """What a spec hands PyInstaller's build steps, kept to be read back."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs
        self.pure = self.scripts = self.binaries = self.datas = ()  # an Analysis's outputs


def _evaluate_spec() -> dict[str, Any]:
    """Run the spec as PyInstaller does (its helpers are the real ones), with the build
    steps (Analysis, PYZ, EXE, COLLECT) recording their arguments instead of building."""
    names: dict[str, Any] = {"SPECPATH": str(SPEC.parent), "__file__": str(SPEC)}
    for step in ("Analysis", "PYZ", "EXE", "COLLECT"):
        names[step] = type(step, (_Recorded,), {})
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), names)
    return names


def test_the_spec_collects_mediapipes_models_and_graphs_and_leaves_torch_out() -> None:
    spec = _evaluate_spec()
    analysis = spec["a"]
    datas = {(Path(src).name, dest) for src, dest in analysis.kwargs["datas"]}
    for model in (
        ("pose_landmark_cpu.binarypb", "mediapipe/modules/pose_landmark"),
        ("pose_landmark_full.tflite", "mediapipe/modules/pose_landmark"),
        ("pose_detection.tflite", "mediapipe/modules/pose_detection"),
    ):
        assert model in {(name, dest.replace(os.sep, "/")) for name, dest in datas}, model
    assert ("static", "api/static") in datas  # the phone page
    assert analysis.args[0] == [str(ROOT / "main.py")]
    assert "torch" in analysis.kwargs["excludes"]


def test_the_spec_makes_a_console_program_and_a_windowed_one_in_one_folder() -> None:
    spec = _evaluate_spec()
    programs = {
        exe.kwargs["name"]: exe.kwargs["console"] for exe in (spec["console"], spec["window"])
    }
    assert programs == {"dance-analysis": True, "dance-analysis-window": False}
    folder = spec["coll"]  # both programs share one folder of libraries and data
    assert folder.args[:2] == (spec["console"], spec["window"])
    assert folder.kwargs["name"] == "dance-analysis"


def test_main_calls_freeze_support_before_anything_else() -> None:
    """A frozen app's spawned children re-run the executable: freeze_support() must turn
    them into the child before main() parses arguments."""
    tree = ast.parse((ROOT / "main.py").read_text(encoding="utf-8"))
    guard = next(
        node for node in tree.body
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
    )  # fmt: skip
    calls = [ast.unparse(n.value) for n in guard.body if isinstance(n, ast.Expr)]
    statements = [ast.unparse(n) for n in guard.body]
    assert calls and calls[0] == "multiprocessing.freeze_support()"
    assert statements.index("multiprocessing.freeze_support()") < statements.index(
        "sys.exit(main())"
    )


def test_the_window_quits_by_itself_when_asked(tmp_path: Path) -> None:
    """``gui --quit-after-s``: the bundle's smoke test opens the window and needs it to end."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "USE_MOCK_ANALYSIS": "true"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "gui", "--data-dir", str(tmp_path / "data"),
         "--port", "0", "--quit-after-s", "1"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "stopping" in done.stderr  # it went through the app's own shutdown
