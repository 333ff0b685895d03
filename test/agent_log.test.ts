// `tasklens dap --log FILE`: the agent of a launched program writes its own log to FILE.agent,
// and the program does not see the variable that asks for it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';

eachPython('agent log', (py) => {
  it('--log FILE makes the agent log to FILE.agent what it read and sent', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-log-'));
    try {
      const log = path.join(folder, 'dap.log');
      await withAdapter(async (h) => {
        const program = fixture('basic_add.py');
        const stop = await h.launchToStop(py, program, [5]);
        const since = h.mark();
        await h.dc.continueRequest({ threadId: stop.body.threadId });
        assert.equal(await h.exitCode(since), 7);
      }, { log });
      const text = fs.readFileSync(`${log}.agent`, 'utf8');
      assert.match(text, /^\d{4}-\d\d-\d\dT[\d:.]+Z \d+ \[MainThread\] agent started: Python 3\.\d+/m);
      assert.match(text, /^\S+ \d+ \[[^\]]+\] -> \{"type": "event", "event": "hello"/m);
      assert.match(text, /^\S+ \d+ \[[^\]]+\] <- \{.*"command":"setBreakpoints"/m);
      assert.match(text, /^\S+ \d+ \[[^\]]+\] -> \{"type": "event", "event": "stopped", "body": \{"reason": "breakpoint"/m);
      assert.match(text, /^\S+ \d+ \[[^\]]+\] -> \{"type": "event", "event": "programExited", "body": \{"exitCode": 7\}/m);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
