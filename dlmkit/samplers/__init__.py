"""Built-in samplers (one file each) and their registration hook."""

from __future__ import annotations

from dlmkit.hookspecs import Register, hookimpl
from dlmkit.samplers.ancestral import AncestralParams, AncestralSampler
from dlmkit.samplers.ddim import DDIMParams, DDIMSampler
from dlmkit.samplers.ddim_gap import DDIMGapParams, DDIMGapSampler
from dlmkit.samplers.dpm_solver_pp import DPMSolverPPParams, DPMSolverPPSampler
from dlmkit.samplers.noise import RecordingNoise, ReplayNoise, SeededNoise
from dlmkit.samplers.one_step import OneStepParams, OneStepSampler
from dlmkit.samplers.student_multistep import StudentMultistepParams, StudentMultistepSampler

__all__ = [
    "AncestralParams",
    "AncestralSampler",
    "DDIMGapParams",
    "DDIMGapSampler",
    "DDIMParams",
    "DDIMSampler",
    "DPMSolverPPParams",
    "DPMSolverPPSampler",
    "OneStepParams",
    "OneStepSampler",
    "RecordingNoise",
    "ReplayNoise",
    "SeededNoise",
    "StudentMultistepParams",
    "StudentMultistepSampler",
    "register_samplers",
]


@hookimpl
def register_samplers(register: Register) -> None:
    register("one_step", OneStepSampler, params=OneStepParams, summary="DLM-One student: one call at t_init (default)")
    register(
        "student_multistep",
        StudentMultistepSampler,
        params=StudentMultistepParams,
        summary="one-step student re-noised and denoised again, steps calls (DLM-One Table 4)",
    )
    register(
        "ancestral",
        AncestralSampler,
        params=AncestralParams,
        summary="DiffuSeq's official p_sample loop with rounding (teacher, T steps)",
    )
    register(
        "ddim_gap",
        DDIMGapSampler,
        params=DDIMGapParams,
        summary="DiffuSeq's official --step decoding: DDIM with a gap, quirks replicated",
    )
    register("ddim", DDIMSampler, params=DDIMParams, summary="correct DDIM over evenly spaced steps, ending at t = 0")
    register(
        "dpm_solver_pp",
        DPMSolverPPSampler,
        params=DPMSolverPPParams,
        summary="DiffuSeq-v2 DPM-Solver++ (2M, time-uniform, no rounding)",
    )
