// GMM objective of ADBench (Gaussian mixture, K components in d dimensions,
// n points), without its constant terms (-n d/2 log(2 pi) and the Wishart
// normaliser, which do not change the gradient):
//   L = sum_i logsumexp_k(alpha_k + sum(q_k) - 1/2 |Q_k (x_i - mu_k)|^2)
//       - n logsumexp(alpha)
//       + 1/2 gamma^2 sum_k (|exp(q_k)|^2 + |l_k|^2) - m sum_k sum(q_k)
// Q_k = diag(exp(q_k)) + the strictly lower triangle l_k, icf[k] = (q_k,
// l_k column by column), as in ADBench. Written reversibly: the scratch
// memrefs B (K), MX (K), Z (d) and EQ (K x d) come in zero and go out zero;
// the alpha term and the prior come first, then a routine around the point
// loop computes EQ = exp(q) once (the routine last, the loop last in its
// body: the gradient fuses both, docs/ad.md "Writing an objective
// reversibly: GMM"); per point, a
// routine computes Z = Q_k (x_i - mu_k) (inner routine, uncomputed after
// use), B[k] = beta_k, the running maximum MX[k] = max(MX[k-1], B[k]) and
// s = sum_k exp(B[k] - MX[K-1]) (ancilla), adds MX[K-1] + log(s) to L, and
// uncomputes all of it.
rev.func @gmm(%A: memref<?xf64>, %MU: memref<?x?xf64>, %ICF: memref<?x?xf64>,
              %X: memref<?x?xf64>, %B: memref<?xf64>, %MX: memref<?xf64>, %Z: memref<?xf64>,
              %EQ: memref<?x?xf64>, %gamma: f64, %wm: f64, %L: f64) -> (f64, f64, f64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %half = arith.constant 0.5 : f64
  %n = memref.dim %X, %c0 : memref<?x?xf64>
  %d = memref.dim %X, %c1 : memref<?x?xf64>
  %K = memref.dim %A, %c0 : memref<?xf64>
  %dm1 = arith.subi %d, %c1 : index
  %Km1 = arith.subi %K, %c1 : index
  // - n logsumexp(alpha) (alpha is small: no shift)
  %L2:1 = rev.routine %L : f64 compute {
  ^bb0(%la: f64):
    %s0 = rev.alloc : f64
    %s = rev.for %k = %c0 to %K step %c1 iter_args(%sa = %s0) -> (f64) {
      %a = memref.load %A[%k] : memref<?xf64>
      %e = math.exp %a : f64
      %sn = rev.add %sa, %e : f64
      rev.yield %sn : f64
    }
    rev.yield %la, %s : f64, f64
  } body {
  ^bb0(%la: f64, %s: f64):
    %ni = arith.index_cast %n : index to i64
    %nf = arith.sitofp %ni : i64 to f64
    %ls = math.log %s : f64
    %v = arith.mulf %nf, %ls : f64
    %la1 = rev.sub %la, %v : f64
    rev.yield %la1, %s : f64, f64
  }
  // the Wishart prior
  %g2 = arith.mulf %gamma, %gamma : f64
  %g2h = arith.mulf %g2, %half : f64
  %dd = arith.muli %d, %dm1 : index
  %tri = arith.divui %dd, %c2 : index
  %T = arith.addi %tri, %d : index
  %L3 = rev.for %k = %c0 to %K step %c1 iter_args(%l = %L2#0) -> (f64) {
    %l1 = rev.for %j = %c0 to %d step %c1 iter_args(%lj = %l) -> (f64) {
      %q = memref.load %ICF[%k, %j] : memref<?x?xf64>
      %e = math.exp %q : f64
      %e2 = arith.mulf %e, %e : f64
      %pe = arith.mulf %g2h, %e2 : f64
      %mq = arith.mulf %wm, %q : f64
      %t = arith.subf %pe, %mq : f64
      %lj1 = rev.add %lj, %t : f64
      rev.yield %lj1 : f64
    }
    %l2 = rev.for %j = %d to %T step %c1 iter_args(%lj = %l1) -> (f64) {
      %v = memref.load %ICF[%k, %j] : memref<?x?xf64>
      %v2 = arith.mulf %v, %v : f64
      %t = arith.mulf %g2h, %v2 : f64
      %lj1 = rev.add %lj, %t : f64
      rev.yield %lj1 : f64
    }
    rev.yield %l2 : f64
  }
  // EQ = exp(q) for all points (computed once, uncomputed after them)
  %L1:1 = rev.routine %L3 : f64 compute {
  ^bb0(%lq: f64):
    rev.for %k = %c0 to %K step %c1 {
      rev.for %j = %c0 to %d step %c1 {
        %q = memref.load %ICF[%k, %j] : memref<?x?xf64>
        %e = math.exp %q : f64
        rev.add_at %EQ[%k, %j], %e : memref<?x?xf64>
      }
    }
    rev.yield %lq : f64
  } body {
  ^bb0(%lq: f64):
  // the data term, point by point
  %Lp = rev.for %i = %c0 to %n step %c1 iter_args(%l = %lq) -> (f64) {
    %r:1 = rev.routine %l : f64 compute {
    ^bb0(%la: f64):
      rev.for %k = %c0 to %K step %c1 {
        rev.routine compute {
        ^bb0:
          // Z = Q_k (x_i - mu_k), column by column: Z[j] += Q_k[j][c] xc[c]
          rev.for %c = %c0 to %d step %c1 {
            %xc = memref.load %X[%i, %c] : memref<?x?xf64>
            %mc = memref.load %MU[%k, %c] : memref<?x?xf64>
            %xcc = arith.subf %xc, %mc : f64
            %eq = memref.load %EQ[%k, %c] : memref<?x?xf64>
            %t = arith.mulf %eq, %xcc : f64
            rev.add_at %Z[%c], %t : memref<?xf64>
            // l_k[j][c] sits at d + c (d - 1) - c (c - 1) / 2 + (j - c - 1) = st + j
            %cd = arith.muli %c, %dm1 : index
            %cm1 = arith.subi %c, %c1 : index
            %cc = arith.muli %c, %cm1 : index
            %ch = arith.divui %cc, %c2 : index
            %s0 = arith.subi %cd, %ch : index
            %s1 = arith.addi %s0, %dm1 : index
            %st = arith.subi %s1, %c : index
            %cp1 = arith.addi %c, %c1 : index
            rev.for %j = %cp1 to %d step %c1 {
              %id = arith.addi %st, %j : index
              %lv = memref.load %ICF[%k, %id] : memref<?x?xf64>
              %u = arith.mulf %lv, %xcc : f64
              rev.add_at %Z[%j], %u : memref<?xf64>
            }
          }
          rev.yield
        } body {
        ^bb0:
          // B[k] = alpha_k + sum(q_k) - |Z|^2 / 2
          %a = memref.load %A[%k] : memref<?xf64>
          rev.add_at %B[%k], %a : memref<?xf64>
          rev.for %j = %c0 to %d step %c1 {
            %qj = memref.load %ICF[%k, %j] : memref<?x?xf64>
            rev.add_at %B[%k], %qj : memref<?xf64>
            %zj = memref.load %Z[%j] : memref<?xf64>
            %z2 = arith.mulf %zj, %zj : f64
            %hz = arith.mulf %z2, %half : f64
            rev.sub_at %B[%k], %hz : memref<?xf64>
          }
          rev.yield
        }
      }
      // MX[k] = max(B[0..k])
      %b0 = memref.load %B[%c0] : memref<?xf64>
      rev.add_at %MX[%c0], %b0 : memref<?xf64>
      rev.for %k = %c1 to %K step %c1 {
        %km1 = arith.subi %k, %c1 : index
        %p = memref.load %MX[%km1] : memref<?xf64>
        %bk = memref.load %B[%k] : memref<?xf64>
        %mv = arith.maximumf %p, %bk : f64
        rev.add_at %MX[%k], %mv : memref<?xf64>
      }
      %s0 = rev.alloc : f64
      %s = rev.for %k = %c0 to %K step %c1 iter_args(%sa = %s0) -> (f64) {
        %bk = memref.load %B[%k] : memref<?xf64>
        %mx = memref.load %MX[%Km1] : memref<?xf64>
        %e0 = arith.subf %bk, %mx : f64
        %e = math.exp %e0 : f64
        %sn = rev.add %sa, %e : f64
        rev.yield %sn : f64
      }
      rev.yield %la, %s : f64, f64
    } body {
    ^bb0(%la: f64, %s: f64):
      %mx = memref.load %MX[%Km1] : memref<?xf64>
      %ls = math.log %s : f64
      %v = arith.addf %mx, %ls : f64
      %la1 = rev.add %la, %v : f64
      rev.yield %la1, %s : f64, f64
    }
    rev.yield %r#0 : f64
  }
  rev.yield %Lp : f64
  }
  rev.return %gamma, %wm, %L1#0 : f64, f64, f64
}
