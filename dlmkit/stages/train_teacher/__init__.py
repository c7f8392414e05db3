"""The ``train_teacher`` stage kind in one folder: its table (``params``), the stage (``stage``) and its
runner (``runner``)."""
