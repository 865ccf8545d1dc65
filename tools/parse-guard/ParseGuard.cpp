//===- ParseGuard.cpp - parse untrusted MLIR text without crashing --------===//
#include "tools/parse-guard/ParseGuard.h"

#include "mlir/IR/Block.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/ToolUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mlir;

namespace {
/// The child's exit status when the parser it runs hits a fatal signal (an
/// assertion's abort, a segfault): the probe ends by a normal exit, so that
/// no process of the tool, not even this throwaway child, dies by a signal
/// or leaves a core file. The parent reads any non-zero status as "the
/// parser crashed".
constexpr int kParserCrashedStatus = 70;

extern "C" void exitOnFatalSignal(int) { ::_exit(kParserCrashedStatus); }

/// The child: parse every chunk, write diagnostics unbuffered (so that those
/// printed before an abort reach the parent), exit without running any
/// destructor or atexit handler of the parent's state.
[[noreturn]] void runChild(int out, llvm::MemoryBufferRef buffer,
                           const DialectRegistry &registry,
                           bool allowUnregistered, StringRef splitMarker) {
  // Fatal signals end the child with kParserCrashedStatus (replacing the
  // stack-dump handlers inherited from the parent).
  struct sigaction action = {};
  action.sa_handler = exitOnFatalSignal;
  ::sigemptyset(&action.sa_mask);
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE})
    ::sigaction(sig, &action, nullptr);
  // Assertion messages and stack dumps of a crashing parser go nowhere.
  int devnull = ::open("/dev/null", O_WRONLY);
  if (devnull >= 0) {
    ::dup2(devnull, STDERR_FILENO);
    ::dup2(devnull, STDOUT_FILENO);
  }
  {
    llvm::raw_fd_ostream os(out, /*shouldClose=*/false, /*unbuffered=*/true);
    auto parseChunk = [&](std::unique_ptr<llvm::MemoryBuffer> chunk,
                          llvm::raw_ostream &) -> LogicalResult {
      MLIRContext context(registry, MLIRContext::Threading::DISABLED);
      context.allowUnregisteredDialects(allowUnregistered);
      llvm::SourceMgr sourceMgr;
      sourceMgr.AddNewSourceBuffer(std::move(chunk), llvm::SMLoc());
      SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
      Block block;
      ParserConfig config(&context, /*verifyAfterParse=*/false);
      (void)parseSourceFile(sourceMgr, &block, config);
      return success();
    };
    auto copy = llvm::MemoryBuffer::getMemBufferCopy(
        buffer.getBuffer(), buffer.getBufferIdentifier());
    llvm::raw_null_ostream ignored;
    if (splitMarker.empty())
      (void)parseChunk(std::move(copy), ignored);
    else
      (void)splitAndProcessBuffer(std::move(copy), parseChunk, ignored,
                                  splitMarker, splitMarker);
  }
  ::_exit(0);
}
} // namespace

FailureOr<rev::ParseProbe>
rev::probeParse(llvm::MemoryBufferRef buffer, const DialectRegistry &registry,
                bool allowUnregisteredDialects, StringRef splitMarker) {
  int fds[2];
  if (::pipe(fds) != 0)
    return failure();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return failure();
  }
  if (pid == 0) {
    ::close(fds[0]);
    runChild(fds[1], buffer, registry, allowUnregisteredDialects, splitMarker);
  }
  ::close(fds[1]);
  ParseProbe probe;
  char chunk[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], chunk, sizeof(chunk));
    if (n > 0) {
      probe.diagnostics.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    break;
  }
  ::close(fds[0]);
  if (!probe.diagnostics.empty() && probe.diagnostics.back() != '\n')
    probe.diagnostics += '\n';
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return failure();
  }
  probe.crashed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  return probe;
}

std::string rev::parserCrashMessage(const ParseProbe &probe) {
  return probe.diagnostics.empty()
             ? "input rejected: the MLIR parser cannot handle it (an upstream parser bug)"
             : "input rejected: the MLIR parser cannot recover from the error above (an "
               "upstream parser bug: a region argument resolved a forward reference from "
               "outside the op that failed); fix that error";
}
