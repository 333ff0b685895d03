# A child that does nothing: its cost is the interpreter's start (and the debugger's).
