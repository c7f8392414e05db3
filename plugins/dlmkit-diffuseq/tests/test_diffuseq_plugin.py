"""The plugin as dlmkit sees it: an installed entry point whose hooks register and load the teacher."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy
import torch

import dlmkit.hookspecs
from dlmkit_diffuseq import plugin
from dlmkit_diffuseq.params import DiffuSeqParams
from dlmkit_diffuseq.teacher import DiffuSeqTeacher


def test_entry_point_is_installed_in_the_dlmkit_group() -> None:
    found = [ep for ep in entry_points(group="dlmkit") if ep.name == "diffuseq"]
    assert len(found) == 1 and found[0].value == "dlmkit_diffuseq.plugin"
    assert found[0].load() is plugin
    assert found[0].dist is not None and found[0].dist.metadata["Name"] == "dlmkit-diffuseq"


def manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("dlmkit")
    pm.add_hookspecs(dlmkit.hookspecs)
    pm.register(plugin, name="diffuseq")
    pm.check_pending()
    return pm


def test_register_teachers_registers_diffuseq_with_its_params() -> None:
    calls: list[tuple[str, Any, dict[str, Any]]] = []

    def register(name: str, factory: Any, **kwargs: Any) -> None:
        calls.append((name, factory, kwargs))

    manager().hook.register_teachers(register=register)
    assert len(calls) == 1
    name, factory, kwargs = calls[0]
    assert name == "diffuseq" and kwargs["params"] is DiffuSeqParams and kwargs["summary"]
    params = DiffuSeqParams(embed_dim=4, hidden_t_dim=4, seq_len=6, hidden_size=8, num_layers=1, num_heads=2,
                            intermediate_size=8, max_position=8)  # fmt: skip
    teacher = factory(params, vocab_size=12, seq_len=6)
    assert isinstance(teacher, DiffuSeqTeacher) and teacher.vocab_size == 12


def test_load_teacher_checkpoint_hook_answers_through_pluggy(tmp_path: Path, small_params: DiffuSeqParams) -> None:
    pm = manager()
    assert pm.hook.load_teacher_checkpoint(path=tmp_path / "nothing.safetensors") is None
    torch.save(DiffuSeqTeacher(small_params).state_dict(), tmp_path / "ema_0.9999_000010.pt")
    loaded = pm.hook.load_teacher_checkpoint(path=tmp_path)
    assert isinstance(loaded, DiffuSeqTeacher) and loaded.embed_dim == 8


def test_importing_the_plugin_module_does_not_import_the_network_code() -> None:
    import subprocess
    import sys

    code = "import sys, dlmkit_diffuseq.plugin; print('dlmkit_diffuseq.model' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
