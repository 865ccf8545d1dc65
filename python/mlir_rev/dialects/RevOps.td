#ifndef REV_PYTHON_OPS
#define REV_PYTHON_OPS
include "dialect/RevOps.td"
#endif
