"""Built-in distillation objectives: SiD, the adversarial term, DLM-One's SiD+GAN, DMD2 and a plain GAN."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.objectives.adversarial import Adversarial, AdversarialParams, build_adversarial
from dlmkit.objectives.dmd import Dmd, DmdParams, build_dmd
from dlmkit.objectives.gan import Gan, GanParams, build_gan
from dlmkit.objectives.sid import Sid, SidParams, build_sid
from dlmkit.objectives.sid_gan import SidGan, SidGanParams, build_sid_gan

__all__ = [
    "Adversarial",
    "AdversarialParams",
    "Dmd",
    "DmdParams",
    "Gan",
    "GanParams",
    "Sid",
    "SidGan",
    "SidGanParams",
    "SidParams",
    "register_objectives",
]


@hookimpl
def register_objectives(register: Register) -> None:
    register("sid", build_sid, params=SidParams, summary="Score identity Distillation: SiD generator loss, DSM for psi")
    register(
        "adversarial",
        build_adversarial,
        params=AdversarialParams,
        summary="psi as a Diffusion-GAN discriminator on real pairs vs generated samples (SiDA style)",
    )
    register(
        "sid_gan",
        build_sid_gan,
        params=SidGanParams,
        summary="DLM-One: SiD + adversarial term with psi as score network and discriminator",
    )
    register(
        "dmd",
        build_dmd,
        params=DmdParams,
        summary="DMD2 distribution matching with a two time-scale update rule and an optional GAN term",
    )
    register(
        "gan",
        build_gan,
        params=GanParams,
        summary="stand-alone adversarial distillation; psi keeps its DSM loss (DMD2 gan_alone)",
    )
