// A function called from a kernel (--rev-gpu-prepare): the loop calls its
// device variant @g_device (private; its check report is cf.assert, its calls
// go to device variants too), the host keeps @g with the host report; the
// kernel's PTX has __assertfail and no write/exit.
// RUN: rev-opt %s --rev-gpu-prepare | FileCheck %s
// RUN: rev-opt %s --rev-to-gpu | %PYTHON %S/../extract_ptx.py | FileCheck %s --check-prefix=PTX

// CHECK-LABEL: func.func @h(
// CHECK: call @write
// CHECK-LABEL: func.func private @h_device(
// CHECK-NOT: call @write
// CHECK: cf.assert %{{.*}}, "rev: zero divisor (rev.div at loc(\22g.mlir\22:2:3))"
// CHECK-LABEL: func.func @g(
// CHECK: call @write
// CHECK: call @h(
// CHECK-LABEL: func.func private @g_device(
// CHECK-NOT: call @write
// CHECK: cf.assert
// CHECK: call @h_device(
// CHECK-LABEL: func.func @run(
// CHECK: %{{.*}} = call @g(
// CHECK: scf.parallel
// CHECK: func.call @g_device(
// CHECK: scf.parallel
// CHECK: func.call @g_device(

// PTX-LABEL: // ---- gpu.binary @run_kernel
// PTX-NOT: write
// PTX: .extern .func __assertfail
// PTX-NOT: write
// PTX: call.uni __assertfail,
// PTX-LABEL: // ---- gpu.binary @run_kernel_0
// PTX: call.uni __assertfail,
module {
  memref.global "private" constant @__rev_check_msg_0 : memref<49xi8> = dense<[114, 101, 118, 58, 32, 122, 101, 114, 111, 32, 100, 105, 118, 105, 115, 111, 114, 32, 40, 114, 101, 118, 46, 100, 105, 118, 32, 97, 116, 32, 108, 111, 99, 40, 34, 103, 46, 109, 108, 105, 114, 34, 58, 50, 58, 51, 41, 41, 10]>
  func.func private @exit(i32)
  func.func private @write(i32, i64, i64) -> i64
  func.func @h(%y: f64, %d: f64) -> f64 {
    %zero = arith.constant 0.0 : f64
    %true = arith.constant true
    %ok = arith.cmpf une, %d, %zero : f64
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
    %q = arith.divf %y, %d : f64
    return %q : f64
  }
  func.func @g(%y: f64, %d: f64) -> f64 attributes {llvm.emit_c_interface} {
    %zero = arith.constant 0.0 : f64
    %true = arith.constant true
    %ok = arith.cmpf une, %d, %zero : f64
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
    %q = func.call @h(%y, %d) : (f64, f64) -> f64
    return %q : f64
  }
  func.func @run(%x: memref<?xf64>, %d: f64) -> f64 attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %n = memref.dim %x, %c0 : memref<?xf64>
    %e = func.call @g(%d, %d) : (f64, f64) -> f64
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %xi = memref.load %x[%i] : memref<?xf64>
      %q = func.call @g(%d, %xi) : (f64, f64) -> f64
      memref.store %q, %x[%i] : memref<?xf64>
      scf.reduce
    }
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %xi = memref.load %x[%i] : memref<?xf64>
      %q = func.call @g(%xi, %d) : (f64, f64) -> f64
      memref.store %q, %x[%i] : memref<?xf64>
      scf.reduce
    }
    return %e : f64
  }
}
