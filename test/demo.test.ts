// `tasklens demo`, the README's first command: the printed session runs to the end on every
// interpreter, stops in a worker task, and stepping over an `await` stays in that task.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { eachPython, it } from './support/matrix';
import { ROOT } from './support/paths';

const run = promisify(execFile);

eachPython('demo', (py) => {
  it('runs the bundled example under the debugger from start to exit', async () => {
    const { stdout } = await run(path.join(ROOT, 'bin', 'tasklens'), ['demo', '--python', py.path], { timeout: 40_000 });
    assert.match(stdout, /\* stopped \(breakpoint\) in thread "Task: worker \(worker-0\)"/);
    assert.match(stdout, /order = Order\(order_id=0, item='apple', quantity=1\)/);
    assert.match(stdout, /> evaluate: unit \* order\.quantity\n {2}= 3\n/);
    const steps = stdout.split('\n').filter((l) => l.startsWith('> next') || l.startsWith('> stepOut'));
    assert.ok(steps.length >= 3, stdout);
    for (const step of steps) assert.match(step, /\("Task: worker \(worker-0\)"\)$/, 'every step stays in worker-0');
    const lastStep = steps[steps.length - 1];
    assert.match(lastStep, /orders\.py:27 /, 'stepping over the await ends at the next line of the same coroutine');
    assert.match(stdout, /program stdout\| total revenue: 88\n/);
    assert.match(stdout, /\* the program exited with code 0/);
  });
});
