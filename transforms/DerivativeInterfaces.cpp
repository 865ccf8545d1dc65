//===- DerivativeInterfaces.cpp - AD interfaces ---------------------------===//
#include "transforms/DerivativeInterfaces.h"

#include "transforms/ForwardMode.h"
#include "transforms/ReverseMode.h"

#include "transforms/DerivativeInterfaces.cpp.inc"
