"""IPython kernel profile for the notebook and browser tests: no ANSI colours in tracebacks.

The tests point IPYTHONDIR at a copy of tests/ipython_config, so kernel tracebacks in CI logs
are plain text (NO_COLOR=1 does not do this). IPython runs this file with ``c`` (the config)
already defined; pytest's --doctest-modules merely imports it, without ``c``.
"""

config = globals().get("c")
if config is not None:
    config.InteractiveShell.colors = "nocolor"
