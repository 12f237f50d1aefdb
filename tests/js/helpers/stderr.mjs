/** Runs `body(written)` with what goes to stderr collected in `written` instead. */
export async function withStderr(body) {
  const written = [];
  const write = process.stderr.write;
  process.stderr.write = (text) => (written.push(String(text)), true);
  try {
    await body(written);
  } finally {
    process.stderr.write = write;
  }
}
