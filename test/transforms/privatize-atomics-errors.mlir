// RUN: rev-opt %s -split-input-file -verify-diagnostics --rev-privatize-atomics="max-elements=0"

// expected-error @+1 {{--rev-privatize-atomics: max-elements must be >= 1, got 0}}
module {
}
