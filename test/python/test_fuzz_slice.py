"""A seeded slice of the mutation fuzzer (scripts/fuzz.py): SLICE_COUNT
mutants of the lit tests and examples, each one that parses run through every
pipeline in fuzz.PIPELINES. No crash, no invalid IR after a pass, no timeout and
no failure without a diagnostic may appear, except the findings listed in
KNOWN_OPEN (then the test is skipped with the figures). The long run is
`python3 scripts/fuzz.py --seed 1 --count 3000 --jobs 1 --out DIR` (README,
*Fuzzing*)."""
import importlib.util
import os
import signal
import stat
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("rev_fuzz", os.path.join(ROOT, "scripts", "fuzz.py"))
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

SEED = 1
SLICE_COUNT = 400      # about 75 inputs that parse x 7 pipelines: about 15 s of CPU, 10-15 s with 2 jobs on 2 idle cores
JOBS = 2
TIMEOUT = 10.0

# Findings of the slice (and of the long run) that are still open in issue 9,
# each with the reproducer in ../shared/repro/ that has the same root cause.
# THIS LIST MUST SHRINK TO EMPTY: when a fix lands, delete its entries (a
# finding that is not listed here fails the test; an entry that no longer
# appears costs nothing, but remove it). Never add an entry to make a new
# finding pass: fix it, or file it with a reproducer first.
# (Empty since the pipelines check memref.cast sizes before canonicalising,
# ../shared/repro/10, and rev-opt probe-parses its input, ../shared/repro/09.)
KNOWN_OPEN = []


def rev_opt_path():
    built = os.path.join(ROOT, "build", "bin", "rev-opt")
    for p in (built, os.environ.get("REV_OPT")):
        if p and os.access(p, os.X_OK):
            return p
    pytest.skip("no rev-opt: build it (build/bin/rev-opt) or set REV_OPT")


def describe(findings):
    return "\n".join(f"  {f['kind']} x{f['count']} [{', '.join(f['pipelines'])}] {f['signature']}\n"
                     f"    mutant {f['mutant']} of {f['from']} ({'; '.join(f['mutations'])}); "
                     f"replay: python3 scripts/fuzz.py --seed {SEED} --show {f['mutant']}"
                     for f in findings)


def test_fuzz_slice():
    summary = fuzz.fuzz(rev_opt_path(), seed=SEED, count=SLICE_COUNT, timeout=TIMEOUT, jobs=JOBS)
    # The slice must exercise the passes, not only the parser.
    assert summary["parsed"] >= 30, summary["pipelines"]["parse"]
    known = {(kind, sig) for _, kind, sig in KNOWN_OPEN}
    unknown = [f for f in summary["findings"] if (f["kind"], f["signature"]) not in known]
    t = summary["totals"]
    figures = (f"{SLICE_COUNT} mutants (seed {SEED}), {summary['parsed']} parse, "
               f"{len(fuzz.PIPELINES)} pipelines each: {t['CRASH']} crashes, {t['INVALID']} invalid IR, "
               f"{t['TIMEOUT']} timeouts, {t['NODIAG']} failures without a diagnostic")
    assert not unknown, f"{figures}; not in KNOWN_OPEN:\n{describe(unknown)}"
    if summary["findings"]:
        repros = sorted({r for r, kind, sig in KNOWN_OPEN
                         if any((kind, sig) == (f["kind"], f["signature"]) for f in summary["findings"])})
        pytest.skip(f"{figures}; all {len(summary['findings'])} signatures are KNOWN_OPEN "
                    f"({', '.join(repros)})")


def test_mutants_are_deterministic():
    seeds = fuzz.load_seeds()
    ctx = fuzz.make_context(seeds)
    a = [fuzz.mutate(7, i, seeds, ctx) for i in range(30)]
    b = [fuzz.mutate(7, i, seeds, ctx) for i in reversed(range(30))][::-1]
    assert a == b
    assert all(text != dict(seeds)[name] for name, text, _ in a)
    assert len({text for _, text, _ in a}) > 25


FAKE = """#!{python}
import os, signal, sys
args = sys.argv[2:]
mode = {mode!r}
if not args:
    sys.exit(0)                                  # "parses"
if mode == "crash":
    sys.stderr.write("rev-opt: X.h:1: f(): Assertion `n < size()' failed.\\n"
                     "PLEASE submit a bug report\\n #0 0x0000 mlir::rev::foo(int) (/x/rev-opt+0x1)\\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGABRT)
if mode == "invalid" and "-verify-each=false" not in args:
    sys.stderr.write("f.mlir:1:1: error: 'rev.call' op results must match 3\\n")
    sys.exit(1)
if mode == "error":
    sys.stderr.write("f.mlir:1:1: error: 'rev.discard' op cannot be inverted\\n")
    sys.exit(1)
if mode == "nodiag":
    sys.exit(1)
if mode == "hang":
    import time; time.sleep(30)
sys.exit(0)
"""


@pytest.mark.parametrize("mode,kind", [("ok", "ok"), ("crash", "CRASH"), ("invalid", "INVALID"),
                                       ("error", "error"), ("nodiag", "NODIAG"), ("hang", "TIMEOUT")])
def test_classification(tmp_path, mode, kind):
    exe = tmp_path / "fake-rev-opt"
    exe.write_text(FAKE.format(python=sys.executable, mode=mode))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    src = tmp_path / "in.mlir"
    src.write_text("rev.func @f() {\n  rev.return\n}\n")
    got, sig, _ = fuzz.classify(str(exe), str(src), ["--rev-ad"], timeout=2)
    assert got == kind
    if kind == "CRASH":
        assert sig == "assertion `n < size()' in mlir::rev::foo"
    if kind == "INVALID":
        assert sig == "invalid IR: 'rev.call' op results must match N"
