/* A stand-in for the NVIDIA driver library libcuda.so.1, for the CUDA host
 * path tests (test_cuda_host.py) on machines without a GPU. It implements the
 * cu* calls that the MLIR CUDA runtime wrappers (libmlir_cuda_runtime.so) and
 * mlir_rev.cuda make, with host memory: allocations are malloc, copies are
 * memcpy, and a kernel launch runs nothing. Every call that matters is logged,
 * one line each, to the file named by $REV_FAKE_CUDA_LOG (stderr if unset):
 *   init | module_load <bytes> <first line with .target> | function <name>
 *   launch <name> grid <x> <y> <z> block <x> <y> <z> smem <bytes>
 *   alloc <bytes> | alloc_managed <bytes> | free | memcpy <bytes>
 * $REV_FAKE_CUDA_DEVICES sets the device count (default 1; 0: cuInit fails
 * with CUDA_ERROR_NO_DEVICE, as a driver on a machine without a GPU does).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef uint64_t CUdeviceptr;
typedef struct { int dummy; } *CUcontext, *CUmodule, *CUstream, *CUevent;
typedef struct { char name[256]; } *CUfunction;

static FILE *log_file(void) {
  static FILE *f;
  if (!f) {
    const char *p = getenv("REV_FAKE_CUDA_LOG");
    f = p ? fopen(p, "a") : stderr;
    if (!f) f = stderr;
  }
  return f;
}
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(log_file(), fmt, ap);
  va_end(ap);
  fputc('\n', log_file());
  fflush(log_file());
}
static int devices(void) {
  const char *d = getenv("REV_FAKE_CUDA_DEVICES");
  return d ? atoi(d) : 1;
}
static struct { int dummy; } the_ctx, a_module, a_stream, an_event;

CUresult cuInit(unsigned flags) {
  (void)flags;
  say("init");
  return devices() > 0 ? 0 : 100; /* CUDA_ERROR_NO_DEVICE */
}
CUresult cuDeviceGetCount(int *n) { *n = devices(); return 0; }
CUresult cuDeviceGet(CUdevice *d, int ordinal) { *d = ordinal; return 0; }
CUresult cuDeviceGetAttribute(int *v, int attr, CUdevice d) {
  (void)attr; (void)d; *v = 1; return 0;
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) {
  (void)d; *c = (CUcontext)&the_ctx; return 0;
}
CUresult cuCtxPushCurrent_v2(CUcontext c) { (void)c; return 0; }
CUresult cuCtxPopCurrent_v2(CUcontext *c) { if (c) *c = (CUcontext)&the_ctx; return 0; }
CUresult cuCtxSetCurrent(CUcontext c) { (void)c; return 0; }
CUresult cuCtxSynchronize(void) { say("ctx_synchronize"); return 0; }
CUresult cuGetErrorName(CUresult e, const char **s) {
  (void)e; *s = "CUDA_ERROR_FAKE"; return 0;
}

static void log_module(const void *image) {
  const char *text = image, *t = strstr(text, ".target");
  const char *end = t ? strchr(t, '\n') : NULL;
  say("module_load %zu %.*s", strlen(text), t && end ? (int)(end - t) : 0, t ? t : "");
}
CUresult cuModuleLoadData(CUmodule *m, const void *image) {
  log_module(image); *m = (CUmodule)&a_module; return 0;
}
CUresult cuModuleLoadDataEx(CUmodule *m, const void *image, unsigned n, void *opts, void **vals) {
  (void)n; (void)opts; (void)vals;
  log_module(image); *m = (CUmodule)&a_module; return 0;
}
CUresult cuModuleUnload(CUmodule m) { (void)m; return 0; }
CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name) {
  (void)m;
  *f = calloc(1, sizeof(**f));
  snprintf((*f)->name, sizeof((*f)->name), "%s", name);
  say("function %s", name);
  return 0;
}
CUresult cuFuncSetAttribute(CUfunction f, int attr, int v) { (void)f; (void)attr; (void)v; return 0; }
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned smem, CUstream s, void **params,
                        void **extra) {
  (void)s; (void)params; (void)extra;
  say("launch %s grid %u %u %u block %u %u %u smem %u", f->name, gx, gy, gz, bx, by, bz, smem);
  return 0;
}
CUresult cuLaunchKernelEx(const void *config, CUfunction f, void **params, void **extra) {
  (void)config; (void)params; (void)extra;
  say("launch_ex %s", f->name);
  return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
  *p = (CUdeviceptr)malloc(n ? n : 1); say("alloc %zu", n); return 0;
}
CUresult cuMemAllocManaged(CUdeviceptr *p, size_t n, unsigned flags) {
  (void)flags; *p = (CUdeviceptr)malloc(n ? n : 1); say("alloc_managed %zu", n); return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *)p); say("free"); return 0; }
CUresult cuMemcpy(CUdeviceptr d, CUdeviceptr s, size_t n) {
  memmove((void *)d, (void *)s, n); say("memcpy %zu", n); return 0;
}
CUresult cuMemcpyAsync(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) {
  (void)st; memmove((void *)d, (void *)s, n); say("memcpy %zu", n); return 0;
}
CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, CUstream s) {
  (void)s; for (size_t i = 0; i < n; i++) ((unsigned *)d)[i] = v; return 0;
}
CUresult cuMemsetD16Async(CUdeviceptr d, unsigned short v, size_t n, CUstream s) {
  (void)s; for (size_t i = 0; i < n; i++) ((unsigned short *)d)[i] = v; return 0;
}
CUresult cuMemHostRegister_v2(void *p, size_t n, unsigned f) { (void)p; (void)n; (void)f; return 0; }
CUresult cuMemHostUnregister(void *p) { (void)p; return 0; }
CUresult cuStreamCreate(CUstream *s, unsigned f) { (void)f; *s = (CUstream)&a_stream; return 0; }
CUresult cuStreamDestroy_v2(CUstream s) { (void)s; return 0; }
CUresult cuStreamSynchronize(CUstream s) { (void)s; return 0; }
CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned f) { (void)s; (void)e; (void)f; return 0; }
CUresult cuEventCreate(CUevent *e, unsigned f) { (void)f; *e = (CUevent)&an_event; return 0; }
CUresult cuEventDestroy_v2(CUevent e) { (void)e; return 0; }
CUresult cuEventRecord(CUevent e, CUstream s) { (void)e; (void)s; return 0; }
CUresult cuEventSynchronize(CUevent e) { (void)e; return 0; }
CUresult cuTensorMapEncodeTiled(void *m, ...) { (void)m; return 1; }
