import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKG = os.path.join(ROOT, "build", "python_packages", "rev")
if PKG not in sys.path:
    sys.path.insert(0, PKG)
