"""``dlmkit teacher import`` and ``dlmkit.load_teacher`` on files written the way the official trainer writes them."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from click.testing import CliRunner

import dlmkit
from dlmkit.cli.main import cli
from dlmkit_diffuseq.model import TransformerNetModel
from dlmkit_diffuseq.params import DiffuSeqParams


def _official_folder(tmp_path: Path, params: DiffuSeqParams) -> tuple[Path, TransformerNetModel]:
    torch.manual_seed(0)
    live = TransformerNetModel(params)
    gen = torch.Generator().manual_seed(1)
    state = live.state_dict()
    for name, p in live.named_parameters():  # the trainer's EMA overwrite skips the tied lm_head.weight
        state[name] = p.detach() + torch.randn(p.shape, generator=gen)
    folder = tmp_path / "diffuseq_qqp_h128"
    folder.mkdir()
    torch.save(state, folder / "ema_0.9999_000100.pt")
    args = {
        "hidden_dim": params.embed_dim, "hidden_t_dim": params.hidden_t_dim, "seq_len": params.seq_len,
        "dropout": params.dropout, "diffusion_steps": params.num_timesteps, "vocab_size": params.vocab_size,
        "config_name": "custom-config",
    }  # fmt: skip
    (folder / "training_args.json").write_text(json.dumps(args))
    config = {
        "hidden_size": params.hidden_size, "num_hidden_layers": params.num_layers,
        "num_attention_heads": params.num_heads, "intermediate_size": params.intermediate_size,
    }  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config))
    return folder, live


def test_import_converts_an_official_folder_and_outputs_stay_equal(
    tmp_path: Path, small_params: DiffuSeqParams
) -> None:
    folder, _ = _official_folder(tmp_path, small_params)
    official = dlmkit.load_teacher(folder / "ema_0.9999_000100.pt")
    dest = tmp_path / "converted"
    result = CliRunner().invoke(cli, ["teacher", "import", str(folder), str(dest)])
    assert result.exit_code == 0, result.output
    assert "diffuseq" in result.output
    converted = dlmkit.load_teacher(dest)
    assert converted.training is False
    x = torch.randn(2, small_params.seq_len, small_params.embed_dim)
    t = torch.tensor([0, small_params.num_timesteps - 1])
    with torch.no_grad():
        assert torch.equal(official.denoise(x, t), converted.denoise(x, t))
        assert torch.equal(official.embedding_weight, converted.embedding_weight)
    inspect = CliRunner().invoke(cli, ["inspect", str(dest / "teacher.safetensors")])
    assert inspect.exit_code == 0 and "component: diffuseq" in inspect.output


def test_import_of_a_non_checkpoint_exits_2_without_traceback(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    result = CliRunner().invoke(cli, ["teacher", "import", str(bogus), str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no installed plugin reads this format" in result.output
    assert "Traceback" not in result.output
