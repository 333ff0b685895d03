"""A small program for the launch-to-first-breakpoint benchmark."""
import json


def greet(name):
    message = f"hello {name}"
    return message  # BREAK_LINE


print(json.dumps(greet("bench")))
