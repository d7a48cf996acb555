/**
 * Turns off onnxruntime's telemetry before its environment is created (at the first session of the
 * process). When it is on, creating that environment runs GCC std::regex matches over the whole
 * /proc/self/cmdline, and GCC's regex recurses once per character: a long command line
 * (`annamalai analyze recordings/*.ogg` with ≈200 paths of 65 characters) overflows a worker
 * thread's 4 MB native stack and the process dies of SIGSEGV before printing anything. The command
 * line is the process's own, so neither a Worker's `argv` option nor a bigger `stackSizeMb` removes
 * it (64 MB only moved the limit to a few thousand paths; the kernel allows 2 MB of arguments).
 *
 * onnxruntime reads the variable with getenv(), i.e. the process's real environment: only a write to
 * process.env on the main thread reaches it (a worker's process.env is a copy), so the pool calls
 * this before it starts a worker, and onnx.ts before the main thread opens a session (parity,
 * diagnostics). Forced rather than defaulted: with telemetry on the crash comes back.
 */
export function disableOnnxTelemetry(): void {
  process.env.ORT_DISABLE_TELEMETRY = '1';
}
