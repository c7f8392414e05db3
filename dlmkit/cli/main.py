"""Entry point of the ``dlmkit`` console script: the group with every built-in command attached."""

from __future__ import annotations

from dlmkit.cli.app import cli
from dlmkit.cli.bench_command import bench_command
from dlmkit.cli.components_command import components_command
from dlmkit.cli.eval_command import make_eval_command
from dlmkit.cli.export_command import export_command
from dlmkit.cli.generate_command import generate_command
from dlmkit.cli.inspect_command import inspect_command
from dlmkit.cli.plot_command import plot_command
from dlmkit.cli.plugins_command import plugins_command
from dlmkit.cli.run_command import run_command
from dlmkit.cli.sample_command import sample_command
from dlmkit.cli.show_command import show_command
from dlmkit.cli.teacher_command import teacher_group
from dlmkit.cli.validate_command import validate_command

for command in (
    run_command,
    validate_command,
    show_command,
    plugins_command,
    components_command,
    inspect_command,
    teacher_group,
    make_eval_command(),
    sample_command,
    generate_command,
    export_command,
    bench_command,
    plot_command,
):
    cli.add_command(command)


def main() -> None:
    from dlmkit.engine.launch import inside_torchrun

    if inside_torchrun():  # let torchrun report this rank's exception
        from torch.distributed.elastic.multiprocessing.errors import record

        record(cli)(prog_name="dlmkit")
    else:
        cli(prog_name="dlmkit")


if __name__ == "__main__":
    main()
