"""A network no machine holds is refused from its sizes, before anything is allocated."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.errors import UserError
from dlmkit.storage.memory_budget import check_fits
from tests.test_pipeline import SHORT, TINY


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "teacher.embed_dim=1000000000",
            "GiB to train (weights, gradients and Adam's moments), more than this machine's",
        ),
        ("teacher.hidden_size=1000000000", "[teacher]: sizes too large to build"),
    ],
)
def test_a_teacher_too_large_for_the_machine_is_refused_before_allocation(
    tmp_path: Path, override: str, message: str
) -> None:
    args = ["run", str(TINY), "--output-dir", str(tmp_path / "run"), "--no-progress"]
    result = CliRunner().invoke(cli, [*args, *(a for o in [*SHORT, override] for a in ("--set", o))])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_the_check_counts_parameters_and_copies() -> None:
    with torch.device("meta"):
        net = torch.nn.Linear(1000, 1000)  # 1,001,000 parameters: 4.0 MB in fp32
    check_fits(net, "net", copies=1, memory=5_000_000)
    with pytest.raises(UserError, match="1,001,000 parameters"):
        check_fits(net, "net", copies=4, memory=5_000_000)
