// One error type for everything a user may see: a stable code that scripts and tests can match,
// and a message written for the person at the editor.

export enum ErrorCode {
  Internal = 1000,
  MalformedMessage = 1001,
  UnknownCommand = 1002,
  BadArguments = 1003,
  WrongState = 1004,
  ProgramNotFound = 1010,
  InterpreterNotFound = 1011,
  InterpreterTooOld = 1012,
  AgentFailed = 1013,
  AgentTimeout = 1014,
  AttachFailed = 1015,
  // Attach by process id (src/inject/, docs/attach.md): one code per thing the user must fix.
  AttachNoSuchProcess = 1060,
  AttachNotPython = 1061,
  AttachPythonUnsupported = 1062,
  AttachFreeThreaded = 1063,
  AttachNotPermitted = 1064,
  AttachRemoteDebugDisabled = 1065,
  AttachGdbMissing = 1066,
  AttachProcessExited = 1067,
  AttachNoResponse = 1068,
  AttachAlreadyAttached = 1069,
  AttachGdbUnusable = 1070,
  NotStopped = 1020,
  InvalidHandle = 1021,
  EvaluationFailed = 1022,
}

export class UserError extends Error {
  /**
   * @param showUser false where the client already shows the message in place (the debug
   * console, a watch), so it must not pop it up a second time.
   */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly showUser = true,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
