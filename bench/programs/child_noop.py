# A child that only says when its first line ran: its cost is the interpreter's start (and
# the debugger's).
import time

print(time.time(), flush=True)
