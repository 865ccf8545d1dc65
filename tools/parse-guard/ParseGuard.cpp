//===- ParseGuard.cpp - parse untrusted MLIR text without crashing --------===//
#include "tools/parse-guard/ParseGuard.h"

#include "mlir/IR/Block.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/ToolUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
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
/// The same when the parse finished and MLIR's verifier crashed (some
/// upstream verifiers index a region's block arguments before the parent's
/// region verifier has checked that they exist: scf.reduce.return).
constexpr int kVerifierCrashedStatus = 71;

volatile sig_atomic_t verifying = 0;

extern "C" void exitOnFatalSignal(int) {
  ::_exit(verifying ? kVerifierCrashedStatus : kParserCrashedStatus);
}

/// "file:line:col" of a file location, else the printed location.
std::string describe(Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + Twine(file.getLine()) + ":" +
            Twine(file.getColumn()))
        .str();
  std::string text;
  llvm::raw_string_ostream os(text);
  loc.print(os);
  return text;
}

/// After a parse that did not crash. `locate` false: verifies the block as
/// the tool will (diagnostics dropped: only a crash matters). `locate` true
/// (run only after that crashed): verifies the ops one at a time, enclosing
/// ops first (each op's own and region invariants, not its nested ops), so
/// that the first op that does not verify is reported with its location
/// before a nested verifier can crash on it, and writes each op's location
/// to `where` before its check (the last one names the op a crash happened
/// in).
void verifyInChild(Block &block, MLIRContext &context, int where, bool locate) {
  verifying = 1;
  if (!locate) {
    ScopedDiagnosticHandler quiet(&context, [](Diagnostic &) { return success(); });
    for (Operation &op : block)
      (void)verify(&op);
  } else {
    block.walk<WalkOrder::PreOrder>([&](Operation *op) {
      std::string line = describe(op->getLoc()) + "\n";
      (void)!::write(where, line.data(), line.size());
      return failed(verify(op, /*verifyRecursively=*/false)) ? WalkResult::interrupt()
                                                            : WalkResult::advance();
    });
  }
  verifying = 0;
}

/// The child: parse every chunk, write diagnostics unbuffered (so that those
/// printed before an abort reach the parent), exit without running any
/// destructor or atexit handler of the parent's state.
[[noreturn]] void runChild(int out, int where, bool locate, llvm::MemoryBufferRef buffer,
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
      if (succeeded(parseSourceFile(sourceMgr, &block, config)))
        verifyInChild(block, context, where, locate);
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

namespace {
/// One probe child (see runChild); `locate`: the second, locating pass.
FailureOr<rev::ParseProbe> runProbe(llvm::MemoryBufferRef buffer,
                                    const DialectRegistry &registry,
                                    bool allowUnregisteredDialects, StringRef splitMarker,
                                    bool locate) {
  // fds: the child's diagnostics; where: the location of each op it verifies.
  int fds[2], where[2];
  if (::pipe(fds) != 0)
    return failure();
  if (::pipe(where) != 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return failure();
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {fds[0], fds[1], where[0], where[1]})
      ::close(fd);
    return failure();
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::close(where[0]);
    runChild(fds[1], where[1], locate, buffer, registry, allowUnregisteredDialects,
             splitMarker);
  }
  ::close(fds[1]);
  ::close(where[1]);
  rev::ParseProbe probe;
  // Both pipes are drained together (poll), so that neither fills up while
  // the child writes to the other.
  std::string locations;
  struct pollfd polled[2] = {{fds[0], POLLIN, 0}, {where[0], POLLIN, 0}};
  std::string *sinks[2] = {&probe.diagnostics, &locations};
  int open = 2;
  char chunk[4096];
  while (open > 0) {
    if (::poll(polled, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (polled[i].fd < 0 || !(polled[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = ::read(polled[i].fd, chunk, sizeof(chunk));
      if (n > 0) {
        sinks[i]->append(chunk, static_cast<size_t>(n));
        // keep only the last line of the locations
        if (i == 1 && locations.size() > 8192)
          locations.erase(0, locations.size() - 4096);
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      ::close(polled[i].fd);
      polled[i].fd = -1;
      --open;
    }
  }
  for (auto &p : polled)
    if (p.fd >= 0)
      ::close(p.fd);
  if (!probe.diagnostics.empty() && probe.diagnostics.back() != '\n')
    probe.diagnostics += '\n';
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return failure();
  }
  probe.crashed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  probe.inVerifier = WIFEXITED(status) && WEXITSTATUS(status) == kVerifierCrashedStatus;
  if (probe.inVerifier) {
    StringRef lines = StringRef(locations).rtrim('\n');
    probe.crashLocation = lines.substr(lines.rfind('\n') + 1).str();
  }
  return probe;
}
} // namespace

FailureOr<rev::ParseProbe>
rev::probeParse(llvm::MemoryBufferRef buffer, const DialectRegistry &registry,
                bool allowUnregisteredDialects, StringRef splitMarker) {
  FailureOr<ParseProbe> probe =
      runProbe(buffer, registry, allowUnregisteredDialects, splitMarker, /*locate=*/false);
  if (failed(probe) || !probe->inVerifier)
    return probe;
  // The verifier crashed: a second child finds the first op that does not
  // verify (or the one it crashes on).
  FailureOr<ParseProbe> located =
      runProbe(buffer, registry, allowUnregisteredDialects, splitMarker, /*locate=*/true);
  if (failed(located))
    return probe;
  located->crashed = located->inVerifier = true;
  return located;
}

std::string rev::parserCrashMessage(const ParseProbe &probe) {
  if (probe.inVerifier) {
    if (!probe.diagnostics.empty())
      return "input rejected: MLIR's verifier crashes on this input (an upstream verifier "
             "bug) instead of reporting the error above; fix that error";
    if (!probe.crashLocation.empty())
      return "input rejected: MLIR's verifier crashes on the op at " + probe.crashLocation +
             " (an upstream verifier bug)";
    return "input rejected: MLIR's verifier crashes on this input (an upstream verifier bug)";
  }
  return probe.diagnostics.empty()
             ? "input rejected: the MLIR parser cannot handle it (an upstream parser bug)"
             : "input rejected: the MLIR parser cannot recover from the error above (an "
               "upstream parser bug: a region argument resolved a forward reference from "
               "outside the op that failed); fix that error";
}
