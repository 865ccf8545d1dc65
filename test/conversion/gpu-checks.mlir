// Checks in kernels (--rev-gpu-prepare): a failed-check report of the host
// lowerings (write/exit, __rev_check_failed) inside a parallel loop becomes
// cf.assert with the same message, the device's __assertfail in the PTX;
// a report outside the loops stays a host call.
// RUN: rev-opt %s --rev-gpu-prepare | FileCheck %s
// RUN: rev-opt %s --rev-to-gpu | %PYTHON %S/../extract_ptx.py | FileCheck %s --check-prefix=PTX

// CHECK-LABEL: func.func @scale
// CHECK: scf.if
// CHECK: call @write
// CHECK: call @exit
// An empty loop launches no kernel:
// CHECK: %[[NONEMPTY:.*]] = arith.cmpi slt, %{{.*}}, %{{.*}} : index
// CHECK: scf.if %[[NONEMPTY]] {
// CHECK: scf.parallel
// CHECK-NOT: call @write
// CHECK: %[[BAD:.*]] = arith.xori
// CHECK: %[[OK:.*]] = arith.xori %[[BAD]], %{{.*}} : i1
// CHECK: cf.assert %[[OK]], "rev: zero divisor (rev.div at loc(\22k.mlir\22:3:5))"
// CHECK-NOT: call @write
// CHECK: arith.divf
// CHECK: scf.reduce

// The runtime lowering's report (__rev_check_failed, Python's) too:
// CHECK-LABEL: func.func @scale_rt
// CHECK: scf.parallel
// CHECK-NOT: call @__rev_check_failed
// CHECK: cf.assert %{{.*}}, "rev: zero divisor (rev.div at loc(\22k.mlir\22:3:5))"

// PTX-LABEL: // ---- gpu.binary @scale_kernel
// PTX: .extern .func __assertfail
// PTX: call.uni __assertfail,
module {
  memref.global "private" constant @__rev_check_msg_0 : memref<49xi8> = dense<[114, 101, 118, 58, 32, 122, 101, 114, 111, 32, 100, 105, 118, 105, 115, 111, 114, 32, 40, 114, 101, 118, 46, 100, 105, 118, 32, 97, 116, 32, 108, 111, 99, 40, 34, 107, 46, 109, 108, 105, 114, 34, 58, 51, 58, 53, 41, 41, 10]>
  func.func private @exit(i32)
  func.func private @write(i32, i64, i64) -> i64
  func.func @scale(%x: memref<?xf64>, %d: f64) -> f64 attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %zero = arith.constant 0.0 : f64
    %true = arith.constant true
    %n = memref.dim %x, %c0 : memref<?xf64>
    %ok0 = arith.cmpf une, %d, %zero : f64
    %bad0 = arith.xori %ok0, %true : i1
    scf.if %bad0 {
      %m = memref.get_global @__rev_check_msg_0 : memref<49xi8>
      %p = memref.extract_aligned_pointer_as_index %m : memref<49xi8> -> index
      %p64 = arith.index_cast %p : index to i64
      %len = arith.constant 49 : i64
      %fd = arith.constant 2 : i32
      %w = func.call @write(%fd, %p64, %len) : (i32, i64, i64) -> i64
      %one = arith.constant 1 : i32
      func.call @exit(%one) : (i32) -> ()
    }
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %xi = memref.load %x[%i] : memref<?xf64>
      %ok = arith.cmpf une, %xi, %zero : f64
      %bad = arith.xori %ok, %true : i1
      scf.if %bad {
        %m = memref.get_global @__rev_check_msg_0 : memref<49xi8>
        %p = memref.extract_aligned_pointer_as_index %m : memref<49xi8> -> index
        %p64 = arith.index_cast %p : index to i64
        %len = arith.constant 49 : i64
        %fd = arith.constant 2 : i32
        %w = func.call @write(%fd, %p64, %len) : (i32, i64, i64) -> i64
        %one = arith.constant 1 : i32
        func.call @exit(%one) : (i32) -> ()
      }
      %q = arith.divf %d, %xi : f64
      memref.store %q, %x[%i] : memref<?xf64>
      scf.reduce
    }
    return %d : f64
  }
  func.func private @__rev_check_failed(i64, i64)
  func.func @scale_rt(%x: memref<?xf64>, %d: f64) -> f64 attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %zero = arith.constant 0.0 : f64
    %true = arith.constant true
    %n = memref.dim %x, %c0 : memref<?xf64>
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %xi = memref.load %x[%i] : memref<?xf64>
      %ok = arith.cmpf une, %xi, %zero : f64
      %bad = arith.xori %ok, %true : i1
      scf.if %bad {
        %m = memref.get_global @__rev_check_msg_0 : memref<49xi8>
        %p = memref.extract_aligned_pointer_as_index %m : memref<49xi8> -> index
        %p64 = arith.index_cast %p : index to i64
        %len = arith.constant 49 : i64
        func.call @__rev_check_failed(%p64, %len) : (i64, i64) -> ()
      }
      %q = arith.divf %d, %xi : f64
      memref.store %q, %x[%i] : memref<?xf64>
      scf.reduce
    }
    return %d : f64
  }
}
// PTX-LABEL: // ---- gpu.binary @scale_rt_kernel
// PTX-NOT: __rev_check_failed
// PTX: call.uni __assertfail,
