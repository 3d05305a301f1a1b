/**
 * `shafaf … | head -1`: once the reader of stdout has gone, the command has nothing left to do.
 * Writing to the closed pipe fails with EPIPE; that is a normal end (exit status 0, nothing on
 * stderr), not an uncaught exception. Other stdout errors still throw.
 *
 * @example
 * endOnClosedPipe(); // first thing in an entry point
 */
export function endOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });
}
