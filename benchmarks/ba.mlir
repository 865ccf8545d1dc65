// Bundle adjustment objective of ADBench (n cameras, m points, p observations):
//   ERR[o]  = W[o] * (project(CAMS[CIDX[o]], PTS[PIDX[o]]) - FEAT[o])   (2 values)
//   WERR[o] = 1 - W[o]^2
// camera = (r[3] Rodrigues rotation, C[3] centre, f, x0[2] principal point,
// k1, k2 radial distortion), ADBench's order;
//   project(cam, X): Xc = rodrigues_rotate(r, X - C); p = Xc[0:2] / Xc[2];
//                    proj = f (1 + k1 |p|^2 + k2 |p|^4) p + x0
//   rodrigues_rotate(r, d) = d cos(t) + (w x d) sin(t) + w (w.d)(1 - cos(t)),
//                    t = |r|, w = r / t, if t != 0; d + r x d if t == 0.
//
// Written reversibly without ancillas: every intermediate value (d = X - C,
// t, w, the rotated point, the projection, the distortion) is a pure
// expression of the inputs, so the only state changes are the updates
// ERR[o, k] += e_k (and WERR[o] += 1 - w^2). The backward sweep uncomputes
// them (ERR[o, k] -= e_k) and recomputes the pure expression for its partial
// derivatives; nothing is allocated, stored or uncomputed in between
// (docs/ad.md, "Writing an objective reversibly: bundle adjustment", also
// on why this beats ancillas in a routine here). The t = 0 branch is a
// rev.if on |r|^2 != 0 whose condition reads only the camera, which neither
// branch writes (so the post condition is the pre condition); each branch
// holds its rotation and the projection.
//
// @ba_reproj reads the camera and the point of observation o through the
// index memrefs, so it serves twice: as the objective (CAMS n x 11, PTS
// m x 3, the observations' indices) and, for the sparse Jacobian, on
// per-observation copies (CAMS p x 11, PTS p x 3, CIDX = PIDX = 0..p-1, made
// by @ba_gather, a plain func.func that is not differentiated): observation o
// then reads only row o of each input, so its adjoint lands in row o of the
// shadows. The gradient seeded with ERR_bar[:, 0] = 1 gives the first row of
// every observation's 2 x 15 block (11 camera, 3 point, 1 weight columns),
// seeded with ERR_bar[:, 1] = 1 the second; benchmarks/ba.py gets both from
// one call of the two-seed copy @ba_reproj_grad_x2 (--rev-seeds). No adjoint
// update reads ERR, so the gradient is adjoint-only (no forward run). FEAT
// (the observed features) is data: marked rev.const, it is only read and
// its shadow gets no adjoint.
// FEAT (the observed features) is data: marked rev.const, it is only read
// and its shadow gets no adjoint.
rev.func @ba_reproj(%CAMS: memref<?x11xf64>, %PTS: memref<?x3xf64>, %W: memref<?xf64>,
                    %FEAT: memref<?x2xf64> {rev.const}, %CIDX: memref<?xindex>, %PIDX: memref<?xindex>,
                    %ERR: memref<?x2xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %c7 = arith.constant 7 : index
  %c8 = arith.constant 8 : index
  %c9 = arith.constant 9 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %p = memref.dim %ERR, %c0 : memref<?x2xf64>
  rev.for %o = %c0 to %p step %c1 {
    %ci = memref.load %CIDX[%o] : memref<?xindex>
    %pi = memref.load %PIDX[%o] : memref<?xindex>
    %r0 = memref.load %CAMS[%ci, %c0] : memref<?x11xf64>
    %r1 = memref.load %CAMS[%ci, %c1] : memref<?x11xf64>
    %r2 = memref.load %CAMS[%ci, %c2] : memref<?x11xf64>
    %C0 = memref.load %CAMS[%ci, %c3] : memref<?x11xf64>
    %C1 = memref.load %CAMS[%ci, %c4] : memref<?x11xf64>
    %C2 = memref.load %CAMS[%ci, %c5] : memref<?x11xf64>
    %f = memref.load %CAMS[%ci, %c6] : memref<?x11xf64>
    %u0 = memref.load %CAMS[%ci, %c7] : memref<?x11xf64>
    %u1 = memref.load %CAMS[%ci, %c8] : memref<?x11xf64>
    %k1 = memref.load %CAMS[%ci, %c9] : memref<?x11xf64>
    %k2 = memref.load %CAMS[%ci, %c10] : memref<?x11xf64>
    %X0 = memref.load %PTS[%pi, %c0] : memref<?x3xf64>
    %X1 = memref.load %PTS[%pi, %c1] : memref<?x3xf64>
    %X2 = memref.load %PTS[%pi, %c2] : memref<?x3xf64>
    %w = memref.load %W[%o] : memref<?xf64>
    %m0 = memref.load %FEAT[%o, %c0] : memref<?x2xf64>
    %m1 = memref.load %FEAT[%o, %c1] : memref<?x2xf64>
    // d = X - C
    %d0 = arith.subf %X0, %C0 : f64
    %d1 = arith.subf %X1, %C1 : f64
    %d2 = arith.subf %X2, %C2 : f64
    %s0 = arith.mulf %r0, %r0 : f64
    %s1 = arith.mulf %r1, %r1 : f64
    %s2 = arith.mulf %r2, %r2 : f64
    %s01 = arith.addf %s0, %s1 : f64
    %th2 = arith.addf %s01, %s2 : f64
    %nz = arith.cmpf one, %th2, %zero : f64
    rev.if pre {
      rev.cond %nz
    } then {
      // Rodrigues: t = |r|, w = r / t, Xc = d cos t + (w x d) sin t + w (w.d)(1 - cos t)
      %th = math.sqrt %th2 : f64
      %ct = math.cos %th : f64
      %st = math.sin %th : f64
      %it = arith.divf %one, %th : f64
      %w0 = arith.mulf %r0, %it : f64
      %w1 = arith.mulf %r1, %it : f64
      %w2 = arith.mulf %r2, %it : f64
      %wd0 = arith.mulf %w0, %d0 : f64
      %wd1 = arith.mulf %w1, %d1 : f64
      %wd2 = arith.mulf %w2, %d2 : f64
      %wd01 = arith.addf %wd0, %wd1 : f64
      %wd = arith.addf %wd01, %wd2 : f64
      %omc = arith.subf %one, %ct : f64
      %tmp = arith.mulf %wd, %omc : f64
      %a0 = arith.mulf %w1, %d2 : f64
      %b0 = arith.mulf %w2, %d1 : f64
      %x0 = arith.subf %a0, %b0 : f64
      %a1 = arith.mulf %w2, %d0 : f64
      %b1 = arith.mulf %w0, %d2 : f64
      %x1 = arith.subf %a1, %b1 : f64
      %a2 = arith.mulf %w0, %d1 : f64
      %b2 = arith.mulf %w1, %d0 : f64
      %x2 = arith.subf %a2, %b2 : f64
      %g0 = arith.mulf %d0, %ct : f64
      %h0 = arith.mulf %x0, %st : f64
      %i0 = arith.mulf %w0, %tmp : f64
      %gh0 = arith.addf %g0, %h0 : f64
      %Xc0 = arith.addf %gh0, %i0 : f64
      %g1 = arith.mulf %d1, %ct : f64
      %h1 = arith.mulf %x1, %st : f64
      %i1 = arith.mulf %w1, %tmp : f64
      %gh1 = arith.addf %g1, %h1 : f64
      %Xc1 = arith.addf %gh1, %i1 : f64
      %g2 = arith.mulf %d2, %ct : f64
      %h2 = arith.mulf %x2, %st : f64
      %i2 = arith.mulf %w2, %tmp : f64
      %gh2 = arith.addf %g2, %h2 : f64
      %Xc2 = arith.addf %gh2, %i2 : f64
      // p = Xc[0:2] / Xc[2]; L = 1 + k1 |p|^2 + k2 |p|^4; e = w (f L p + x0 - feat)
      %p0 = arith.divf %Xc0, %Xc2 : f64
      %p1 = arith.divf %Xc1, %Xc2 : f64
      %q0 = arith.mulf %p0, %p0 : f64
      %q1 = arith.mulf %p1, %p1 : f64
      %rsq = arith.addf %q0, %q1 : f64
      %l1 = arith.mulf %k1, %rsq : f64
      %r4 = arith.mulf %rsq, %rsq : f64
      %l2 = arith.mulf %k2, %r4 : f64
      %l12 = arith.addf %l1, %l2 : f64
      %L = arith.addf %one, %l12 : f64
      %fL = arith.mulf %f, %L : f64
      %y0 = arith.mulf %fL, %p0 : f64
      %y1 = arith.mulf %fL, %p1 : f64
      %z0 = arith.addf %y0, %u0 : f64
      %z1 = arith.addf %y1, %u1 : f64
      %v0 = arith.subf %z0, %m0 : f64
      %v1 = arith.subf %z1, %m1 : f64
      %e0 = arith.mulf %w, %v0 : f64
      %e1 = arith.mulf %w, %v1 : f64
      rev.add_at %ERR[%o, %c0], %e0 : memref<?x2xf64>
      rev.add_at %ERR[%o, %c1], %e1 : memref<?x2xf64>
      rev.yield
    } else {
      // t = 0: Xc = d + r x d
      %a0 = arith.mulf %r1, %d2 : f64
      %b0 = arith.mulf %r2, %d1 : f64
      %x0 = arith.subf %a0, %b0 : f64
      %a1 = arith.mulf %r2, %d0 : f64
      %b1 = arith.mulf %r0, %d2 : f64
      %x1 = arith.subf %a1, %b1 : f64
      %a2 = arith.mulf %r0, %d1 : f64
      %b2 = arith.mulf %r1, %d0 : f64
      %x2 = arith.subf %a2, %b2 : f64
      %Xc0 = arith.addf %d0, %x0 : f64
      %Xc1 = arith.addf %d1, %x1 : f64
      %Xc2 = arith.addf %d2, %x2 : f64
      %p0 = arith.divf %Xc0, %Xc2 : f64
      %p1 = arith.divf %Xc1, %Xc2 : f64
      %q0 = arith.mulf %p0, %p0 : f64
      %q1 = arith.mulf %p1, %p1 : f64
      %rsq = arith.addf %q0, %q1 : f64
      %l1 = arith.mulf %k1, %rsq : f64
      %r4 = arith.mulf %rsq, %rsq : f64
      %l2 = arith.mulf %k2, %r4 : f64
      %l12 = arith.addf %l1, %l2 : f64
      %L = arith.addf %one, %l12 : f64
      %fL = arith.mulf %f, %L : f64
      %y0 = arith.mulf %fL, %p0 : f64
      %y1 = arith.mulf %fL, %p1 : f64
      %z0 = arith.addf %y0, %u0 : f64
      %z1 = arith.addf %y1, %u1 : f64
      %v0 = arith.subf %z0, %m0 : f64
      %v1 = arith.subf %z1, %m1 : f64
      %e0 = arith.mulf %w, %v0 : f64
      %e1 = arith.mulf %w, %v1 : f64
      rev.add_at %ERR[%o, %c0], %e0 : memref<?x2xf64>
      rev.add_at %ERR[%o, %c1], %e1 : memref<?x2xf64>
      rev.yield
    }
  }
  rev.return
}

// WERR[o] += 1 - W[o]^2 (its Jacobian, the diagonal -2 W, is one gradient
// sweep seeded with WERR_bar = 1).
rev.func @ba_werr(%W: memref<?xf64>, %WERR: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  %p = memref.dim %W, %c0 : memref<?xf64>
  rev.for %o = %c0 to %p step %c1 {
    %w = memref.load %W[%o] : memref<?xf64>
    %w2 = arith.mulf %w, %w : f64
    %e = arith.subf %one, %w2 : f64
    rev.add_at %WERR[%o], %e : memref<?xf64>
  }
  rev.return
}

// GC[o] = CAMS[CIDX[o]], GP[o] = PTS[PIDX[o]]: the per-observation copies
// the Jacobian is taken on (a plain copy, overwriting GC and GP).
func.func @ba_gather(%CAMS: memref<?x11xf64>, %PTS: memref<?x3xf64>,
                     %CIDX: memref<?xindex>, %PIDX: memref<?xindex>,
                     %GC: memref<?x11xf64>, %GP: memref<?x3xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c11 = arith.constant 11 : index
  %p = memref.dim %GC, %c0 : memref<?x11xf64>
  scf.for %o = %c0 to %p step %c1 {
    %ci = memref.load %CIDX[%o] : memref<?xindex>
    %pi = memref.load %PIDX[%o] : memref<?xindex>
    scf.for %j = %c0 to %c11 step %c1 {
      %v = memref.load %CAMS[%ci, %j] : memref<?x11xf64>
      memref.store %v, %GC[%o, %j] : memref<?x11xf64>
    }
    scf.for %j = %c0 to %c3 step %c1 {
      %v = memref.load %PTS[%pi, %j] : memref<?x3xf64>
      memref.store %v, %GP[%o, %j] : memref<?x3xf64>
    }
  }
  return
}

// The sparse Jacobian in one pass, with no per-observation copies in memory:
// J[o, k, :] = row k of observation o's 2 x 15 block (11 camera, 3 point,
// 1 weight column), DWERR[o] = d(1 - W[o]^2)/dW[o] (the weight-error row). For each observation, its camera, point, weight and
// feature go into one-row stack arrays (CIDX = PIDX = [0]), and
// rev.grad_call runs the two-seed gradient of @ba_reproj on them (resolved
// by --rev-ad into a rev.call of @ba_reproj_grad_x2) with one-row stack
// shadows, seeded with ERR_bar[0, k] = 1 in set k; the shadows are copied
// into J. A second rev.grad_call, of @ba_werr on the same one-row weight
// seeded with WERR_bar = 1, gives DWERR[o]. The stack arrays are allocated
// once, before the loop.
func.func @ba_jacobian(%CAMS: memref<?x11xf64>, %PTS: memref<?x3xf64>, %W: memref<?xf64>,
                       %FEAT: memref<?x2xf64>, %CIDX: memref<?xindex>, %PIDX: memref<?xindex>,
                       %J: memref<?x2x15xf64>, %DWERR: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c11 = arith.constant 11 : index
  %c14 = arith.constant 14 : index
  %zero = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %cam = memref.alloca() : memref<1x11xf64>
  %pt = memref.alloca() : memref<1x3xf64>
  %w = memref.alloca() : memref<1xf64>
  %feat = memref.alloca() : memref<1x2xf64>
  %err = memref.alloca() : memref<1x2xf64>
  %werr = memref.alloca() : memref<1xf64>
  %dww = memref.alloca() : memref<1xf64>
  %dwerr = memref.alloca() : memref<1xf64>
  %werrD = memref.cast %werr : memref<1xf64> to memref<?xf64>
  %dwwD = memref.cast %dww : memref<1xf64> to memref<?xf64>
  %dwerrD = memref.cast %dwerr : memref<1xf64> to memref<?xf64>
  %idx = memref.alloca() : memref<1xindex>
  memref.store %c0, %idx[%c0] : memref<1xindex>
  %dcam0 = memref.alloca() : memref<1x11xf64>
  %dpt0 = memref.alloca() : memref<1x3xf64>
  %dw0 = memref.alloca() : memref<1xf64>
  %dfeat0 = memref.alloca() : memref<1x2xf64>
  %derr0 = memref.alloca() : memref<1x2xf64>
  %dcam1 = memref.alloca() : memref<1x11xf64>
  %dpt1 = memref.alloca() : memref<1x3xf64>
  %dw1 = memref.alloca() : memref<1xf64>
  %dfeat1 = memref.alloca() : memref<1x2xf64>
  %derr1 = memref.alloca() : memref<1x2xf64>
  %camD = memref.cast %cam : memref<1x11xf64> to memref<?x11xf64>
  %ptD = memref.cast %pt : memref<1x3xf64> to memref<?x3xf64>
  %wD = memref.cast %w : memref<1xf64> to memref<?xf64>
  %featD = memref.cast %feat : memref<1x2xf64> to memref<?x2xf64>
  %errD = memref.cast %err : memref<1x2xf64> to memref<?x2xf64>
  %idxD = memref.cast %idx : memref<1xindex> to memref<?xindex>
  %dcam0D = memref.cast %dcam0 : memref<1x11xf64> to memref<?x11xf64>
  %dpt0D = memref.cast %dpt0 : memref<1x3xf64> to memref<?x3xf64>
  %dw0D = memref.cast %dw0 : memref<1xf64> to memref<?xf64>
  %dfeat0D = memref.cast %dfeat0 : memref<1x2xf64> to memref<?x2xf64>
  %derr0D = memref.cast %derr0 : memref<1x2xf64> to memref<?x2xf64>
  %dcam1D = memref.cast %dcam1 : memref<1x11xf64> to memref<?x11xf64>
  %dpt1D = memref.cast %dpt1 : memref<1x3xf64> to memref<?x3xf64>
  %dw1D = memref.cast %dw1 : memref<1xf64> to memref<?xf64>
  %dfeat1D = memref.cast %dfeat1 : memref<1x2xf64> to memref<?x2xf64>
  %derr1D = memref.cast %derr1 : memref<1x2xf64> to memref<?x2xf64>
  %p = memref.dim %J, %c0 : memref<?x2x15xf64>
  scf.for %o = %c0 to %p step %c1 {
    %ci = memref.load %CIDX[%o] : memref<?xindex>
    %pi = memref.load %PIDX[%o] : memref<?xindex>
    scf.for %j = %c0 to %c11 step %c1 {
      %v = memref.load %CAMS[%ci, %j] : memref<?x11xf64>
      memref.store %v, %cam[%c0, %j] : memref<1x11xf64>
      memref.store %zero, %dcam0[%c0, %j] : memref<1x11xf64>
      memref.store %zero, %dcam1[%c0, %j] : memref<1x11xf64>
    }
    scf.for %j = %c0 to %c3 step %c1 {
      %v = memref.load %PTS[%pi, %j] : memref<?x3xf64>
      memref.store %v, %pt[%c0, %j] : memref<1x3xf64>
      memref.store %zero, %dpt0[%c0, %j] : memref<1x3xf64>
      memref.store %zero, %dpt1[%c0, %j] : memref<1x3xf64>
    }
    %wo = memref.load %W[%o] : memref<?xf64>
    memref.store %wo, %w[%c0] : memref<1xf64>
    memref.store %zero, %dw0[%c0] : memref<1xf64>
    memref.store %zero, %dw1[%c0] : memref<1xf64>
    scf.for %j = %c0 to %c2 step %c1 {
      %v = memref.load %FEAT[%o, %j] : memref<?x2xf64>
      memref.store %v, %feat[%c0, %j] : memref<1x2xf64>
      memref.store %zero, %err[%c0, %j] : memref<1x2xf64>
      memref.store %zero, %derr0[%c0, %j] : memref<1x2xf64>
      memref.store %zero, %derr1[%c0, %j] : memref<1x2xf64>
    }
    memref.store %one, %derr0[%c0, %c0] : memref<1x2xf64>
    memref.store %one, %derr1[%c0, %c1] : memref<1x2xf64>
    rev.grad_call @ba_reproj(%camD, %ptD, %wD, %featD, %idxD, %idxD, %errD,
                             %dcam0D, %dpt0D, %dw0D, %dfeat0D, %derr0D,
                             %dcam1D, %dpt1D, %dw1D, %dfeat1D, %derr1D) seeds 2
        : (memref<?x11xf64>, memref<?x3xf64>, memref<?xf64>, memref<?x2xf64>, memref<?xindex>,
           memref<?xindex>, memref<?x2xf64>,
           memref<?x11xf64>, memref<?x3xf64>, memref<?xf64>, memref<?x2xf64>, memref<?x2xf64>,
           memref<?x11xf64>, memref<?x3xf64>, memref<?xf64>, memref<?x2xf64>, memref<?x2xf64>) -> ()
    scf.for %j = %c0 to %c11 step %c1 {
      %a = memref.load %dcam0[%c0, %j] : memref<1x11xf64>
      %b = memref.load %dcam1[%c0, %j] : memref<1x11xf64>
      memref.store %a, %J[%o, %c0, %j] : memref<?x2x15xf64>
      memref.store %b, %J[%o, %c1, %j] : memref<?x2x15xf64>
    }
    scf.for %j = %c0 to %c3 step %c1 {
      %a = memref.load %dpt0[%c0, %j] : memref<1x3xf64>
      %b = memref.load %dpt1[%c0, %j] : memref<1x3xf64>
      %k = arith.addi %j, %c11 : index
      memref.store %a, %J[%o, %c0, %k] : memref<?x2x15xf64>
      memref.store %b, %J[%o, %c1, %k] : memref<?x2x15xf64>
    }
    %a = memref.load %dw0[%c0] : memref<1xf64>
    %b = memref.load %dw1[%c0] : memref<1xf64>
    memref.store %a, %J[%o, %c0, %c14] : memref<?x2x15xf64>
    memref.store %b, %J[%o, %c1, %c14] : memref<?x2x15xf64>
    memref.store %zero, %werr[%c0] : memref<1xf64>
    memref.store %zero, %dww[%c0] : memref<1xf64>
    memref.store %one, %dwerr[%c0] : memref<1xf64>
    rev.grad_call @ba_werr(%wD, %werrD, %dwwD, %dwerrD)
        : (memref<?xf64>, memref<?xf64>, memref<?xf64>, memref<?xf64>) -> ()
    %dwo = memref.load %dww[%c0] : memref<1xf64>
    memref.store %dwo, %DWERR[%o] : memref<?xf64>
  }
  return
}
