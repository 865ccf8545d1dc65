/* The reverse-computing limit of the coupled recurrence's gradient
 * (benchmarks/coupled_recurrence.py): the same algorithm as rev's
 * @coupled_grad written by hand in C, nothing stored. The forward sweep runs
 *   y += sin(z) x[t];  z += cos(y) x[t]      t = 0 .. n-1
 * and the backward sweep undoes each step while it accumulates the
 * adjoints (y_bar, z_bar, x_bar) from the seeds (yb, zb): per step the sine
 * and cosine of y and of z, as rev's gradient computes them.
 * out: {y_bar, z_bar} of the inputs y, z. x_bar is added into xb. */
#include <math.h>

void coupled_grad(long n, double y, double z, const double *x, double yb, double zb,
                  double *xb, double *out) {
  for (long t = 0; t < n; ++t) {
    y += sin(z) * x[t];
    z += cos(y) * x[t];
  }
  for (long t = n - 1; t >= 0; --t) {
    double xt = x[t];
    /* z = z' + cos(y) xt: undo it, then its adjoint */
    double sy = sin(y), cy = cos(y);
    z -= cy * xt;
    yb -= sy * xt * zb;
    xb[t] += cy * zb;
    /* y = y' + sin(z) xt */
    double sz = sin(z), cz = cos(z);
    y -= sz * xt;
    zb += cz * xt * yb;
    xb[t] += sz * yb;
  }
  out[0] = yb;
  out[1] = zb;
}
