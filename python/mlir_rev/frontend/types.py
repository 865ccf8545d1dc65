"""The annotation vocabulary of the Python front end: scalar types and arrays."""
from __future__ import annotations

from ..ir import F32Type, F64Type, IndexType, IntegerType, MemRefType, ShapedType


class ScalarType:
    """A scalar annotation: `f64`, `f32`, `i64`, `i32`, `i16`, `i8`, `index`
    (also `float` = f64, `int` = i64)."""

    def __init__(self, name: str):
        self.name = name

    @property
    def bits(self) -> int:
        return {"f64": 64, "f32": 32, "i64": 64, "i32": 32, "i16": 16, "i8": 8,
                "index": 64}[self.name]

    @property
    def is_float(self) -> bool:
        return self.name in ("f64", "f32")

    def mlir(self):
        return {"f64": F64Type.get, "f32": F32Type.get, "index": IndexType.get,
                "i64": lambda: IntegerType.get_signless(64),
                "i32": lambda: IntegerType.get_signless(32),
                "i16": lambda: IntegerType.get_signless(16),
                "i8": lambda: IntegerType.get_signless(8)}[self.name]()

    def __repr__(self):
        return f"rev.{self.name}"

    def __eq__(self, other):
        return isinstance(other, ScalarType) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


f64 = ScalarType("f64")
f32 = ScalarType("f32")
i64 = ScalarType("i64")
i32 = ScalarType("i32")
i16 = ScalarType("i16")
i8 = ScalarType("i8")
index = ScalarType("index")


def scalar_type(t):
    """A ScalarType for an annotation, or None."""
    if isinstance(t, ScalarType):
        return t
    if t is float:
        return f64
    if t is int:
        return i64
    return None


class ArrayType:
    """`Array[f64]` (1-d, dynamic size), `Array[f64, 2]` (2-d, dynamic),
    `Array[f64, (3, 4)]` (static), `Array[f64, (None, 4)]` (mixed)."""

    def __init__(self, elem: ScalarType, shape: tuple):
        self.elem = elem
        self.shape = shape  # one int or None per dimension

    def mlir(self):
        dyn = ShapedType.get_dynamic_size()
        return MemRefType.get([dyn if d is None else d for d in self.shape], self.elem.mlir())

    def __repr__(self):
        return f"rev.Array[{self.elem!r}, {self.shape!r}]"


class _ArrayFactory:
    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        if len(key) not in (1, 2):
            raise TypeError("Array[elem] or Array[elem, rank or shape]")
        elem = scalar_type(key[0])
        if elem is None or elem.name == "index":
            raise TypeError(f"Array element type must be f64, f32, i64, i32, i16 or i8, got "
                            f"{key[0]!r}")
        shape = (None,)
        if len(key) == 2:
            s = key[1]
            if isinstance(s, int) and not isinstance(s, bool):
                if s < 1:
                    raise TypeError(f"Array rank must be >= 1, got {s}")
                shape = (None,) * s
            elif isinstance(s, tuple) and s and all(
                    d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
                    for d in s):
                shape = tuple(s)
            else:
                raise TypeError(f"Array shape must be a rank or a tuple of sizes/None, got {s!r}")
        return ArrayType(elem, shape)


Array = _ArrayFactory()
