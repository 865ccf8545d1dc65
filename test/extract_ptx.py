"""Print the PTX of every gpu.binary of an MLIR module (rev-to-gpu with
format=isa), read from stdin as text: no MLIR bindings needed.

    rev-opt k.mlir --rev-to-gpu | python extract_ptx.py            # PTX on stdout
    rev-opt k.mlir --rev-to-gpu | python extract_ptx.py --ptxas sm_90
        # also assembles each kernel module with `ptxas -arch=sm_90 -v` and
        # prints ptxas's report (registers, spills); fails if ptxas does

Each module's PTX is preceded by a line `// ---- gpu.binary @NAME`.
MLIR prints the object as a string in which `\\`, `\"` and non-printable
bytes (`\0A`, ...) are escaped.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import os

_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r'\\([0-9A-Fa-f]{2}|\\|")')


def unescape(s: str) -> str:
    def one(m):
        g = m.group(1)
        return g if g in ('\\', '"') else chr(int(g, 16))
    return _ESCAPE.sub(one, s)


def binaries(text: str):
    """(name, ptx) for each gpu.binary op with an NVVM PTX object."""
    for m in re.finditer(r'gpu\.binary @([\w$.]+)', text):
        end = text.find('\n', m.end())
        line = text[m.end(): end if end >= 0 else len(text)]
        for s in _STRING.finditer(line):
            ptx = unescape(s.group(1))
            if ".version" in ptx and ".target" in ptx:
                yield m.group(1), ptx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ptxas", metavar="ARCH", help="assemble each module with ptxas -arch=ARCH -v")
    args = ap.parse_args()
    found = list(binaries(sys.stdin.read()))
    if not found:
        print("extract_ptx.py: no gpu.binary with PTX in the input", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for name, ptx in found:
            print(f"// ---- gpu.binary @{name}")
            print(ptx)
            if args.ptxas:
                path = os.path.join(tmp, name + ".ptx")
                with open(path, "w") as f:
                    f.write(ptx)
                r = subprocess.run(["ptxas", f"-arch={args.ptxas}", "-v", path, "-o",
                                    path + ".cubin"], capture_output=True, text=True)
                print(f"// ---- ptxas -arch={args.ptxas} @{name}: rc {r.returncode}")
                print(r.stdout + r.stderr)
                if r.returncode:
                    return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
