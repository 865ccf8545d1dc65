"""rev.steps in the Python front end: out-of-place steps with a checkpointed
gradient (docs/memory.md), against NumPy and a hand-written reverse sweep."""
import importlib.util

import numpy as np
import pytest

from mlir_rev import frontend as rev
from mlir_rev.frontend.codegen import RevSyntaxError

F = rev.Array[rev.f64]


@rev.reversible
def step(t: rev.index, old: F, new: F, k: rev.f64, xs: F):
    new[0] += old[0] + k * np.sin(old[0]) * xs[t]


@rev.reversible
def run(T: rev.index, k: rev.f64, y0: F, yT: F, xs: F):
    rev.steps(step, 0, T, y0, yT, k, xs, snapshots=4)


def reference(T, k, y0, xs):
    ys = [y0]
    for t in range(T):
        ys.append(ys[-1] + k * np.sin(ys[-1]) * xs[t])
    ybar, kbar, xsbar = 1.0, 0.0, np.zeros(T)
    for t in reversed(range(T)):
        y = ys[t]
        kbar += ybar * np.sin(y) * xs[t]
        xsbar[t] = ybar * k * np.sin(y)
        ybar *= 1 + k * np.cos(y) * xs[t]
    return ys[-1], kbar, ybar, xsbar


def test_forward_and_gradient():
    T, k = 30, 0.8
    xs = np.linspace(-0.4, 0.4, T)
    out = np.full(1, 0.5)
    run(T, k, np.array([0.7]), out, xs)
    yT, kbar, y0bar, xsbar = reference(T, k, 0.7, xs)
    assert out[0] == pytest.approx(0.5 + yT, rel=1e-14)
    gk, gy0, gout, gxs = run.grad(T, k, np.array([0.7]), np.zeros(1), xs, output=(3, 0))
    assert gk == pytest.approx(kbar, rel=1e-12)
    assert gy0[0] == pytest.approx(y0bar, rel=1e-12)
    assert gout[0] == 1.0
    np.testing.assert_allclose(gxs, xsbar, rtol=1e-12)


@rev.reversible
def run_bennett(T: rev.index, k: rev.f64, y0: F, yT: F, xs: F):
    rev.steps(step, 0, T, y0, yT, k, xs, schedule="bennett", levels=3)


def test_bennett_schedule():
    """schedule="bennett", levels=3: the attributes reach the op, and the
    gradient (reversed pebble game) agrees with the hand-written reverse
    sweep (1e-12 relative)."""
    text = run_bennett.mlir
    assert 'schedule = "bennett"' in text and "levels = 3" in text
    T, k = 30, 0.8
    xs = np.linspace(-0.4, 0.4, T)
    yT, kbar, y0bar, xsbar = reference(T, k, 0.7, xs)
    gk, gy0, gout, gxs = run_bennett.grad(T, k, np.array([0.7]), np.zeros(1), xs, output=(3, 0))
    assert gk == pytest.approx(kbar, rel=1e-12)
    assert gy0[0] == pytest.approx(y0bar, rel=1e-12)
    assert gout[0] == 1.0
    np.testing.assert_allclose(gxs, xsbar, rtol=1e-12)


def test_emits_rev_steps():
    text = run.mlir
    assert "rev.steps @step" in text and "snapshots = 4" in text


@pytest.mark.parametrize("body, message", [
    ("rev.steps(np.sin, 0, T, y0, yT, k, xs)", "the step of rev.steps must be a @reversible function"),
    ("rev.steps(step, 0, T, y0, yT, k)", "`step` takes 5 arguments: rev.steps passes it (t, old, new) and 1 params"),
    ("rev.steps(step, 0, T, k, yT, k, xs)", "`k` must be an array (the state)"),
    ("rev.steps(step, 0, T, y0, yT, k, xs, snapshots=0)", "snapshots= must be an integer constant >= 1"),
    ("rev.steps(step, 0, T, y0, yT, k, xs, chunks=2)", "rev.steps has no keyword `chunks`"),
    ("rev.steps(step, 0, T, y0, yT, k, xs, schedule='pebbles')", 'schedule= must be "revolve" or "bennett"'),
    ("rev.steps(step, 0, T, y0, yT, k, xs, schedule='bennett', levels=0)", "levels= must be an integer constant in [1, 64]"),
    ("rev.steps(step, 0, T, y0, yT, k, xs, levels=2)", 'levels= needs schedule="bennett"'),
    ("rev.steps(step, 0, T, y0, yT, k, xs, schedule='bennett', snapshots=3)", "snapshots= is for the revolve schedule"),
])
def test_errors_are_located(tmp_path, body, message):
    """Each misuse: a RevSyntaxError at the call's file and line."""
    path = tmp_path / "user_steps.py"
    path.write_text(
        "import numpy as np\n"
        "from mlir_rev import frontend as rev\n"
        "F = rev.Array[rev.f64]\n"
        "@rev.reversible\n"
        "def step(t: rev.index, old: F, new: F, k: rev.f64, xs: F):\n"
        "    new[0] += old[0] + k * xs[t]\n"
        "@rev.reversible\n"
        "def bad(T: rev.index, k: rev.f64, y0: F, yT: F, xs: F):\n"
        f"    {body}\n")
    spec = importlib.util.spec_from_file_location("user_steps", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(RevSyntaxError) as e:
        mod.bad.mlir
    assert message in str(e.value), str(e.value)
    assert str(e.value).startswith(f"{path}:9:"), str(e.value)
