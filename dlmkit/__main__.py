"""``python -m dlmkit``: the CLI, also what ``torchrun -m dlmkit run ...`` starts in every rank."""

from dlmkit.cli.main import main

if __name__ == "__main__":
    main()
