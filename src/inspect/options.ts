// The options of `tasklens ps`, `pstree` and `dump`, and a parser for their everyday form that
// runs before anything else is loaded: `tasklens ps PID` is often run in a loop or by scripts,
// and the full command-line parser would cost it a tenth of its time. Anything this parser does not
// recognise (help, a bad value, `--opt=value`) goes to the full parser, which has the last word.

export { DEFAULT_MAX_FRAMES, DEFAULT_MAX_TASKS } from '../procmem/limits';
import { DEFAULT_MAX_FRAMES, DEFAULT_MAX_TASKS } from '../procmem/limits';

export type SourceChoice = 'auto' | 'memory' | 'agent';
export const SOURCE_CHOICES: readonly SourceChoice[] = ['auto', 'memory', 'agent'];

export interface InspectOptions {
  json?: boolean;
  /** Who answers: the program's agent, its memory, or the agent when there is one (default). */
  source?: SourceChoice;
  maxTasks: number;
  maxFrames: number;
  /** The line width of the text output (`--width`); otherwise the terminal's, or unlimited. */
  width?: number;
  /** `--wide`: never shorten or leave out anything. */
  wide?: boolean;
  /** `dump --locals`: the simple locals of every frame. */
  locals?: boolean;
}

/** Narrower than this, no table row or tree line can show a task and its state. */
export const MIN_WIDTH = 40;

export interface InspectCall {
  command: 'ps' | 'pstree' | 'dump';
  pid: number;
  options: InspectOptions;
}

const POSITIVE = /^[1-9][0-9]{0,8}$/;

/** `argv` without the node and script paths; null when the full parser must decide. */
export function quickInspectArgs(argv: string[]): InspectCall | null {
  const [command, ...rest] = argv;
  if (command !== 'ps' && command !== 'pstree' && command !== 'dump') return null;
  const dump = command === 'dump';
  const options: InspectOptions = { maxTasks: DEFAULT_MAX_TASKS, maxFrames: DEFAULT_MAX_FRAMES };
  let pid: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--json' || arg === (dump ? '--locals' : '--wide')) {
      options[arg === '--json' ? 'json' : dump ? 'locals' : 'wide'] = true;
      continue;
    }
    if (arg === '--source' && !dump) {
      const v = rest[++i];
      const choice = SOURCE_CHOICES.find((c) => c === v);
      if (choice === undefined) return null;
      options.source = choice;
      continue;
    }
    const valued = arg === '--max-tasks' || arg === '--max-frames' || (arg === '--width' && !dump);
    if (valued) {
      const v = rest[++i];
      if (v === undefined || !POSITIVE.test(v) || (arg === '--width' && Number(v) < MIN_WIDTH)) return null;
      if (arg === '--max-tasks') options.maxTasks = Number(v);
      else if (arg === '--max-frames') options.maxFrames = Number(v);
      else options.width = Number(v);
      continue;
    }
    if (pid !== undefined || !POSITIVE.test(arg)) return null;
    pid = Number(arg);
  }
  // --wide with --width: the full parser refuses the pair.
  if (pid === undefined || (options.wide && options.width !== undefined)) return null;
  return { command, pid, options };
}
