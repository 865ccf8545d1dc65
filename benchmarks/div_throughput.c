/* The divider's throughput on this machine: ns per float64 division when
 * independent divisions are issued back to back (8 chains, so latency
 * does not count), as scalar (vdivsd), 4-lane (vdivpd ymm) and, where the
 * CPU has AVX-512, 8-lane (vdivpd zmm) instructions. Built and run by
 * benchmarks/division_bound.py (cc -O2 -march=native). */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

#define CHAINS 8
static volatile double sink;

static double scalar_div(long n) {
  double a[CHAINS], d = 1.0000001;
  for (int i = 0; i < CHAINS; i++) a[i] = 1.0 + i * 1e-3;
  double t0 = now();
  for (long k = 0; k < n; k++)
    for (int i = 0; i < CHAINS; i++) a[i] = a[i] / d;
  double t = now() - t0;
  for (int i = 0; i < CHAINS; i++) sink += a[i];
  return t / ((double)n * CHAINS);
}

static double ymm_div(long n) {
  __m256d a[CHAINS], d = _mm256_set1_pd(1.0000001);
  for (int i = 0; i < CHAINS; i++) a[i] = _mm256_set1_pd(1.0 + i * 1e-3);
  double t0 = now();
  for (long k = 0; k < n; k++)
    for (int i = 0; i < CHAINS; i++) a[i] = _mm256_div_pd(a[i], d);
  double t = now() - t0;
  for (int i = 0; i < CHAINS; i++) sink += _mm256_cvtsd_f64(a[i]);
  return t / ((double)n * CHAINS * 4);
}

#ifdef __AVX512F__
static double zmm_div(long n) {
  __m512d a[CHAINS], d = _mm512_set1_pd(1.0000001);
  for (int i = 0; i < CHAINS; i++) a[i] = _mm512_set1_pd(1.0 + i * 1e-3);
  double t0 = now();
  for (long k = 0; k < n; k++)
    for (int i = 0; i < CHAINS; i++) a[i] = _mm512_div_pd(a[i], d);
  double t = now() - t0;
  for (int i = 0; i < CHAINS; i++) sink += _mm512_cvtsd_f64(a[i]);
  return t / ((double)n * CHAINS * 8);
}
#endif

/* One line per width: "<name> <ns per lane-division>", best of `rounds`. */
int main(int argc, char **argv) {
  long n = 5000000;
  int rounds = argc > 1 ? atoi(argv[1]) : 5;
  double best[3] = {1e9, 1e9, 1e9};
  for (int r = 0; r < rounds; r++) {
    double s = scalar_div(n), y = ymm_div(n);
    if (s < best[0]) best[0] = s;
    if (y < best[1]) best[1] = y;
#ifdef __AVX512F__
    double z = zmm_div(n);
    if (z < best[2]) best[2] = z;
#endif
  }
  printf("scalar %.4f\n", best[0] * 1e9);
  printf("ymm %.4f\n", best[1] * 1e9);
#ifdef __AVX512F__
  printf("zmm %.4f\n", best[2] * 1e9);
#endif
  return 0;
}
