"""Loading official DiffuSeq checkpoints: tie/EMA semantics, sizes, safety and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
import torch
from torch import Tensor

from dlmkit.errors import CheckpointError
from dlmkit_diffuseq import plugin
from dlmkit_diffuseq.model import TransformerNetModel
from dlmkit_diffuseq.official import load_official
from dlmkit_diffuseq.params import DiffuSeqParams
from dlmkit_diffuseq.teacher import DiffuSeqTeacher


def ema_values(model: TransformerNetModel, seed: int) -> dict[str, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {n: p.detach() + torch.randn(p.shape, generator=gen) for n, p in model.named_parameters()}


def save_like_official_trainer(live: TransformerNetModel, ema: dict[str, Tensor], path: Path) -> None:
    """``TrainLoop._master_params_to_state_dict`` then ``th.save``: EMA for every *named* parameter."""
    state = live.state_dict()
    for name, _ in live.named_parameters():  # de-duplicated: has word_embedding.weight, not lm_head.weight
        state[name] = ema[name]
    torch.save(state, path)


def training_args(params: DiffuSeqParams, **overrides: object) -> dict[str, object]:
    args: dict[str, object] = {
        "lr": 1e-4, "batch_size": 2048, "microbatch": 64, "learning_steps": 50000, "ema_rate": "0.9999",
        "diffusion_steps": params.num_timesteps, "noise_schedule": "sqrt", "timestep_respacing": "",
        "vocab": "bert", "use_plm_init": "no", "vocab_size": params.vocab_size, "config_name": "bert-base-uncased",
        "seq_len": params.seq_len, "hidden_t_dim": params.hidden_t_dim, "hidden_dim": params.embed_dim,
        "dropout": params.dropout, "learn_sigma": False, "predict_xstart": True, "rescale_timesteps": True,
    }  # fmt: skip
    args.update(overrides)
    return args


def hf_config(params: DiffuSeqParams) -> dict[str, object]:
    return {
        "architectures": ["BertForMaskedLM"], "model_type": "bert", "hidden_act": "gelu",
        "hidden_size": params.hidden_size, "num_hidden_layers": params.num_layers,
        "num_attention_heads": params.num_heads, "intermediate_size": params.intermediate_size,
        "hidden_dropout_prob": params.dropout, "attention_probs_dropout_prob": params.attention_dropout,
        "max_position_embeddings": params.max_position, "layer_norm_eps": params.layer_norm_eps, "vocab_size": 30522,
    }  # fmt: skip


@pytest.fixture
def trained(small_params: DiffuSeqParams) -> tuple[TransformerNetModel, dict[str, Tensor]]:
    torch.manual_seed(0)
    live = TransformerNetModel(small_params)
    return live, ema_values(live, seed=1)


def test_tied_embedding_takes_the_files_live_lm_head_weight(
    tmp_path: Path, trained: tuple[TransformerNetModel, dict[str, Tensor]]
) -> None:
    live, ema = trained
    path = tmp_path / "ema_0.9999_000100.pt"
    save_like_official_trainer(live, ema, path)
    raw = torch.load(path, weights_only=True)
    assert not torch.equal(raw["word_embedding.weight"], raw["lm_head.weight"])  # the quirk is in the file

    teacher = load_official(path)

    assert teacher.word_embedding.weight is teacher.lm_head.weight
    torch.testing.assert_close(teacher.embedding_weight, live.word_embedding.weight, rtol=0, atol=0)  # live
    torch.testing.assert_close(teacher.lm_head.bias, ema["lm_head.bias"], rtol=0, atol=0)  # EMA
    for name, _ in live.named_parameters():
        if name != "word_embedding.weight":
            torch.testing.assert_close(teacher.get_parameter(name), ema[name], rtol=0, atol=0)
    assert not teacher.training


def test_loading_matches_what_pytorch_load_state_dict_does_in_the_official_sampler(
    tmp_path: Path, small_params: DiffuSeqParams, trained: tuple[TransformerNetModel, dict[str, Tensor]]
) -> None:
    live, ema = trained
    path = tmp_path / "ema_0.9999_000100.pt"
    save_like_official_trainer(live, ema, path)
    reference = TransformerNetModel(small_params)
    reference.load_state_dict(torch.load(path, weights_only=True))  # module-by-module copy: lm_head last
    teacher = load_official(path)
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(teacher.state_dict()[key], value, rtol=0, atol=0, msg=key)


def test_folder_picks_highest_step_and_reads_training_args_and_config_json(
    tmp_path: Path, small_params: DiffuSeqParams, trained: tuple[TransformerNetModel, dict[str, Tensor]]
) -> None:
    params = attrs.evolve(small_params, num_timesteps=100, dropout=0.2, attention_dropout=0.05, layer_norm_eps=1e-6)
    live, ema = trained
    save_like_official_trainer(live, ema, tmp_path / "ema_0.9999_100.pt")
    save_like_official_trainer(live, ema_values(live, seed=7), tmp_path / "ema_0.9999_99.pt")
    (tmp_path / "training_args.json").write_text(json.dumps(training_args(params)))
    (tmp_path / "config.json").write_text(json.dumps(hf_config(attrs.evolve(params, dropout=0.0))))

    teacher = load_official(tmp_path)

    assert attrs.evolve(teacher.config, dropout=0.2) == attrs.evolve(params, init_encoder="none")
    assert teacher.config.dropout == 0.0  # config.json's hidden_dropout_prob takes precedence
    assert (teacher.num_timesteps, teacher.seq_len, teacher.embed_dim, teacher.vocab_size) == (100, 10, 8, 40)
    torch.testing.assert_close(teacher.lm_head.bias, ema["lm_head.bias"], rtol=0, atol=0)  # step 100, not 99
    assert plugin.load_teacher_checkpoint(tmp_path) is not None


def test_config_name_bert_base_means_bert_base_sizes(
    tmp_path: Path, small_params: DiffuSeqParams, trained: tuple[TransformerNetModel, dict[str, Tensor]]
) -> None:
    live, ema = trained
    save_like_official_trainer(live, ema, tmp_path / "ema_0.9999_000100.pt")
    (tmp_path / "training_args.json").write_text(json.dumps(training_args(small_params)))
    with pytest.raises(CheckpointError) as caught:
        load_official(tmp_path)  # no config.json: BERT-base is 768 wide, the file is 16 wide
    message = str(caught.value)
    assert "ema_0.9999_000100.pt" in message
    assert "built from training_args.json beside it (embed_dim 8, hidden_size 768, num_layers 12" in message
    assert "key 'time_embed.2.weight' has shape [16, 24], expected [768, 24]" in message


def test_without_training_args_sizes_come_from_the_shapes(tmp_path: Path) -> None:
    params = DiffuSeqParams(embed_dim=6, hidden_t_dim=4, hidden_size=24, num_layers=3, num_heads=12,
                            intermediate_size=20, max_position=40, seq_len=40, vocab_size=17, dropout=0.0)  # fmt: skip
    source = DiffuSeqTeacher(params).eval()
    path = tmp_path / "my_model.pt"
    torch.save(source.state_dict(), path)

    teacher = load_official(path)

    expected = attrs.evolve(params, dropout=0.1, num_timesteps=2000)  # not in the shapes: defaults
    assert teacher.config == expected
    x, t = torch.randn(2, 5, 6), torch.tensor([3, 1999])
    torch.testing.assert_close(teacher.denoise(x, t), source.denoise(x, t))


def test_module_prefix_is_removed(tmp_path: Path, trained: tuple[TransformerNetModel, dict[str, Tensor]]) -> None:
    live, _ = trained
    path = tmp_path / "ema_0.9999_000001.pt"
    torch.save({f"module.{k}": v for k, v in live.state_dict().items()}, path)
    teacher = load_official(path)
    torch.testing.assert_close(teacher.lm_head.bias, live.lm_head.bias, rtol=0, atol=0)


def test_mis_shaped_key_names_the_key_and_expected_shape(
    tmp_path: Path, trained: tuple[TransformerNetModel, dict[str, Tensor]]
) -> None:
    live, _ = trained
    state = live.state_dict()
    state["output_down_proj.2.weight"] = torch.zeros(9, 16)
    path = tmp_path / "ema_0.9999_000001.pt"
    torch.save(state, path)
    with pytest.raises(
        CheckpointError, match=r"key 'output_down_proj\.2\.weight' has shape \[9, 16\], expected \[8, 16\]"
    ):
        load_official(path)


def test_missing_and_unexpected_keys_are_named(
    tmp_path: Path, trained: tuple[TransformerNetModel, dict[str, Tensor]]
) -> None:
    live, _ = trained
    state = live.state_dict()
    del state["lm_head.bias"]
    state["extra.weight"] = torch.zeros(2)
    path = tmp_path / "ema_0.9999_000001.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as caught:
        load_official(path)
    assert "missing key 'lm_head.bias' (expected shape [40])" in str(caught.value)
    assert "unexpected key 'extra.weight'" in str(caught.value)


def test_v2_checkpoint_is_refused_clearly(
    tmp_path: Path, trained: tuple[TransformerNetModel, dict[str, Tensor]]
) -> None:
    live, _ = trained
    state = live.state_dict()
    state["mean_embed"] = torch.zeros(8)
    path = tmp_path / "ema_0.9999_000001.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"DiffuSeq-v2 model .* not supported"):
        load_official(path)


def _write_marker(path: str) -> None:
    Path(path).write_text("code ran")


class _Malicious:
    """Unpickling this calls ``_write_marker``: what a hostile checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (_write_marker, (str(self.marker),))


def test_pickle_that_would_run_code_is_refused(tmp_path: Path, small_params: DiffuSeqParams) -> None:
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "ema_0.9999_000001.pt"
    state: dict[str, object] = dict(TransformerNetModel(small_params).state_dict())
    state["payload"] = _Malicious(marker)
    torch.save(state, path)

    with pytest.raises(CheckpointError) as caught:
        load_official(path)
    assert str(path) in str(caught.value) and "could run code" in str(caught.value)
    assert not marker.exists()
    with pytest.raises(CheckpointError):
        plugin.load_teacher_checkpoint(path)
    assert not marker.exists()

    torch.load(path, weights_only=False)  # the premise: an unsafe load really runs the payload
    assert marker.read_text() == "code ran"


def test_unreadable_and_missing_files_raise_checkpoint_error(tmp_path: Path) -> None:
    broken = tmp_path / "ema_0.9999_000001.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable torch checkpoint"):
        load_official(broken)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_official(tmp_path / "absent.pt")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match=r"no ema_\*\.pt checkpoint"):
        load_official(empty)


def test_hook_declines_files_that_are_not_diffuseq(tmp_path: Path) -> None:
    other = tmp_path / "other.pt"
    torch.save({"weight": torch.zeros(3)}, other)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    (tmp_path / "empty").mkdir()
    assert plugin.load_teacher_checkpoint(other) is None
    assert plugin.load_teacher_checkpoint(text) is None
    assert plugin.load_teacher_checkpoint(tmp_path / "empty") is None
    assert plugin.load_teacher_checkpoint(tmp_path / "absent.pt") is None


def test_hook_loads_a_renamed_diffuseq_state_dict(tmp_path: Path, small_params: DiffuSeqParams) -> None:
    path = tmp_path / "renamed.pt"
    torch.save(DiffuSeqTeacher(small_params).state_dict(), path)
    teacher = plugin.load_teacher_checkpoint(path)
    assert isinstance(teacher, DiffuSeqTeacher) and teacher.vocab_size == 40


def test_a_checkpoint_without_an_embedding_table_is_a_named_error(
    tmp_path: Path, trained: tuple[TransformerNetModel, dict[str, Tensor]]
) -> None:
    live, ema = trained
    path = tmp_path / "ema_0.9999_000100.pt"
    save_like_official_trainer(live, ema, path)
    state = torch.load(path, weights_only=True)
    torch.save({k: v for k, v in state.items() if k not in ("lm_head.weight", "word_embedding.weight")}, path)
    with pytest.raises(CheckpointError, match=r"ema_0\.9999_000100\.pt: no embedding table"):
        load_official(path)


def test_integer_weights_are_refused_but_integer_buffers_are_read(
    tmp_path: Path, trained: tuple[TransformerNetModel, dict[str, Tensor]]
) -> None:
    live, _ = trained
    state = live.state_dict()
    assert any(not v.is_floating_point() for v in state.values())  # position_ids: an int buffer the official has
    path = tmp_path / "ema_0.9999_000001.pt"
    torch.save(state, path)
    load_official(path)
    state["output_down_proj.2.weight"] = (state["output_down_proj.2.weight"] * 100).to(torch.int32)
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"tensor 'output_down_proj\.2\.weight' is torch.int32, not floating"):
        load_official(path)
