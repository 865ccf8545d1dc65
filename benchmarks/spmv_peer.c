/* The hand-written peer of benchmarks/parallel_gradients.py's sparse products:
 * the same CSR and COO programs and their gradients with respect to the values
 * and x, written in C with OpenMP as one would by hand (gcc -O3 -march=native
 * -fopenmp; built by the script into a temporary directory, loaded in a child
 * process with ctypes).
 *
 * On `threads` threads each thread takes a contiguous block of rows (CSR) or
 * nonzeros (COO); every scatter into an array that other threads also hit
 * (xbar in both gradients, y in the COO product) goes, on thread t > 0, into a
 * private copy zeroed by that thread, and a parallel loop adds the copies in
 * at the end: the strategy rev-to-openmp generates (docs/parallel.md), so the
 * two measure the same algorithm, one compiled by rev and one by hand. On one
 * thread there is no copy: the plain sequential loops.
 */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* [lo, hi) of block t of n split into `threads` contiguous blocks */
static void block(int64_t n, int threads, int t, int64_t *lo, int64_t *hi) {
  int64_t size = (n + threads - 1) / threads;
  *lo = t * size < n ? t * size : n;
  *hi = *lo + size < n ? *lo + size : n;
}

/* where thread t scatters: the target itself on thread 0, else its own
 * copy (the t-th of the threads - 1 in `copies`, each n long), zeroed here */
static double *thread_target(double *target, double *copies, int64_t n, int t) {
  if (t == 0)
    return target;
  double *dst = copies + (int64_t)(t - 1) * n;
  memset(dst, 0, sizeof(double) * (size_t)n);
  return dst;
}

/* dst[i] += copies[c][i] over the threads - 1 copies (each n long) */
static void add_copies(double *dst, const double *copies, int64_t n, int threads) {
#pragma omp for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    double s = dst[i];
    for (int c = 0; c < threads - 1; c++)
      s += copies[(int64_t)c * n + i];
    dst[i] = s;
  }
}

/* y[r] += sum_k vals[k] * x[col[k]] over the rows r (parallel over rows: no
 * shared writes) */
void csr_forward(int64_t m, const int64_t *rowptr, const int64_t *col, const double *vals,
                 const double *x, double *y, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < m; r++) {
    double s = y[r];
    for (int64_t k = rowptr[r]; k < rowptr[r + 1]; k++)
      s += vals[k] * x[col[k]];
    y[r] = s;
  }
}

/* valsbar[k] += x[col[k]] * ybar[r]; xbar[col[k]] += vals[k] * ybar[r] */
void csr_gradient(int64_t m, int64_t n, const int64_t *rowptr, const int64_t *col,
                  const double *vals, const double *x, const double *ybar, double *valsbar,
                  double *xbar, int threads) {
  double *copies = threads > 1 ? malloc(sizeof(double) * (size_t)n * (threads - 1)) : NULL;
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num();
    double *dst = thread_target(xbar, copies, n, t);
    int64_t lo, hi;
    block(m, threads, t, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
      double yb = ybar[r];
      for (int64_t k = rowptr[r]; k < rowptr[r + 1]; k++) {
        int64_t j = col[k];
        valsbar[k] += x[j] * yb;
        dst[j] += vals[k] * yb;
      }
    }
#pragma omp barrier
    if (threads > 1)
      add_copies(xbar, copies, n, threads);
  }
  free(copies);
}

/* y[row[k]] += vals[k] * x[col[k]] over the nonzeros */
void coo_forward(int64_t nnz, int64_t m, const int64_t *row, const int64_t *col,
                 const double *vals, const double *x, double *y, int threads) {
  double *copies = threads > 1 ? malloc(sizeof(double) * (size_t)m * (threads - 1)) : NULL;
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num();
    double *dst = thread_target(y, copies, m, t);
    int64_t lo, hi;
    block(nnz, threads, t, &lo, &hi);
    for (int64_t k = lo; k < hi; k++)
      dst[row[k]] += vals[k] * x[col[k]];
#pragma omp barrier
    if (threads > 1)
      add_copies(y, copies, m, threads);
  }
  free(copies);
}

/* valsbar[k] += x[col[k]] * ybar[row[k]]; xbar[col[k]] += vals[k] * ybar[row[k]] */
void coo_gradient(int64_t nnz, int64_t n, const int64_t *row, const int64_t *col,
                  const double *vals, const double *x, const double *ybar, double *valsbar,
                  double *xbar, int threads) {
  double *copies = threads > 1 ? malloc(sizeof(double) * (size_t)n * (threads - 1)) : NULL;
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num();
    double *dst = thread_target(xbar, copies, n, t);
    int64_t lo, hi;
    block(nnz, threads, t, &lo, &hi);
    for (int64_t k = lo; k < hi; k++) {
      int64_t j = col[k];
      double yb = ybar[row[k]];
      valsbar[k] += x[j] * yb;
      dst[j] += vals[k] * yb;
    }
#pragma omp barrier
    if (threads > 1)
      add_copies(xbar, copies, n, threads);
  }
  free(copies);
}
