// Tens of MB written to stdout in one call reach the client whole, in bounded output events,
// while requests are still answered; the adapter reads the pipe no faster than the client reads.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { OUTPUT_EVENT_LIMIT } from '../src/session/programOutput';
import { withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';

const PROGRAM = fixture('huge_output.py');
const SIZE = 30_000_000;
const AFTER_FLOOD = fs.readFileSync(PROGRAM, 'utf8').split('\n').findIndex((l) => l.endsWith('# after-flood')) + 1;

function rssMb(pid: number | undefined): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

eachPython('huge output', (py) => {
  for (const tcp of [false, true]) {
    it(`30 MB on stdout in one write arrives whole in bounded events (${tcp ? 'TCP' : 'stdio'})`, async () => {
      await withAdapter(async (h) => {
        const since = h.mark();
        let answered = 0;
        let rss = 0;
        const probe = setInterval(() => {
          rss = Math.max(rss, rssMb(h.adapter.pid));
          void h.dc.threadsRequest().then(() => answered++, () => undefined);
        }, 100);
        try {
          await h.launchToStop(py, PROGRAM, [AFTER_FLOOD], { args: [String(SIZE)] });
        } finally {
          clearInterval(probe);
        }
        // The stop can overtake the flood's last chunks, which the adapter reads from the pipe
        // no faster than the client takes them: what is asked here is that all of it arrives.
        const stdoutEvents = () => h.history.slice(since).filter((e): e is DebugProtocol.OutputEvent => e.event === 'output' && (e as DebugProtocol.OutputEvent).body.category === 'stdout');
        const expected = SIZE - (SIZE % 100);
        for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
          if (stdoutEvents().reduce((n, e) => n + e.body.output.length, 0) >= expected) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const events = stdoutEvents();
        const text = events.map((e) => e.body.output).join('');
        assert.equal(text.length, expected);
        assert.ok(text.endsWith('abcdefghi\n'));
        assert.ok(events.every((e) => e.body.output.length <= OUTPUT_EVENT_LIMIT), 'every event is bounded');
        assert.match(h.output('stderr', since), /flood done/);
        const stop = h.history.slice(since).find((e) => e.event === 'stopped') as DebugProtocol.StoppedEvent;
        const next = h.mark();
        await h.dc.continueRequest({ threadId: stop.body.threadId! });
        assert.equal(await h.exitCode(next), 5);
        console.log(`[${py.label}] ${events.length} stdout events, threads answered ${answered} times during the flood, adapter RSS peak ${Math.round(rss)} MB`);
      }, { tcp });
    });
  }
});
