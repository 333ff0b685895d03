// The read limits' defaults, defined once: the CLI's option parser (which must load fast, so
// imports nothing else) and the readers share them.
export const DEFAULT_MAX_TASKS = 200_000;
export const DEFAULT_MAX_FRAMES = 256;
