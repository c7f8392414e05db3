"""The ``dlmkit`` command line.  Its threads wait quietly on a shared machine (``dlmkit.thread_policy``)."""

from dlmkit.thread_policy import quiet_openmp_spin

quiet_openmp_spin()  # before any command module imports torch
