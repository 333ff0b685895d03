// A node:test reporter beside `spec` in `npm test`: node's --test-timeout bounds each test
// file's whole run as well as each test, so a file that grows past it fails however healthy its
// tests are. This prints the slowest files and warns of any past half the limit, so a file is
// split before it reaches the limit on a slower machine.
import * as path from 'node:path';

const limitMs = Number(process.env.TASKLENS_TEST_TIMEOUT_MS || 300000);

export default async function* fileTimes(source) {
  const times = [];
  for await (const event of source) {
    // The runner reports each file as a test named after the file's own path.
    const data = event.data;
    if (event.type === 'test:complete' && data.file && data.name === data.file) {
      times.push([path.relative(process.cwd(), data.file), data.details?.duration_ms ?? 0]);
    }
  }
  times.sort((a, b) => b[1] - a[1]);
  const lines = ['', `slowest test files (each is stopped at ${Math.round(limitMs / 1000)} s):`];
  for (const [file, ms] of times.slice(0, 6)) lines.push(`  ${(ms / 1000).toFixed(0).padStart(5)} s  ${file}`);
  for (const [file, ms] of times) {
    if (ms > limitMs / 2) lines.push(`warning: ${file} took ${(ms / 1000).toFixed(0)} s, past half the limit: split it`);
  }
  yield lines.join('\n') + '\n';
}
