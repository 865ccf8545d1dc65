#!/usr/bin/env python3
"""Token-level mutation fuzzer for rev-opt.

Takes the lit tests (test/**/*.mlir, split at `// -----`) and the examples
(examples/*.mlir) as seeds, mutates them at the token level (delete, duplicate
or swap tokens, another SSA name or symbol, another type, another rev op,
other numbers, dropped/duplicated lines, marker attributes such as
`rev.inverse_of = @g`, `{adjoint}` on rev.alloc, ...), and runs every mutant
that parses through every pipeline in PIPELINES. Each run is classified:

  ok        exit 0
  error     non-zero exit with an `error:` diagnostic (a clean rejection)
  CRASH     a signal, an assertion, "PLEASE submit a bug report", a stack dump
  INVALID   the pass pipeline produced IR the verifier rejects: the run fails
            with the default -verify-each, and rerun with -verify-each=false
            it succeeds, crashes or reports a different error
  TIMEOUT   the run took longer than --timeout seconds
  NODIAG    non-zero exit without any `error:` diagnostic

A crash while *parsing* a mutant (the first `rev-opt <file>`) is a CRASH of
the pseudo-pipeline "parse". Findings are deduplicated by a signature (the
assertion text or signal plus the first frames of rev's own code; for invalid
IR the normalised verifier message; for timeouts the pipeline and seed file).
With --out DIR, one input per signature is saved (reduced line by line to a
small input with the same signature, and the unreduced mutant beside it),
with the command in a comment.

Mutant i depends only on (seed, i), so a run with --count N is a prefix of one
with a larger count, and results do not depend on --jobs.

    python3 scripts/fuzz.py --seed 1 --count 3000 --jobs 1 --out /tmp/fuzz-out
"""
import argparse
import concurrent.futures
import glob
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PIPELINES = [
    ["--rev-invert"],
    ["--rev-ad"],
    ["--rev-fwd"],
    ["--rev-ad", "--rev-invert"],
    ["--rev-expand-uncalls", "--rev-expand-routines", "--lower-rev"],
    ["--rev-expand-uncalls", "--rev-expand-routines", "--rev-insert-checks", "--lower-rev"],
    ["--rev-to-llvm"],
    # the loop tapes (--rev-tape-loops, in --rev-to-llvm): per-iteration and
    # bytes-in-all budgets
    ["--rev-ad=loop-budget=64", "--rev-to-llvm"],
    ["--rev-ad=memory-budget=4096", "--rev-to-llvm"],
]
PARSE = "parse"

TYPES = ["f64", "f32", "f16", "i1", "i8", "i32", "i64", "index", "memref<?xf64>",
         "memref<?xf32>", "memref<?xi64>", "memref<4xf64>", "memref<?x?xf64>", "none",
         "tensor<?xf64>", "vector<2xf64>"]
REV_OPS = ["add", "sub", "xor", "mul", "div", "neg", "swap", "rot", "irot", "add_at",
           "sub_at", "xor_at", "mul_at", "div_at", "neg_at", "swap_at", "rot_at", "irot_at",
           "alloc", "free", "discard", "call", "uncall", "for", "if", "while", "routine",
           "yield", "cond", "return", "func"]
MARKERS = ["rev.inverse_of", "rev.backward_of", "rev.tangent_of", "rev.gradient_of"]
NUMBERS = ["0", "-1", "1", "2", "3", "-7", "0.0", "-0.0", "1.0", "0.5", "1.0e308", "-1.0e308",
           "1.0e-320", "9223372036854775807", "-9223372036854775808", "18446744073709551615",
           "4294967296", "0x7FF8000000000000", "0x7FF0000000000000", "0xFFF0000000000000",
           "nan", "inf", "1000000000", "100000000000000000000"]

TOKEN_RE = re.compile(r"""
    (?P<ws>(?:\s+|//[^\n]*)+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<ssa>%[A-Za-z0-9_$.\-]+(?:\#[0-9]+)?)
  | (?P<sym>@[A-Za-z0-9_$.\-]+|@"[^"\n]*")
  | (?P<block>\^[A-Za-z0-9_$.\-]+)
  | (?P<type>(?:memref|tensor|vector|complex)<[^<>\n]*>|!llvm\.ptr|\b(?:f16|bf16|f32|f64|f80|f128|i[0-9]+|si[0-9]+|ui[0-9]+|index|none)\b)
  | (?P<num>0x[0-9A-Fa-f]+|-?[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|-?[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<op>\b(?:[a-z_][A-Za-z0-9_]*\.)+[A-Za-z_][A-Za-z0-9_]*)
  | (?P<kw>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<punct>->|::|[()\[\]{}<>,:=*?+\-#!|/])
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


# ---------------------------------------------------------------- seeds

def strip_comments(text):
    # Drops `// ...` to the end of the line outside string literals (CHECK lines,
    # expected-error annotations, RUN lines, prose).
    out = []
    for line in text.split("\n"):
        res, in_str, i = [], False, 0
        while i < len(line):
            c = line[i]
            if c == '"' and (i == 0 or line[i - 1] != "\\"):
                in_str = not in_str
            if not in_str and line.startswith("//", i):
                break
            res.append(c)
            i += 1
        s = "".join(res).rstrip()
        if s:
            out.append(s)
    return "\n".join(out) + "\n"


def load_seeds(root=ROOT):
    """[(name, text)] sorted by name: each `// -----` case of every lit test
    (but test/upstream/) and every example, with comments stripped."""
    # test/upstream/ holds upstream MLIR bugs kept as expected failures: not rev's.
    tests = [p for p in glob.glob(os.path.join(root, "test", "**", "*.mlir"), recursive=True)
             if os.path.relpath(p, root).split(os.sep)[:2] != ["test", "upstream"]]
    files = sorted(set(tests) | set(glob.glob(os.path.join(root, "examples", "*.mlir"))))
    seeds = []
    for path in files:
        rel = os.path.relpath(path, root)
        with open(path) as f:
            parts = re.split(r"^// -----.*$", f.read(), flags=re.M)
        for k, part in enumerate(parts):
            text = strip_comments(part)
            if text.strip():
                seeds.append((f"{rel}#{k}" if len(parts) > 1 else rel, text))
    return seeds


# ---------------------------------------------------------------- mutation

def tokenize(text):
    """[(kind, token, whitespace-before)]; a trailing ("eof", "", ws)."""
    toks, ws = [], ""
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            ws += m.group()
            continue
        toks.append([kind, m.group(), ws])
        ws = ""
    toks.append(["eof", "", ws])
    return toks


def detok(toks):
    return "".join(ws + t for _, t, ws in toks)


def _idx(toks, kinds=None, pred=None):
    return [i for i, (k, t, _) in enumerate(toks[:-1])
            if (kinds is None or k in kinds) and (pred is None or pred(t))]


def m_delete_token(rng, toks, ctx):
    i = rng.choice(_idx(toks))
    del toks[i]
    return "delete token"


def m_duplicate_token(rng, toks, ctx):
    i = rng.choice(_idx(toks))
    toks.insert(i + 1, [toks[i][0], toks[i][1], " "])
    return "duplicate token"


def m_swap_tokens(rng, toks, ctx):
    idx = _idx(toks)
    i = rng.choice(idx)
    if rng.random() < 0.5 and i + 1 < len(toks) - 1:
        j = i + 1
    else:
        same = [j for j in idx if toks[j][0] == toks[i][0] and toks[j][1] != toks[i][1]]
        if not same:
            return None
        j = rng.choice(same)
    toks[i][:2], toks[j][:2] = toks[j][:2], toks[i][:2]
    return "swap tokens"


def _func_start(toks, i):
    for j in range(i, -1, -1):
        if toks[j][1] in ("rev.func", "func.func", "llvm.func", "gpu.func"):
            return j
    return 0


def _ssa_types(toks, start, end):
    """{name: type} for the SSA names defined in toks[start:end], roughly: `%x: T`
    (arguments) or the last type on the defining line (`%y = op ... : T`)."""
    types = {}
    for j in range(start, end):
        k, t, ws = toks[j]
        if k != "ssa" or "#" in t:
            continue
        if toks[j + 1][1] == ":" and toks[j + 2][0] == "type":
            types.setdefault(t, toks[j + 2][1])
        elif toks[j + 1][1] == "=" and "\n" in ws:
            last = None
            for m in range(j + 2, len(toks) - 1):
                if "\n" in toks[m][2]:
                    break
                if toks[m][0] == "type":
                    last = toks[m][1]
            if last:
                types.setdefault(t, last)
    return types


def m_replace_ssa(rng, toks, ctx):
    """An SSA use -> another name defined before it in the same function, of the
    same type where the types can be told."""
    uses = [i for i in _idx(toks, {"ssa"}) if i > 0 and "\n" not in toks[i][2]
            and toks[i - 1][1] not in ("=", "(", ",") or toks[i - 1][1] in ("(", ",") and toks[i + 1][1] not in (":", "=")]
    uses = [i for i in uses if not (toks[i + 1][1] in ("=",) or toks[i + 1][1] == ":" and toks[i + 1][2] == "")]
    if not uses:
        return None
    i = rng.choice(uses)
    start = _func_start(toks, i)
    types = _ssa_types(toks, start, i)
    mine = types.get(toks[i][1].split("#")[0])
    names = sorted(n for n, t in types.items() if n != toks[i][1] and (mine is None or t == mine))
    if not names or rng.random() < 0.15:
        names = sorted({toks[j][1] for j in range(start, i) if toks[j][0] == "ssa"} - {toks[i][1]})
    if not names:
        return None
    toks[i][1] = rng.choice(names)
    return "replace SSA name"


def m_replace_type(rng, toks, ctx):
    """One type token, or (mostly) every occurrence of it in one function."""
    idx = _idx(toks, {"type"})
    if not idx:
        return None
    i = rng.choice(idx)
    old = toks[i][1]
    cls = [c for c in (["f64", "f32", "f16"], ["i64", "i32", "i8", "index"]) if old in c]
    if cls and rng.random() < 0.75:
        new = rng.choice([t for t in cls[0] if t != old])
    else:
        new = rng.choice([t for t in TYPES if t != old])
    if rng.random() < 0.3:
        toks[i][1] = new
        return "replace type"
    start = _func_start(toks, i)
    for j in range(start, len(toks) - 1):
        if j > start and toks[j][1] in ("rev.func", "func.func"):
            break
        if toks[j][1] == old:
            toks[j][1] = new
        elif toks[j][0] == "type" and old in ("f64", "f32", "i64", "i32", "index"):
            toks[j][1] = re.sub(r"(?<=x)" + old + r"(?=>)", new, toks[j][1]) if "x" + old + ">" in toks[j][1] and new in ("f64", "f32", "f16", "i64", "i32", "index") else toks[j][1]
    return f"retype {old} -> {new} in a function"


OP_FAMILIES = [["add", "sub", "mul", "div", "xor"], ["add_at", "sub_at", "mul_at", "div_at", "xor_at"],
               ["rot", "irot"], ["rot_at", "irot_at"], ["call", "uncall"], ["yield", "return"],
               ["alloc", "free", "discard"], ["neg", "neg_at"], ["swap", "swap_at"],
               ["for", "while", "if", "routine"]]


def m_replace_op(rng, toks, ctx):
    idx = _idx(toks, {"op"}, lambda t: t.startswith("rev."))
    if not idx:
        idx = _idx(toks, {"op"})
        if not idx:
            return None
    i = rng.choice(idx)
    old = toks[i][1][4:]
    fam = [f for f in OP_FAMILIES if old in f]
    pool = [o for o in fam[0] if o != old] if fam and rng.random() < 0.75 else REV_OPS
    toks[i][1] = "rev." + rng.choice(pool or REV_OPS)
    return "replace op name"


def m_replace_number(rng, toks, ctx):
    idx = _idx(toks, {"num"})
    if not idx:
        return None
    i = rng.choice(idx)
    old = toks[i][1]
    isfloat = "." in old or "e" in old.lower() and not old.startswith("0x")
    same = [n for n in NUMBERS if ("." in n or "e" in n) == isfloat and n != old and not n.isalpha()]
    toks[i][1] = rng.choice(same if same and rng.random() < 0.8 else NUMBERS)
    return "change number"


def m_replace_symbol(rng, toks, ctx):
    idx = _idx(toks, {"sym"})
    syms = sorted({toks[j][1] for j in idx})
    if len(syms) < 2:
        return None
    i = rng.choice(idx)
    toks[i][1] = rng.choice([s for s in syms if s != toks[i][1]] + ["@nope"])
    return "replace symbol"


def _func_symbols(toks):
    return [toks[i + 1][1] for i in _idx(toks, {"op"}, lambda t: t == "rev.func")
            if toks[i + 1][0] == "sym"]


def m_marker(rng, toks, ctx):
    """Adds `attributes {rev.X_of = @g}` to a rev.func, or retargets an existing marker."""
    existing = _idx(toks, {"op"}, lambda t: t in MARKERS)
    syms = _func_symbols(toks) or ["@f"]
    if existing and rng.random() < 0.4:
        i = rng.choice(existing)
        if rng.random() < 0.5:
            toks[i][1] = rng.choice(MARKERS)
        else:
            for j in range(i + 1, min(i + 4, len(toks) - 1)):
                if toks[j][0] == "sym":
                    toks[j][1] = rng.choice(syms)
                    break
        return "change marker attribute"
    funcs = _idx(toks, {"op"}, lambda t: t == "rev.func")
    if not funcs:
        return None
    i = rng.choice(funcs)
    # the body's `{`: the first `{` at bracket depth 0 after the header's `(`
    depth, j = 0, i + 1
    while j < len(toks) - 1:
        t = toks[j][1]
        if t in ("(", "<", "["):
            depth += 1
        elif t in (")", ">", "]"):
            depth -= 1
        elif t == "{" and depth == 0:
            break
        elif t == "attributes" and depth == 0:
            break
        j += 1
    if j >= len(toks) - 1:
        return None
    marker = rng.choice(MARKERS)
    target = rng.choice(syms)
    if toks[j][1] == "attributes":
        # attributes {a = b} -> attributes {rev.X = @g, a = b}
        toks.insert(j + 2, ["op", marker, ""])
        toks.insert(j + 3, ["punct", "=", " "])
        toks.insert(j + 4, ["sym", target, " "])
        toks.insert(j + 5, ["punct", ",", ""])
    else:
        new = [["kw", "attributes", " "], ["punct", "{", " "], ["op", marker, ""],
               ["punct", "=", " "], ["sym", target, " "], ["punct", "}", ""]]
        toks[j:j] = new
    return f"add {marker} = {target}"


def m_adjoint(rng, toks, ctx):
    idx = _idx(toks, {"op"}, lambda t: t == "rev.alloc")
    if idx and rng.random() < 0.8:
        i = rng.choice(idx)
        toks.insert(i + 1, ["punct", "{adjoint}", " "])
        return "add {adjoint} to rev.alloc"
    idx = _idx(toks, {"op"}, lambda t: t.startswith("rev."))
    if not idx:
        return None
    i = rng.choice(idx)
    toks.insert(i + 1, ["punct", "{adjoint}", " "])
    return "add {adjoint} after an op"


def m_insert_token(rng, toks, ctx):
    # a token from this case or from the whole corpus, at a random place
    i = rng.choice(_idx(toks) or [0])
    src = toks if rng.random() < 0.7 else ctx["corpus_tokens"]
    k, t, _ = rng.choice(src[:-1] if src is toks else src)
    toks.insert(i, [k, t, " "])
    return "insert token"


def m_reverse_kw(rng, toks, ctx):
    idx = _idx(toks, {"op"}, lambda t: t == "rev.for")
    rv = _idx(toks, {"kw"}, lambda t: t == "reverse")
    if rv and rng.random() < 0.5:
        del toks[rng.choice(rv)]
        return "drop reverse"
    if not idx:
        return None
    toks.insert(rng.choice(idx) + 1, ["kw", "reverse", " "])
    return "add reverse"


TOKEN_MUTATIONS = [
    (m_delete_token, 2), (m_duplicate_token, 1), (m_swap_tokens, 1), (m_replace_ssa, 6),
    (m_replace_type, 3), (m_replace_op, 4), (m_replace_number, 4), (m_replace_symbol, 3),
    (m_marker, 4), (m_adjoint, 2), (m_insert_token, 1), (m_reverse_kw, 1),
]


def line_mutation(rng, text, ctx):
    lines = text.rstrip("\n").split("\n")
    if len(lines) < 2:
        return None
    kind = rng.choice(["drop", "drop", "dup", "swap", "splice", "move"])
    i = rng.randrange(len(lines))
    if kind == "drop":
        del lines[i]
    elif kind == "dup":
        lines.insert(i, lines[i])
    elif kind == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "move":
        line = lines.pop(i)
        lines.insert(rng.randrange(len(lines) + 1), line)
    else:
        lines.insert(i, rng.choice(ctx["corpus_lines"]))
    return "\n".join(lines) + "\n", f"{kind} line"


def make_context(seeds):
    corpus_tokens, corpus_lines = [], []
    for _, text in seeds:
        corpus_tokens += [t for t in tokenize(text)[:-1] if t[0] != "ws"]
        corpus_lines += [l for l in text.split("\n") if l.strip() and "{" not in l and "}" not in l]
    return {"corpus_tokens": corpus_tokens, "corpus_lines": corpus_lines}


# Seeds that are meant to be rejected (one error each): picked less often.
NEGATIVE_SEED = re.compile(r"/(invalid-|bad-)[^/]*$")


def mutate(seed, index, seeds, ctx):
    """Mutant `index` for `seed`: (seed name, text, [mutation descriptions]).
    Depends only on (seed, index, the corpus)."""
    rng = random.Random(f"rev-fuzz:{seed}:{index}")
    weights = [1 if NEGATIVE_SEED.search(name) else 4 for name, _ in seeds]
    for _ in range(50):
        name, text = rng.choices(seeds, weights=weights)[0]
        n = rng.choices([1, 2, 3, 4], weights=[16, 4, 1, 1])[0]
        done = []
        for _ in range(n):
            if rng.random() < 0.12:
                r = line_mutation(rng, text, ctx)
                if r:
                    text, what = r
                    done.append(what)
                continue
            toks = tokenize(text)
            if len(toks) < 2:
                continue
            fn = rng.choices([f for f, _ in TOKEN_MUTATIONS], weights=[w for _, w in TOKEN_MUTATIONS])[0]
            what = fn(rng, toks, ctx)
            if what:
                text = detok(toks)
                done.append(what)
        if done and text != dict(seeds).get(name):
            return name, text, done
    return name, text, done


# ---------------------------------------------------------------- running

CRASH_MARKERS = ("PLEASE submit a bug report", "Stack dump:", "Assertion", "LLVM ERROR",
                 "UNREACHABLE executed", "Segmentation fault", "terminate called",
                 "AddressSanitizer", "LeakSanitizer", "runtime error:")


def run_rev_opt(rev_opt, path, args, timeout):
    """(rc or 'timeout', stdout, stderr)."""
    try:
        p = subprocess.run([rev_opt, path] + list(args), capture_output=True, text=True,
                           errors="replace", timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        def s(x):
            return x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
        return "timeout", s(e.stdout), s(e.stderr)


def is_crash(rc, err):
    return rc != "timeout" and (rc < 0 or rc >= 128 or any(m in err for m in CRASH_MARKERS))


def error_lines(err):
    return [l for l in err.split("\n") if re.search(r"\berror:", l)]


PROJECT_FRAME = re.compile(r"rev::|\bRev[A-Z]\w*|\w+Pass\.cpp|Inversion|Adjoint|Tangent|Lowering|ToStd")
BORING_FRAME = re.compile(r"PrintStackTrace|SignalHandler|pthread_kill|\braise\b|\babort\b|__assert|"
                          r"_Safe_iterator|libc\.so|^\s*$|OpToOpPassAdaptor|PassManager|MlirOptMain|"
                          r"performActions|splitAndProcessBuffer|__libc_start|_start\b|\bmain\b")


def _project_sources():
    names = set()
    for d in ("dialect", "passes", "transforms", "conversion", "tools", "python"):
        for path in glob.glob(os.path.join(ROOT, d, "**", "*.cpp"), recursive=True):
            names.add(os.path.basename(path))
    return names


PROJECT_SOURCES = _project_sources()


def is_project_frame(line, name):
    """A frame of rev's own code: a rev:: symbol or a function in one of rev's
    source files (anonymous-namespace functions carry only their file)."""
    if PROJECT_FRAME.search(name):
        return True
    m = re.search(r"\s(\S+\.cpp):\d+:\d+\s*$", line)
    return bool(m) and os.path.basename(m.group(1)) in PROJECT_SOURCES


def frame_name(line):
    m = re.match(r"\s*#\d+\s+0x[0-9a-f]+\s+(.*)$", line)
    if not m:
        return None
    s = m.group(1)
    s = re.sub(r"\s+\(/[^)]*\)$", "", s)          # (binary+0x...)
    s = re.sub(r"\s+\S+\.(cpp|h|c|inc):\d+:\d+$", "", s)
    s = s.replace("(anonymous namespace)::", "")
    # cut the argument list: the first '(' at template depth 0
    depth = 0
    for k, c in enumerate(s):
        if c == "<":
            depth += 1
        elif c == ">":
            depth = max(0, depth - 1)
        elif c == "(" and depth == 0 and k > 0:
            s = s[:k]
            break
    return s.strip() or None


def crash_signature(rc, err):
    what = None
    m = re.search(r"Assertion [`'\"]?(.*?)['\"]? failed", err)
    if m:
        what = "assertion `" + m.group(1) + "'"
    elif "LLVM ERROR" in err:
        what = re.search(r"LLVM ERROR: ([^\n]*)", err).group(1)
    elif "UNREACHABLE executed" in err:
        what = "unreachable: " + re.search(r"([^\n]*UNREACHABLE executed[^\n]*)", err).group(1)
    elif isinstance(rc, int) and rc < 0:
        what = f"signal {-rc}"
    elif isinstance(rc, int) and rc >= 128:
        what = f"signal {rc - 128}"
    else:
        what = f"exit {rc}"
    frames = [(l, frame_name(l)) for l in err.split("\n")]
    frames = [(l, f) for l, f in frames if f]
    ours = [f for l, f in frames if is_project_frame(l, f)]
    other = [f for l, f in frames if not BORING_FRAME.search(f)]
    pick = (ours or other)[:2]
    return what + (" in " + " < ".join(pick) if pick else "")


def normalise_message(line):
    s = re.sub(r"^.*?\berror:\s*", "", line)
    op = re.match(r"'([a-z_]+\.[a-z_.]+)' op ", s)
    head = f"'{op.group(1)}' op " if op else ""
    body = s[len(head):] if op else s
    body = re.sub(r"'[^']*'", "'…'", body)
    body = re.sub(r"@[A-Za-z0-9_$.]+", "@…", body)
    body = re.sub(r"%[A-Za-z0-9_$.#]+", "%…", body)
    body = re.sub(r"\([^()]*\)", "(…)", body)
    body = re.sub(r"\d+", "N", body)
    return (head + body)[:160]


def classify(rev_opt, path, args, timeout):
    """(kind, signature or None, stderr)."""
    rc, out, err = run_rev_opt(rev_opt, path, args, timeout)
    if rc == "timeout":
        return "TIMEOUT", None, err
    if is_crash(rc, err):
        return "CRASH", crash_signature(rc, err), err
    if rc == 0:
        return "ok", None, err
    errs = error_lines(err)
    if not errs:
        return "NODIAG", f"exit {rc} without a diagnostic", err
    if not args:
        return "error", None, err
    # Did the verifier (run after each pass) produce this error? Without it the
    # pass pipeline succeeds, crashes, or reports something else.
    rc2, out2, err2 = run_rev_opt(rev_opt, path, list(args) + ["-verify-each=false"], timeout)
    if rc2 != "timeout" and (rc2 == 0 or is_crash(rc2, err2) or error_lines(err2) != errs):
        return "INVALID", "invalid IR: " + normalise_message(errs[0]), err
    return "error", None, err


def pipeline_name(args):
    return " ".join(args) if args else PARSE


def check_mutant(rev_opt, text, timeout, tmpdir, tag):
    """Parses the mutant; if it parses, runs every pipeline.
    Returns {"parsed": bool, "runs": [(pipeline, kind, signature)]}."""
    path = os.path.join(tmpdir, f"m{tag}.mlir")
    with open(path, "w") as f:
        f.write(text)
    try:
        kind, sig, _ = classify(rev_opt, path, [], timeout)
        if kind != "ok":
            bad = kind in ("CRASH", "TIMEOUT", "NODIAG")
            return {"parsed": False, "runs": [(PARSE, kind, sig)] if bad else []}
        runs = []
        for args in PIPELINES:
            kind, sig, _ = classify(rev_opt, path, args, timeout)
            runs.append((pipeline_name(args), kind, sig))
        return {"parsed": True, "runs": runs}
    finally:
        os.unlink(path)


def reduce_input(rev_opt, text, args, kind, sig, timeout, tmpdir, budget=400):
    """Greedy line-, then token-level reduction keeping (kind, signature)."""
    path = os.path.join(tmpdir, "reduce.mlir")
    runs = [0]

    def same(candidate):
        if runs[0] >= budget:
            return False
        runs[0] += 1
        with open(path, "w") as f:
            f.write(candidate)
        if args:   # the candidate must still parse
            k0, _, _ = classify(rev_opt, path, [], timeout)
            if k0 != "ok":
                return False
        k, s, _ = classify(rev_opt, path, args, timeout)
        return k == kind and (s == sig or kind == "TIMEOUT")

    lines = text.rstrip("\n").split("\n")

    def attempt(cand):
        return bool(cand) and same("\n".join(cand) + "\n")

    # 1. whole top-level operations (a line at column 0 up to its closing `}`)
    changed = True
    while changed:
        changed = False
        starts = [i for i, l in enumerate(lines) if l and not l[0].isspace() and l[0] != "}"]
        for st in reversed(starts):
            en = st
            if lines[st].rstrip().endswith("{"):
                while en + 1 < len(lines) and not lines[en].startswith("}"):
                    en += 1
            cand = lines[:st] + lines[en + 1:]
            if attempt(cand):
                lines, changed = cand, True
                break
    # 2. chunks of lines, halving the chunk size
    size = max(1, len(lines) // 2)
    while size >= 1:
        i, changed = len(lines) - size, False
        while i >= 0:
            cand = lines[:i] + lines[i + size:]
            if attempt(cand):
                lines, changed = cand, True
            i -= size if size > 1 else 1
            i = min(i, len(lines) - size)
        if not changed:
            size //= 2
    return "\n".join(lines) + "\n"


def signature_id(kind, sig):
    return kind.lower() + "-" + hashlib.sha1(sig.encode()).hexdigest()[:10]


def save_finding(outdir, finding, text, reduced):
    os.makedirs(outdir, exist_ok=True)
    base = signature_id(finding["kind"], finding["signature"])
    cmd = f"rev-opt %s {finding['pipeline']}" if finding["pipeline"] != PARSE else "rev-opt %s"
    head = (f"// rev fuzz finding: {finding['kind']}\n"
            f"// signature: {finding['signature']}\n"
            f"// command: {cmd}\n"
            f"// found by: scripts/fuzz.py --seed {finding['seed']}, mutant {finding['mutant']} "
            f"of {finding['from']} ({'; '.join(finding['mutations'])})\n")
    paths = {}
    for suffix, body in (("", reduced), (".orig", text)):
        p = os.path.join(outdir, base + suffix + ".mlir")
        with open(p, "w") as f:
            f.write(head + body)
        paths[suffix or "reduced"] = p
    return paths["reduced"]


def fuzz(rev_opt, seed=1, count=200, timeout=10.0, jobs=1, outdir=None, reduce=True,
         pipelines=None, root=ROOT, progress=None):
    """Runs `count` mutants; returns the summary dict (see --json)."""
    global PIPELINES
    if pipelines is not None:
        PIPELINES = pipelines
    seeds = load_seeds(root)
    ctx = make_context(seeds)
    t0 = time.time()
    stats = {pipeline_name(a): {"inputs": 0, "ok": 0, "error": 0, "CRASH": 0, "INVALID": 0,
                                "TIMEOUT": 0, "NODIAG": 0} for a in PIPELINES}
    stats[PARSE] = {"inputs": 0, "ok": 0, "error": 0, "CRASH": 0, "INVALID": 0,
                    "TIMEOUT": 0, "NODIAG": 0}
    findings = {}          # (kind, signature) -> finding
    mutants = [mutate(seed, i, seeds, ctx) for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="rev-fuzz-") as tmpdir:
        def work(i):
            return check_mutant(rev_opt, mutants[i][1], timeout, tmpdir, i)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
            results = ex.map(work, range(count))
            for i, res in enumerate(results):
                name, text, muts = mutants[i]
                stats[PARSE]["inputs"] += 1
                stats[PARSE]["ok" if res["parsed"] else "error"] += 1
                for pipe, kind, sig in res["runs"]:
                    if pipe != PARSE:
                        stats[pipe]["inputs"] += 1
                    else:
                        stats[PARSE]["error"] -= 1
                    stats[pipe][kind] += 1
                    if kind in ("CRASH", "INVALID", "TIMEOUT", "NODIAG"):
                        if kind == "TIMEOUT":
                            sig = f"timeout in {pipe} on a mutant of {name}"
                        key = (kind, sig)
                        f = findings.get(key)
                        if f is None:
                            f = findings[key] = {"kind": kind, "signature": sig, "count": 0,
                                                 "pipelines": [], "pipeline": pipe, "seed": seed,
                                                 "mutant": i, "from": name, "mutations": muts,
                                                 "text": text}
                        f["count"] += 1
                        if pipe not in f["pipelines"]:
                            f["pipelines"].append(pipe)
                        if len(text) < len(f["text"]):
                            f.update(pipeline=pipe, mutant=i, **{"from": name}, mutations=muts,
                                     text=text)
                if progress and (i + 1) % progress == 0:
                    print(f"  {i + 1}/{count} mutants, {len(findings)} signatures, "
                          f"{time.time() - t0:.0f} s", file=sys.stderr, flush=True)
        for f in findings.values():
            if outdir:
                args = [] if f["pipeline"] == PARSE else f["pipeline"].split()
                red = reduce_input(rev_opt, f["text"], args, f["kind"], f["signature"],
                                   timeout, tmpdir) if reduce else f["text"]
                f["saved"] = save_finding(outdir, f, f["text"], red)
            del f["text"]
    summary = {
        "seed": seed, "count": count, "rev_opt": rev_opt, "timeout": timeout, "jobs": jobs,
        "seconds": round(time.time() - t0, 1), "seeds": len(seeds),
        "parsed": stats[PARSE]["ok"],
        "pipelines": stats,
        "totals": {k: sum(s[k] for s in stats.values()) for k in ("CRASH", "INVALID", "TIMEOUT", "NODIAG")},
        "findings": sorted(findings.values(), key=lambda f: (f["kind"], -f["count"], f["signature"])),
    }
    return summary


def print_table(summary, file=sys.stdout):
    cols = ["inputs", "ok", "error", "CRASH", "INVALID", "TIMEOUT", "NODIAG"]
    w = max(len(p) for p in summary["pipelines"]) + 2
    print(f"seed {summary['seed']}: {summary['count']} mutants of {summary['seeds']} seed cases, "
          f"{summary['parsed']} parse; {summary['seconds']} s", file=file)
    print("pipeline".ljust(w) + "".join(c.rjust(9) for c in cols), file=file)
    for p, s in summary["pipelines"].items():
        print(p.ljust(w) + "".join(str(s[c]).rjust(9) for c in cols), file=file)
    t = summary["totals"]
    print(f"crashes {t['CRASH']}, invalid IR {t['INVALID']}, timeouts {t['TIMEOUT']}, "
          f"failures without a diagnostic {t['NODIAG']}", file=file)
    for f in summary["findings"]:
        print(f"  {f['kind']:8} x{f['count']:<4} [{', '.join(f['pipelines'])}] {f['signature']}", file=file)
        if f.get("saved"):
            print(f"           saved: {f['saved']}", file=file)


def default_rev_opt():
    return os.environ.get("REV_OPT") or os.path.join(ROOT, "build", "bin", "rev-opt")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200, help="number of mutants")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per rev-opt run")
    ap.add_argument("--rev-opt", default=default_rev_opt(),
                    help="rev-opt binary (default: $REV_OPT, else build/bin/rev-opt)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", help="save one (reduced) input per finding signature here")
    ap.add_argument("--no-reduce", action="store_true", help="save findings unreduced")
    ap.add_argument("--json", metavar="FILE", help="write the summary as JSON ('-': stdout)")
    ap.add_argument("--progress", type=int, default=0, metavar="N",
                    help="report progress every N mutants on stderr")
    ap.add_argument("--show", type=int, metavar="I", help="print mutant I and exit")
    ap.add_argument("--classify", nargs="+", metavar="FILE",
                    help="no mutation: parse and run these files through every pipeline, "
                         "print each run's classification and signature")
    a = ap.parse_args(argv)
    if a.show is not None:
        seeds = load_seeds()
        name, text, muts = mutate(a.seed, a.show, seeds, make_context(seeds))
        print(f"// mutant {a.show} of {name}: {'; '.join(muts)}\n{text}", end="")
        return 0
    if not os.access(a.rev_opt, os.X_OK):
        ap.error(f"no rev-opt at {a.rev_opt} (build it, or pass --rev-opt / set REV_OPT)")
    if a.classify:
        bad = 0
        for path in a.classify:
            for args in [[]] + PIPELINES:
                kind, sig, _ = classify(a.rev_opt, path, args, a.timeout)
                bad += kind in ("CRASH", "INVALID", "TIMEOUT", "NODIAG")
                print(f"{os.path.basename(path)}\t{pipeline_name(args)}\t{kind}\t{sig or ''}")
                if args == [] and kind != "ok":
                    break
        return 1 if bad else 0
    summary = fuzz(os.path.abspath(a.rev_opt), a.seed, a.count, a.timeout, a.jobs, a.out,
                   not a.no_reduce, progress=a.progress)
    print_table(summary, sys.stderr if a.json == "-" else sys.stdout)
    if a.json:
        js = json.dumps(summary, indent=1)
        if a.json == "-":
            print(js)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
            with open(a.json, "w") as f:
                f.write(js + "\n")
    return 1 if any(summary["totals"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
