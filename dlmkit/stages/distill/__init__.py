"""The ``distill`` stage kind in one folder: its table (``params``), the stage (``stage``), its runner
and the runner's parts (the networks' ``state``, one ``update``, ``validation`` and the kept student)."""
