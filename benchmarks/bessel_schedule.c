/* The batched Bessel J2 gradient (benchmarks/besselj2_batched.mlir's series,
 * exact IEEE divisions, no contraction) written by hand twice with 4-lane
 * vectors, to measure what the order of the work costs (division_bound.py):
 *
 *   bessel_grad_plain:     per 4 elements, the forward sweep (29 divisions,
 *                          independent of each other, then the running term)
 *                          and then the backward sweep (a serial chain of
 *                          multiply-adds): the divider idles during the
 *                          backward, the multipliers wait during the forward;
 *   bessel_grad_pipelined: software-pipelined: each step of the loop runs the
 *                          forward of the next 4 elements interleaved, term by
 *                          term, with the backward of the current 4, so the
 *                          divisions overlap the backward's chain.
 *
 * Both compute Xb[i] += dJ2/dx (X[i]) * Yb[i] with the same operations per
 * element (bit for bit the same results; rev's gradient orders its sums
 * differently: rounding-level differences); n must be a
 * multiple of 4 and at least 8. Built as a shared library:
 *   cc -O3 -march=native -ffp-contract=off -shared -fPIC bessel_schedule.c
 * (GCC: the term loops are fully unrolled by the pragmas).
 */
#define TERMS 29 /* terms after the first: k = 1 .. 29 */

typedef double v4 __attribute__((vector_size(32), aligned(8)));

/* d_k = h2 / (-k (k + 2)) = -(h2 / (k (k + 2))), k = 1 .. 29; and d(d_k)/d(h2).
 * Compile-time constants, so that the compiler may turn the division by -8
 * into an exact multiplication by -0.125, as LLVM does in rev's code. */
#define DEN(k) (-(double)(k) * ((k) + 2))
#define ROW(f) f(1), f(2), f(3), f(4), f(5), f(6), f(7), f(8), f(9), f(10), f(11), f(12), \
               f(13), f(14), f(15), f(16), f(17), f(18), f(19), f(20), f(21), f(22), f(23), \
               f(24), f(25), f(26), f(27), f(28), f(29)
#define RDEN(k) (1.0 / DEN(k))
static const double neg_den[TERMS + 1] = {0.0, ROW(DEN)};
static const double neg_rden[TERMS + 1] = {0.0, ROW(RDEN)};

/* forward of 4 elements: h, d[1..29], t[0..28] (t_k = t_{k-1} d_k) */
#define FORWARD(x, h, d, t)                                                  \
  do {                                                                       \
    v4 h2_;                                                                  \
    h = (x) * 0.5;                                                           \
    h2_ = h * h;                                                             \
    t[0] = h2_ * 0.5;                                                        \
    _Pragma("GCC unroll 32") for (int k = 1; k <= TERMS; k++) {              \
      d[k] = h2_ / neg_den[k];                                               \
      if (k < TERMS)                                                         \
        t[k] = t[k - 1] * d[k];                                              \
    }                                                                        \
  } while (0)

/* one backward term k of 4 elements: the adjoint of t_k = t_{k-1} d_k and of
 * s += t_k (sbar = yb), accumulating dh2 */
#define BACKWARD_TERM(k, yb, tb, h2b, d, t)                                  \
  do {                                                                       \
    v4 db_ = tb * t[(k) - 1];                                                \
    tb = yb + tb * d[k];                                                     \
    h2b = h2b + db_ * neg_rden[k];                                           \
  } while (0)

#define BACKWARD_END(h, yb, tb, h2b, xb)                                     \
  do {                                                                       \
    h2b = h2b + tb * 0.5;                                                    \
    xb = ((h + h) * h2b) * 0.5;                                              \
  } while (0)

void bessel_grad_plain(long n, const double *restrict X, const double *restrict Yb,
                       double *restrict Xb) {
  for (long i = 0; i < n; i += 4) {
    v4 h, d[TERMS + 1], t[TERMS], x = *(const v4 *)&X[i];
    FORWARD(x, h, d, t);
    v4 yb = *(const v4 *)&Yb[i], tb = yb, h2b = {0, 0, 0, 0}, xb;
    _Pragma("GCC unroll 32") for (int k = TERMS; k >= 1; k--)
        BACKWARD_TERM(k, yb, tb, h2b, d, t);
    BACKWARD_END(h, yb, tb, h2b, xb);
    *(v4 *)&Xb[i] += xb;
  }
}

void bessel_grad_pipelined(long n, const double *restrict X, const double *restrict Yb,
                           double *restrict Xb) {
  v4 hc, dc[TERMS + 1], tc[TERMS]; /* the current 4 elements' forward values */
  v4 x0 = *(const v4 *)&X[0];
  FORWARD(x0, hc, dc, tc);
  long i = 0;
  for (; i + 4 < n; i += 4) {
    /* the next 4 elements' forward, term by term, beside the current 4's
     * backward (term TERMS + 1 - k) */
    v4 x = *(const v4 *)&X[i + 4];
    v4 hn = x * 0.5, h2n = hn * hn, dn[TERMS + 1], tn[TERMS];
    tn[0] = h2n * 0.5;
    v4 yb = *(const v4 *)&Yb[i], tb = yb, h2b = {0, 0, 0, 0}, xb;
    _Pragma("GCC unroll 32") for (int k = 1; k <= TERMS; k++) {
      dn[k] = h2n / neg_den[k];
      BACKWARD_TERM(TERMS + 1 - k, yb, tb, h2b, dc, tc);
      if (k < TERMS)
        tn[k] = tn[k - 1] * dn[k];
    }
    BACKWARD_END(hc, yb, tb, h2b, xb);
    *(v4 *)&Xb[i] += xb;
    hc = hn;
    _Pragma("GCC unroll 32") for (int k = 1; k <= TERMS; k++) dc[k] = dn[k];
    _Pragma("GCC unroll 32") for (int k = 0; k < TERMS; k++) tc[k] = tn[k];
  }
  v4 yb = *(const v4 *)&Yb[i], tb = yb, h2b = {0, 0, 0, 0}, xb;
  _Pragma("GCC unroll 32") for (int k = TERMS; k >= 1; k--)
      BACKWARD_TERM(k, yb, tb, h2b, dc, tc);
  BACKWARD_END(hc, yb, tb, h2b, xb);
  *(v4 *)&Xb[i] += xb;
}
